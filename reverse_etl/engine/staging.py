"""Syncs on Spark: the source read from Spark as Arrow, staged into the DuckDB state file.

Spark's Parquet tables have no multi-statement transactions, so on
CDP_TARGET=spark the engine keeps `reverse_etl.sync_state`, `sync_outbox`,
`sync_runs` and `sync_rejections` in a DuckDB file of their own
(`CDP_SYNC_STATE_PATH`, default `<CDP_SPARK_DIR>/sync_state.duckdb`) and, at
each run, copies in what the sync reads:

    the source relation      only the columns the sync maps (primary key,
                             customer key, each field's source column)
    the consent relation     customer key and the purpose's column (when the
                             sync has a consent_purpose)
    the suppression relation customer key (when one is declared)
    privacy.erasure_log      customer_hashes (when it exists in Spark)

Each is read with one Spark query through the warehouse-access layer
(`Warehouse.arrow`: record batches, no Python rows) and written into an
in-memory DuckDB database attached under the relation's schema name, so
`marts.segment_x` in the diff's SQL is the staged copy and the diff
(engine/diff.py) is the same SQL as on DuckDB: joins in DuckDB, not loops in
Python. The payload text, and so its hash in the state, is then exactly
DuckDB's.

Why the staged copies cannot double or lose a row: they live in this process's
memory only and are never committed anywhere. A crash while staging or diffing
leaves the state file as the last committed batch left it (state.py's ordering
rules); the next run reconciles any outbox batch first, then stages the source
afresh and diffs it against the state the destination acknowledged. Nothing of
the source outlives the run, so no customer data is left behind in the state
file beyond what the state itself holds.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from cdp.warehouse import WarehouseError, connect_duckdb, one_line
from reverse_etl.config import SyncDefinition
from reverse_etl.engine.db import DuckDBSyncDatabase, SparkTarget, StatementError
from reverse_etl.engine.schema import SCHEMA
from reverse_etl.engine.sql import quote
from reverse_etl.errors import SourceError
from reverse_etl.privacy import ERASURE_LOG

if TYPE_CHECKING:
    import duckdb

# Names DuckDB gives its own catalogs and schemas, which a staged schema cannot take.
_RESERVED = frozenset({"main", "temp", "system", "memory", SCHEMA})


class StagedSyncDatabase(DuckDBSyncDatabase):
    """The DuckDB state file of syncs on Spark, with the sources staged from Spark."""

    def __init__(self, con: duckdb.DuckDBPyConnection, target: SparkTarget) -> None:
        super().__init__(con, str(target.state_path))
        self.spark = target.spark()
        self._spark_relations: set[str] | None = None
        self._attached: set[str] = set()

    @classmethod
    def open_state(cls, target: SparkTarget) -> StagedSyncDatabase:
        """The state file (waiting for another process's lock), then the Spark session:
        either failing is one line before anything is read or written."""
        con = connect_duckdb(target.state_path)
        try:
            return cls(con, target)
        except BaseException:
            con.close()
            raise

    def spark_relations(self) -> set[str]:
        """Lower-cased schema.table of every table and view in the Spark catalog."""
        if self._spark_relations is None:
            try:
                found = self.spark.relations()
            except Exception as exc:  # py4j errors have no common base
                raise WarehouseError(f"{self.spark.description}: {one_line(exc)}") from exc
            self._spark_relations = {f"{s}.{t}".lower() for s, t in found}
        return self._spark_relations

    def relations(self) -> set[str]:
        """The Spark catalog's relations (what the sync reads) and the state schema's."""
        own = {r for r in super().relations() if r.startswith(f"{SCHEMA}.")}
        return self.spark_relations() | own

    def stage(self, sync: SyncDefinition) -> None:
        if sync.source.lower() not in self.spark_relations():
            raise SourceError(
                f"sync '{sync.name}': cannot read source {sync.source}: no such table in "
                f"{self.spark.description} (build it first)"
            )
        for relation, columns in needed_columns(sync, self.spark_relations()).items():
            self._stage_relation(sync, relation, columns)

    def _stage_relation(self, sync: SyncDefinition, relation: str, columns: list[str]) -> None:
        schema, table = relation.split(".", 1)
        if schema.lower() in _RESERVED or schema.lower() == self._catalog().lower():
            raise SourceError(
                f"sync '{sync.name}': {relation} cannot be staged on spark: schema {schema} "
                "is a name the state file uses"
            )
        select = ", ".join(quote(c) for c in columns)
        try:
            data = self.spark.arrow(f"select {select} from {quote(schema)}.{quote(table)}")
        except WarehouseError as exc:
            problem = f"sync '{sync.name}': cannot read {relation} from spark: {exc}"
            raise SourceError(problem) from exc
        if schema not in self._attached:
            self.execute(f"attach if not exists ':memory:' as {quote(schema)}")
            self._attached.add(schema)
        self.con.register("retl_staged_arrow", data)
        try:
            self.execute(
                f"create or replace table {quote(schema)}.{quote(table)} as "
                "select * from retl_staged_arrow"
            )
        except StatementError as exc:
            raise SourceError(f"sync '{sync.name}': cannot stage {relation}: {exc}") from exc
        finally:
            self.con.unregister("retl_staged_arrow")

    def _catalog(self) -> str:
        row = self.one("select current_database()")
        return str(row[0]) if row else ""

    def staged_rows(self, relation: str) -> int:
        """Rows of a staged relation (for tests and the benchmark)."""
        schema, table = relation.split(".", 1)
        row = self.one(f"select count(*) from {quote(schema)}.{quote(table)}")
        return int(row[0]) if row else 0


def needed_columns(sync: SyncDefinition, existing: set[str]) -> dict[str, list[str]]:
    """relation -> the columns the diff reads from it, for the relations in `existing`
    (lower-cased schema.table). A missing gate relation is left to the diff, which
    names it (reverse_etl.privacy.missing_relations)."""
    source = {sync.primary_key, sync.customer_column}
    source.update(mapping.source for mapping in sync.fields.values())
    needed: dict[str, set[str]] = {sync.source: source}
    privacy = sync.privacy
    if privacy.suppression is not None:
        needed.setdefault(privacy.suppression.relation, set()).add(privacy.suppression.customer_key)
    if sync.consent_purpose is not None:
        consent = privacy.consent
        needed.setdefault(consent.relation, set()).update(
            {consent.customer_key, consent.purposes[sync.consent_purpose].column}
        )
    if ERASURE_LOG in existing:
        needed.setdefault(ERASURE_LOG, set()).add("customer_hashes")
    return {
        relation: sorted(columns)
        for relation, columns in needed.items()
        if relation.lower() in existing
    }
