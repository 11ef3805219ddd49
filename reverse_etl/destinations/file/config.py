"""Typed settings of the file destination."""

from __future__ import annotations

import os
from typing import Any, ClassVar, Literal

from pydantic import Field, model_validator

from reverse_etl.batch import Mode, SyncContext
from reverse_etl.destinations.base import DestinationSettings

RESERVED_COLUMNS = frozenset({"_operation", "_cdp_batch_id", "_synced_at"})


class FileSettings(DestinationSettings):
    """Write the sync's rows as files into a local (or mounted) directory.

    directory: absolute path of an existing, writable directory (`~` and `$VAR` expand).
    format:    csv (UTF-8, header row, RFC 4180 quoting) or parquet (string columns).
    basename:  file name stem; default: the sync's name.
    key_column: column holding the sync's primary key value.
    snapshot:  keep `<basename>.<ext>`, the current rows, replaced atomically per batch.
    changes:   write one file per batch into `<basename>_changes/`.
    """

    type: Literal["file"]
    directory: str = Field(min_length=1)
    format: Literal["csv", "parquet"] = "csv"
    basename: str | None = Field(None, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")
    key_column: str = Field("key", pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")
    snapshot: bool = True
    changes: bool = True

    erasure: ClassVar[str] = (
        "deleted: the rows are removed from the snapshot and rewritten out of every "
        "change file; an erase change file (key only) tells readers to delete their copies"
    )
    supported_modes: ClassVar[frozenset[Mode]] = frozenset(
        {Mode.AUDIENCE, Mode.MIRROR, Mode.UPSERT, Mode.INSERT_ONLY}
    )
    identity_field: ClassVar[str | None] = None
    max_batch_size: ClassVar[int] = 100_000  # each batch rewrites the snapshot once

    @model_validator(mode="before")
    @classmethod
    def _no_http_settings(cls, data: Any) -> Any:
        if isinstance(data, dict):
            for name in ("base_url", "rate_limit"):
                if data.get(name) is not None:
                    raise ValueError(f"{name}: not used by the file destination")
        return data

    @model_validator(mode="after")
    def _something_to_write(self) -> FileSettings:
        if not (self.snapshot or self.changes):
            raise ValueError("snapshot and changes are both false: nothing would be written")
        if not os.path.isabs(self.resolved_directory()):
            raise ValueError("directory: must be an absolute path")
        return self

    def resolved_directory(self) -> str:
        return os.path.expandvars(os.path.expanduser(self.directory))

    @property
    def extension(self) -> str:
        return self.format

    def sync_problems(self, context: SyncContext) -> list[str]:
        problems = []
        for name in context.fields:
            if name == self.key_column or name in RESERVED_COLUMNS:
                problems.append(
                    f"fields.{name}: clashes with the file destination's column '{name}' "
                    f"(key_column or one of {', '.join(sorted(RESERVED_COLUMNS))})"
                )
        return problems
