"""PostgreSQL client: each batch is one transaction that also writes a ledger row.

Table `<schema>.<table>` (created if missing; mapped columns added if missing):

    <key_column> text primary key, <field> text ..., _synced_at timestamptz,
    _cdp_batch_id text

Ledger `<schema>._cdp_sync_batches` (created if missing, shared by the syncs
writing into the schema): batch_id (primary key), sync_name, target_table,
phase, mode, rows_written, rejected (jsonb: key -> {reason, retryable}),
applied_at. Entries older than `ledger_retention_days` are pruned.

Per batch, in one transaction: insert the ledger row (ON CONFLICT DO NOTHING:
a batch id already there means the batch was applied, and nothing is written
again), apply the rows, store the per-row rejections in the ledger row,
commit. The ledger row commits exactly when the rows do, so `reconcile` tells
an applied batch from one that was not by reading the ledger: exactly once,
with no guessing. A connection lost during the transaction (or its commit)
raises AmbiguousDeliveryError and the engine reconciles.

Modes: audience and mirror upsert adds and changes and delete removes; upsert
upserts; insert-only inserts keys not present (ON CONFLICT DO NOTHING);
update-only updates existing rows and rejects (retryably) keys that have none.
An erasure (Phase.ERASE, an erased person's key) deletes the key's row in every
mode; PostgreSQL reclaims the dead tuple at the table's next (auto)vacuum.
Values are written as text: strings as they are, other JSON values as JSON.
Text containing a NUL character cannot be stored by PostgreSQL: such a row is
rejected, terminally for that content.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Sequence
from contextlib import suppress
from typing import Any, TypeVar

from reverse_etl.batch import Batch, BatchOutcome, Mode, Phase, Rejection, Row, SyncContext
from reverse_etl.destinations.base import Destination
from reverse_etl.destinations.postgres.config import LEDGER_TABLE, PostgresSettings
from reverse_etl.errors import (
    AmbiguousDeliveryError,
    AuthError,
    BatchRejectedError,
    ConfigError,
    DestinationError,
)

try:
    import psycopg2
    import psycopg2.errors
    import psycopg2.extensions
    import psycopg2.extras
    from psycopg2 import sql

    HAVE_PSYCOPG2 = True
except ImportError:  # the `postgres` extra is not installed
    HAVE_PSYCOPG2 = False

T = TypeVar("T")
SYNCED_AT = "_synced_at"
BATCH_ID = "_cdp_batch_id"
TABLE_PRIVILEGES = ("SELECT", "INSERT", "UPDATE", "DELETE")
_AUTH_MARKERS = (
    "password authentication failed",
    "no password supplied",
    "authentication failed",
    "pg_hba.conf",
    'role "',  # role "x" does not exist
)
_UNREACHABLE_MARKERS = (
    "could not connect",
    "connection refused",
    "timeout expired",
    "could not translate host name",
    "server closed the connection",
    "the database system is starting up",
    "the database system is shutting down",
)


def text(value: Any) -> str | None:
    """A payload value as text: strings as they are, other JSON values as JSON."""
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True)


def _server_message(exc: Exception) -> str:
    """The useful line of a libpq/server error ('FATAL:  ...' or the first line)."""
    message = str(exc).strip()
    for line in message.splitlines():
        if "FATAL:" in line:
            return line.split("FATAL:", 1)[1].strip()
    return message.splitlines()[0].strip() if message else type(exc).__name__


class PostgresDestination(Destination):
    settings_class = PostgresSettings

    def __init__(self, settings: PostgresSettings, context: SyncContext) -> None:
        super().__init__(settings, context)
        self.settings: PostgresSettings = settings
        if not HAVE_PSYCOPG2:
            raise ConfigError(
                f"{context.label}: postgres destination: psycopg2 is not installed "
                "(pip install 'cdp[postgres]')"
            )
        self._dsn = settings.resolve_secret("dsn_env", context.sync_name)
        self._secret_label = settings.secret_label("dsn_env")
        try:
            self._params = psycopg2.extensions.parse_dsn(self._dsn.get_secret_value())
        except psycopg2.ProgrammingError:
            raise ConfigError(
                f"{context.label}: postgres destination: {self._secret_label}: not a valid "
                "libpq connection string (key=value ...) or postgresql:// URI"
            ) from None
        self._con: Any = None
        self._statements = 0
        self._prepared = False
        self._fields = list(context.fields)
        self._table = sql.Identifier(settings.table_schema, settings.table)
        self._ledger = sql.Identifier(settings.table_schema, LEDGER_TABLE)
        self._key = sql.Identifier(settings.key_column)

    @property
    def request_count(self) -> int:
        """Connection attempts and SQL statements (commits included) sent to the server."""
        return self._statements

    # -- connection and errors -----------------------------------------------------------
    def _where(self) -> str:
        p = self._params
        host = p.get("host") or p.get("hostaddr") or "local socket"
        return f"{host}:{p.get('port') or 5432}/{p.get('dbname') or p.get('user') or ''}"

    def _scrub(self, message: str) -> str:
        """Remove the DSN and its password from a message (libpq does not echo them,
        but a message must never be the way a secret leaks)."""
        for secret in (self._dsn.get_secret_value(), self._params.get("password")):
            if secret:
                message = message.replace(secret, "***")
        return message

    def _connect_error(self, exc: Exception) -> DestinationError:
        detail = self._scrub(_server_message(exc))
        lowered = detail.lower()
        if any(marker in lowered for marker in _AUTH_MARKERS):
            return AuthError(self.label, self._secret_label, detail)
        if "does not exist" in lowered:  # database "x" does not exist
            return DestinationError(self.label, f"{detail}; check {self._secret_label}")
        return DestinationError(
            self.label, f"cannot connect to {self._where()} ({detail}); check {self._secret_label}"
        )

    def _connect(self) -> Any:
        if self._con is not None and not self._con.closed:
            return self._con
        retry = self.settings.retry
        kwargs: dict[str, Any] = {
            "connect_timeout": max(2, math.ceil(retry.connect_timeout_seconds))
        }
        if "application_name" not in self._params:
            kwargs["application_name"] = "cdp-reverse-etl"
        for attempt in range(1, retry.max_attempts + 1):
            self._statements += 1
            try:
                con = psycopg2.connect(self._dsn.get_secret_value(), **kwargs)
                break
            except psycopg2.OperationalError as exc:
                error = self._connect_error(exc)
                unreachable = any(m in str(exc).lower() for m in _UNREACHABLE_MARKERS)
                if isinstance(error, AuthError) or not unreachable or attempt == retry.max_attempts:
                    raise error from None
            time.sleep(retry.backoff(attempt))
        try:
            with con.cursor() as cur:
                timeout_ms = int(retry.read_timeout_seconds * 1000)
                cur.execute("set statement_timeout = %s", (timeout_ms,))
                cur.execute("set timezone = 'UTC'")
            con.commit()
        except psycopg2.Error as exc:
            with suppress(psycopg2.Error):
                con.close()
            raise self._connect_error(exc) from None
        self._statements += 3
        self._con = con
        return con

    def _drop_connection(self) -> None:
        if self._con is not None:
            with suppress(psycopg2.Error):
                self._con.close()
        self._con = None
        self._prepared = False

    def _db_error(self, exc: Exception, what: str) -> DestinationError:
        detail = self._scrub(_server_message(exc))
        if isinstance(exc, psycopg2.errors.InsufficientPrivilege):
            return DestinationError(
                self.label,
                f"table: {what}: {detail}; the user needs SELECT, INSERT, UPDATE, DELETE on "
                f"{self.settings.qualified_table} and {self.settings.table_schema}."
                f"{LEDGER_TABLE} (and CREATE on the schema to create them)",
            )
        if isinstance(exc, psycopg2.OperationalError | psycopg2.InterfaceError):
            # Connection lost, statement timeout, deadlock: the transaction may or may
            # not have committed; the ledger tells.
            self._drop_connection()
            return AmbiguousDeliveryError(self.label, f"{what}: {detail}")
        return BatchRejectedError(self.label, f"{what} refused: {detail}")

    def _exec(self, cur: Any, query: Any, params: Sequence[Any] | None = None) -> None:
        self._statements += 1
        cur.execute(query, params)

    def _transaction(self, work: Callable[[Any], T], what: str) -> T:
        """Run `work(cursor)` in one transaction and commit; psycopg2 errors become
        destination errors (connection problems: AmbiguousDeliveryError)."""
        con = self._connect()
        try:
            with con.cursor() as cur:
                result = work(cur)
            self._statements += 1
            con.commit()
            return result
        except psycopg2.Error as exc:
            with suppress(psycopg2.Error):
                con.rollback()
            raise self._db_error(exc, what) from None
        except BaseException:
            with suppress(psycopg2.Error):
                con.rollback()
            raise

    # -- table and ledger ---------------------------------------------------------------
    def _columns(self, cur: Any, table: str) -> set[str]:
        self._exec(
            cur,
            """select a.attname from pg_attribute a
               join pg_class c on c.oid = a.attrelid
               join pg_namespace n on n.oid = c.relnamespace
               where n.nspname = %s and c.relname = %s and a.attnum > 0 and not a.attisdropped""",
            (self.settings.table_schema, table),
        )
        return {name for (name,) in cur.fetchall()}

    def _key_is_unique(self, cur: Any) -> bool:
        self._exec(
            cur,
            """select exists (
                 select 1 from pg_index i
                 join pg_class c on c.oid = i.indrelid
                 join pg_namespace n on n.oid = c.relnamespace
                 join pg_attribute a on a.attrelid = c.oid and a.attnum = i.indkey[0]
                 where n.nspname = %s and c.relname = %s and a.attname = %s
                   and i.indisunique and i.indnkeyatts = 1 and i.indpred is null)""",
            (self.settings.table_schema, self.settings.table, self.settings.key_column),
        )
        return bool(cur.fetchone()[0])

    def _prepare_work(self, cur: Any) -> None:
        s = self.settings
        self._exec(cur, "select 1 from pg_namespace where nspname = %s", (s.table_schema,))
        if cur.fetchone() is None:
            self._exec(
                cur,
                sql.SQL("create schema if not exists {}").format(sql.Identifier(s.table_schema)),
            )
        columns = [
            sql.SQL("{} text not null primary key").format(self._key),
            *(sql.SQL("{} text").format(sql.Identifier(f)) for f in self._fields),
            sql.SQL("{} timestamptz").format(sql.Identifier(SYNCED_AT)),
            sql.SQL("{} text").format(sql.Identifier(BATCH_ID)),
        ]
        self._exec(
            cur,
            sql.SQL("create table if not exists {} ({})").format(
                self._table, sql.SQL(", ").join(columns)
            ),
        )
        existing = self._columns(cur, s.table)
        if s.key_column not in existing:
            raise DestinationError(
                self.label, f"key_column: table {s.qualified_table} has no column {s.key_column}"
            )
        if not self._key_is_unique(cur):
            raise DestinationError(
                self.label,
                f"key_column: {s.key_column} is not the primary key (or a unique column) of "
                f"{s.qualified_table}",
            )
        wanted = [(f, "text") for f in self._fields] + [
            (SYNCED_AT, "timestamptz"),
            (BATCH_ID, "text"),
        ]
        for name, kind in wanted:
            if name not in existing:
                self._exec(
                    cur,
                    sql.SQL("alter table {} add column if not exists {} " + kind).format(
                        self._table, sql.Identifier(name)
                    ),
                )
        self._exec(
            cur,
            sql.SQL(
                """create table if not exists {} (
                       batch_id text primary key,
                       sync_name text not null,
                       target_table text not null,
                       phase text not null,
                       mode text not null,
                       rows_written integer not null default 0,
                       rejected jsonb not null default '{{}}'::jsonb,
                       applied_at timestamptz not null default now())"""
            ).format(self._ledger),
        )
        self._exec(
            cur,
            sql.SQL(
                "delete from {} where sync_name = %s "
                "and applied_at < now() - make_interval(days => %s)"
            ).format(self._ledger),
            (self.context.sync_name, s.ledger_retention_days),
        )

    def _prepare(self) -> None:
        """Once per connection: schema, table, missing columns, ledger; prune the ledger."""
        if not self._prepared:
            self._transaction(self._prepare_work, f"preparing {self.settings.qualified_table}")
            self._prepared = True

    # -- writes ---------------------------------------------------------------------------
    def _values(self, rows: list[Row], batch_id: str) -> list[tuple[str | None, ...]]:
        return [
            (row.key, *(text(row.payload.get(f)) for f in self._fields), batch_id) for row in rows
        ]

    def _apply(self, cur: Any, batch: Batch, rows: list[Row]) -> set[str]:
        """Write the rows; returns keys with no row to update (update-only)."""
        if not rows:
            return set()
        if batch.phase in (Phase.REMOVE, Phase.ERASE):
            if batch.phase is Phase.ERASE or batch.mode in (Mode.AUDIENCE, Mode.MIRROR):
                self._exec(
                    cur,
                    sql.SQL("delete from {} where {} = any(%s)").format(self._table, self._key),
                    ([row.key for row in rows],),
                )
            return set()
        names = [sql.Identifier(n) for n in [self.settings.key_column, *self._fields, BATCH_ID]]
        values = self._values(rows, batch.batch_id)
        template = "(" + ", ".join(["%s"] * len(names)) + ")"
        self._statements += 1
        if batch.mode is Mode.UPDATE_ONLY:
            assignments = sql.SQL(", ").join(sql.SQL("{} = v.{}").format(n, n) for n in names[1:])
            query = sql.SQL(
                "update {table} t set {assignments}, {synced} = now() from (values %s) "
                "as v({names}) where t.{key} = v.{key} returning t.{key}"
            ).format(
                table=self._table,
                assignments=assignments,
                synced=sql.Identifier(SYNCED_AT),
                names=sql.SQL(", ").join(names),
                key=self._key,
            )
            found = psycopg2.extras.execute_values(
                cur, query, values, template=template, page_size=len(values), fetch=True
            )
            return {row.key for row in rows} - {key for (key,) in found}
        columns = sql.SQL(", ").join([*names, sql.Identifier(SYNCED_AT)])
        if batch.mode is Mode.INSERT_ONLY:
            conflict = sql.SQL("do nothing")
        else:
            conflict = sql.SQL("do update set ") + sql.SQL(", ").join(
                sql.SQL("{} = excluded.{}").format(n, n)
                for n in [*names[1:], sql.Identifier(SYNCED_AT)]
            )
        query = sql.SQL("insert into {} ({}) values %s on conflict ({}) {}").format(
            self._table, columns, self._key, conflict
        )
        psycopg2.extras.execute_values(
            cur, query, values, template=template[:-1] + ", now())", page_size=len(values)
        )
        return set()

    def deliver(self, batch: Batch) -> BatchOutcome:
        outcome = BatchOutcome()
        rows: list[Row] = []
        for row in batch.rows:
            bad = [f for f, v in row.payload.items() if "\x00" in (text(v) or "")]
            if bad or "\x00" in row.key:
                where = bad[0] if bad else self.settings.key_column
                outcome.rejected[row.key] = Rejection(
                    f"{where}: contains a NUL character, which PostgreSQL text cannot store",
                    retryable=False,
                )
            else:
                rows.append(row)
        self._prepare()

        def work(cur: Any) -> bool:
            self._exec(
                cur,
                sql.SQL(
                    "insert into {} (batch_id, sync_name, target_table, phase, mode) "
                    "values (%s, %s, %s, %s, %s) on conflict (batch_id) do nothing returning 1"
                ).format(self._ledger),
                (
                    batch.batch_id,
                    batch.sync_name,
                    self.settings.qualified_table,
                    batch.phase.value,
                    batch.mode.value,
                ),
            )
            if cur.fetchone() is None:
                return False  # this batch id was applied before: write nothing
            for key in self._apply(cur, batch, rows):
                outcome.rejected[key] = Rejection(
                    f"update-only: no row with {self.settings.key_column} = {key} in "
                    f"{self.settings.qualified_table}"
                )
            rejected = {
                k: {"reason": r.reason, "retryable": r.retryable}
                for k, r in outcome.rejected.items()
            }
            self._exec(
                cur,
                sql.SQL(
                    "update {} set rows_written = %s, rejected = %s where batch_id = %s"
                ).format(self._ledger),
                (len(rows) - len(rejected), json.dumps(rejected), batch.batch_id),
            )
            return True

        if not self._transaction(work, f"writing batch {batch.batch_id[:8]}"):
            return self.reconcile(batch)
        outcome.acknowledged.update({k: None for k in batch.keys if k not in outcome.rejected})
        return outcome

    def reconcile(self, batch: Batch) -> BatchOutcome:
        """The ledger row commits with the batch: present means applied, absent means not."""

        def work(cur: Any) -> Any:
            self._exec(cur, "select to_regclass(%s)", (self._ledger.as_string(cur),))
            if cur.fetchone()[0] is None:
                return None
            self._exec(
                cur,
                sql.SQL("select rejected from {} where batch_id = %s").format(self._ledger),
                (batch.batch_id,),
            )
            found = cur.fetchone()
            return None if found is None else found[0]

        recorded = self._transaction(work, f"reading the ledger for batch {batch.batch_id[:8]}")
        if recorded is None:
            return BatchOutcome(unapplied=set(batch.keys))
        outcome = BatchOutcome()
        for key in batch.keys:
            if key in recorded:
                item = recorded[key]
                outcome.rejected[key] = Rejection(item["reason"], bool(item.get("retryable", True)))
            else:
                outcome.acknowledged[key] = None
        return outcome

    # -- check ------------------------------------------------------------------------------
    def _relation(self, cur: Any, name: str) -> tuple[int, bool] | None:
        """(oid, whether the user may alter it, i.e. owns it) of schema.name, if it exists."""
        self._exec(
            cur,
            """select c.oid, pg_has_role(c.relowner, 'USAGE') from pg_class c
               join pg_namespace n on n.oid = c.relnamespace
               where n.nspname = %s and c.relname = %s""",
            (self.settings.table_schema, name),
        )
        found = cur.fetchone()
        return (int(found[0]), bool(found[1])) if found else None

    def _check_work(self, cur: Any) -> list[str]:
        s = self.settings
        problems: list[str] = []
        self._exec(cur, "select current_user, current_database()")
        user, database = cur.fetchone()
        self._exec(
            cur,
            """select has_schema_privilege(n.oid, 'USAGE'), has_schema_privilege(n.oid, 'CREATE')
               from pg_namespace n where n.nspname = %s""",
            (s.table_schema,),
        )
        schema = cur.fetchone()
        if schema is None:
            self._exec(cur, "select has_database_privilege(current_database(), 'CREATE')")
            if not cur.fetchone()[0]:
                problems.append(
                    f"schema: {s.table_schema} does not exist in database {database} and user "
                    f"{user} may not create it"
                )
            return problems
        usage, create = schema
        if not usage:
            return [f"schema: user {user} has no USAGE privilege on schema {s.table_schema}"]
        for name, field in ((s.table, "table"), (LEDGER_TABLE, "table (ledger)")):
            relation = self._relation(cur, name)
            if relation is None:
                if not create:
                    problems.append(
                        f"{field}: {s.table_schema}.{name} does not exist and user {user} may "
                        f"not create tables in schema {s.table_schema}"
                    )
                continue
            oid, owner = relation
            for privilege in TABLE_PRIVILEGES:
                self._exec(cur, "select has_table_privilege(%s, %s)", (oid, privilege))
                if not cur.fetchone()[0]:
                    problems.append(
                        f"{field}: user {user} has no {privilege} privilege on "
                        f"{s.table_schema}.{name}"
                    )
            if name != s.table:
                continue
            columns = self._columns(cur, name)
            if s.key_column not in columns:
                problems.append(f"key_column: {s.qualified_table} has no column {s.key_column}")
            elif not self._key_is_unique(cur):
                problems.append(
                    f"key_column: {s.key_column} is not the primary key (or a unique column) "
                    f"of {s.qualified_table}"
                )
            missing = [c for c in [*self._fields, SYNCED_AT, BATCH_ID] if c not in columns]
            if missing and not owner:
                problems.append(
                    f"table: {s.qualified_table} lacks columns {', '.join(missing)} and user "
                    f"{user} does not own it to add them"
                )
        return problems

    def check(self) -> None:
        """Connect with the DSN and verify the privileges a sync needs (writes nothing)."""
        problems = self._transaction(self._check_work, "checking privileges")
        if problems:
            raise DestinationError(self.label, "; ".join(problems))

    def close(self) -> None:
        self._drop_connection()
