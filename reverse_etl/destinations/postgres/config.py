"""Typed settings of the PostgreSQL destination."""

from __future__ import annotations

import re
from typing import Any, ClassVar, Literal

from pydantic import Field, model_validator

from reverse_etl.batch import Mode, SyncContext
from reverse_etl.destinations.base import DestinationSettings, EnvVarName

# Lower-case so that the names in the YAML are the names in SQL, quoted or not;
# at most 63 bytes, PostgreSQL's identifier limit.
PG_IDENTIFIER = r"^[a-z_][a-z0-9_]{0,62}$"
RESERVED_COLUMNS = frozenset({"_synced_at", "_cdp_batch_id"})
LEDGER_TABLE = "_cdp_sync_batches"


class PostgresSettings(DestinationSettings):
    """Upsert the sync's rows into a PostgreSQL table.

    dsn_env:    variable holding a libpq connection string or postgresql:// URI (secret:
                it may carry the password).
    schema:     schema of the table (created if missing); default public.
    table:      the table (created if missing: key column, mapped fields, _synced_at,
                _cdp_batch_id).
    key_column: primary key column holding the sync's key; default key.
    ledger_retention_days: days a batch stays in the schema's `_cdp_sync_batches` ledger.
    """

    type: Literal["postgres"]
    dsn_env: EnvVarName
    table_schema: str = Field("public", alias="schema", pattern=PG_IDENTIFIER)
    table: str = Field(pattern=PG_IDENTIFIER)
    key_column: str = Field("key", pattern=PG_IDENTIFIER)
    ledger_retention_days: int = Field(30, ge=1, le=3650)

    erasure: ClassVar[str] = (
        "deleted: the row is deleted from the table (PostgreSQL reclaims the space at "
        "the next vacuum)"
    )
    supported_modes: ClassVar[frozenset[Mode]] = frozenset(Mode)
    identity_field: ClassVar[str | None] = None
    max_batch_size: ClassVar[int] = 5000  # one INSERT ... VALUES statement per batch

    @model_validator(mode="before")
    @classmethod
    def _no_http_settings(cls, data: Any) -> Any:
        if isinstance(data, dict):
            for name in ("base_url", "rate_limit"):
                if data.get(name) is not None:
                    raise ValueError(f"{name}: not used by the postgres destination")
        return data

    @property
    def qualified_table(self) -> str:
        return f"{self.table_schema}.{self.table}"

    def sync_problems(self, context: SyncContext) -> list[str]:
        problems = []
        if self.table == LEDGER_TABLE:
            problems.append(f"destination.table: '{LEDGER_TABLE}' is the destination's ledger")
        for name in context.fields:
            if not re.match(PG_IDENTIFIER, name):
                problems.append(
                    f"fields.{name}: PostgreSQL column names here are lower-case letters, "
                    "digits and _ (at most 63)"
                )
            elif name == self.key_column or name in RESERVED_COLUMNS:
                problems.append(
                    f"fields.{name}: clashes with the table's column '{name}' "
                    f"(key_column or one of {', '.join(sorted(RESERVED_COLUMNS))})"
                )
        return problems
