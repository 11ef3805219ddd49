"""File client: a snapshot of the current rows plus one change file per batch.

Layout in `directory` (`<ext>` is csv or parquet):

    <basename>.<ext>                      snapshot: the rows the destination holds now,
                                          sorted by key, replaced atomically per batch
    <basename>_changes/
        <UTC time>-<batch id>-<operation>.<ext>   one file per batch, never rewritten

Columns: `_operation` (change files only), `<key_column>`, the mapped fields in
the sync's order, `_cdp_batch_id`, `_synced_at` (ISO 8601 UTC). Every file is
written to a temporary file in the same directory, fsynced and renamed into
place (formats.py), so a reader never sees half a file.

Erasure (Phase.ERASE, any mode: an erased person's key). The key's rows go from the
snapshot and from every change file, each rewritten atomically without them (a file
left empty is deleted): the one exception to "never rewritten". With `changes: true`
an `erase` change file holding only the key (no field values) is written first, so
readers downstream learn to delete their copies; it is the batch's commit point.

Exactly once. With `changes: true` the change file is the commit point: the
batch id is in its name, so `reconcile` knows a batch landed exactly when its
file exists. Bringing the snapshot up to date is idempotent by key (upsert or
delete of the batch's rows, with the change file's timestamp as `_synced_at`),
so reconcile finishes it without writing a second change file. With
`changes: false` the snapshot replace is the commit point: an add or change
batch landed exactly when some row carries its id in `_cdp_batch_id` (all its
rows are written in one replace, and no later batch runs before a pending one
is reconciled); a remove batch landed exactly when none of its keys is left.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from reverse_etl.batch import Batch, BatchOutcome, Mode, Phase, SyncContext
from reverse_etl.destinations.base import Destination
from reverse_etl.destinations.file.config import FileSettings
from reverse_etl.destinations.file.formats import (
    FORMATS,
    Cell,
    Record,
    TableFormat,
    remove_stale_temporaries,
)
from reverse_etl.errors import DestinationError

OPERATIONS: dict[tuple[Mode, Phase], str] = {
    (Mode.AUDIENCE, Phase.ADD): "enter",
    (Mode.AUDIENCE, Phase.CHANGE): "update",
    (Mode.AUDIENCE, Phase.REMOVE): "exit",
    (Mode.MIRROR, Phase.ADD): "upsert",
    (Mode.MIRROR, Phase.CHANGE): "upsert",
    (Mode.MIRROR, Phase.REMOVE): "delete",
    (Mode.UPSERT, Phase.ADD): "upsert",
    (Mode.UPSERT, Phase.CHANGE): "upsert",
    (Mode.INSERT_ONLY, Phase.ADD): "insert",
}
BATCH_ID = "_cdp_batch_id"
SYNCED_AT = "_synced_at"
OPERATION = "_operation"
NAME_TIME = "%Y%m%dT%H%M%S%fZ"


def text(value: Any) -> Cell:
    """A payload value as text: strings as they are, other JSON values as JSON."""
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True)


class FileDestination(Destination):
    settings_class = FileSettings

    def __init__(self, settings: FileSettings, context: SyncContext) -> None:
        super().__init__(settings, context)
        self.settings: FileSettings = settings
        self.directory = Path(settings.resolved_directory())
        self.basename = settings.basename or context.sync_name
        self.format: TableFormat = FORMATS[settings.format]
        self.snapshot_path = self.directory / f"{self.basename}.{self.format.extension}"
        self.changes_dir = self.directory / f"{self.basename}_changes"
        self.columns = [settings.key_column, *context.fields, BATCH_ID, SYNCED_AT]
        self._operations = 0
        self._tidied = False

    @property
    def request_count(self) -> int:
        """Files written, read or listed."""
        return self._operations

    # -- files -------------------------------------------------------------------------
    def _fail(self, what: str, exc: Exception) -> DestinationError:
        detail = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        return DestinationError(self.label, f"directory: cannot {what}: {detail}")

    def _tidy(self) -> None:
        """Once per client: the directory must exist; drop a killed writer's temp files."""
        if self._tidied:
            return
        if not self.directory.is_dir():
            raise DestinationError(
                self.label, f"directory: {self.directory} does not exist or is not a directory"
            )
        remove_stale_temporaries(self.directory, self.basename)
        remove_stale_temporaries(self.changes_dir, "")
        self._tidied = True

    def _change_file(self, batch: Batch) -> Path | None:
        """The change file of `batch`, if it was written."""
        self._operations += 1
        if not self.changes_dir.is_dir():
            return None
        pattern = f"*-{batch.batch_id}-*.{self.format.extension}"
        found = [p for p in self.changes_dir.glob(pattern) if not p.name.startswith(".")]
        return found[0] if found else None

    def _read_snapshot(self) -> dict[str, Record]:
        if not self.snapshot_path.exists():
            return {}
        self._operations += 1
        try:
            records = self.format.read(self.snapshot_path)
        except Exception as exc:  # unreadable file: OSError, csv.Error, ArrowInvalid
            raise self._fail(f"read snapshot {self.snapshot_path}", exc) from exc
        key = self.settings.key_column
        if records and key not in records[0]:
            raise DestinationError(
                self.label,
                f"key_column: snapshot {self.snapshot_path} has no column '{key}'",
            )
        return {str(r[key]): r for r in records}

    def _record(self, key: str, payload: dict[str, Any], batch_id: str, at: str) -> Record:
        record: Record = {self.settings.key_column: key}
        record.update({f: self.format.cell(text(payload.get(f))) for f in self.context.fields})
        record[BATCH_ID] = batch_id
        record[SYNCED_AT] = at
        return record

    def _write_change_file(self, batch: Batch, when: datetime) -> None:
        erase = batch.phase is Phase.ERASE
        operation = "erase" if erase else OPERATIONS[(batch.mode, batch.phase)]
        name = f"{when.strftime(NAME_TIME)}-{batch.batch_id}-{operation}.{self.format.extension}"
        at = _iso(when)
        columns = [OPERATION, *self.columns]
        records = [
            {
                OPERATION: operation,
                # an erasure names only the key: the values are what is being erased
                **self._record(row.key, {} if erase else row.payload, batch.batch_id, at),
            }
            for row in batch.rows
        ]
        try:
            self.changes_dir.mkdir(exist_ok=True)
            self._operations += 1
            self.format.write(self.changes_dir / name, columns, records)
        except OSError as exc:
            raise self._fail(f"write change file {name}", exc) from exc

    def _scrub_change_files(self, batch: Batch) -> None:
        """Rewrite every change file holding one of the batch's keys without those rows
        (the batch's own erase file holds keys only and stays); delete emptied files."""
        if not self.changes_dir.is_dir():
            return
        keys = set(batch.keys)
        key_column = self.settings.key_column
        own = f"-{batch.batch_id}-erase."
        for path in sorted(self.changes_dir.glob(f"*.{self.format.extension}")):
            if path.name.startswith(".") or own in path.name:
                continue
            self._operations += 1
            try:
                records = self.format.read(path)
            except Exception as exc:  # unreadable file: OSError, csv.Error, ArrowInvalid
                raise self._fail(f"read change file {path.name}", exc) from exc
            kept = [r for r in records if str(r.get(key_column)) not in keys]
            if len(kept) == len(records):
                continue
            self._operations += 1
            try:
                if kept:
                    self.format.write(path, list(records[0]), kept)
                else:
                    path.unlink()
            except OSError as exc:
                raise self._fail(f"rewrite change file {path.name}", exc) from exc

    def _apply_to_snapshot(self, batch: Batch, at: str) -> None:
        """Upsert or delete the batch's rows in the snapshot (idempotent by key and
        batch id); the file is only replaced if its content changes."""
        current = self._read_snapshot()
        before = dict(current)
        for row in batch.rows:
            if batch.phase is Phase.ERASE:
                current.pop(row.key, None)
            elif batch.phase is Phase.REMOVE:
                if batch.mode in (Mode.AUDIENCE, Mode.MIRROR):
                    current.pop(row.key, None)
            elif batch.mode is Mode.INSERT_ONLY and row.key in current:
                continue
            elif current.get(row.key, {}).get(BATCH_ID) == batch.batch_id:
                continue  # this batch wrote the row already (a repeated delivery)
            else:
                current[row.key] = self._record(row.key, row.payload, batch.batch_id, at)
        if current == before:
            return
        try:
            self._operations += 1
            self.format.write(
                self.snapshot_path, self.columns, [current[k] for k in sorted(current)]
            )
        except OSError as exc:
            raise self._fail(f"write snapshot {self.snapshot_path}", exc) from exc

    # -- Destination -----------------------------------------------------------------
    def deliver(self, batch: Batch) -> BatchOutcome:
        self._tidy()
        when = datetime.now(UTC)
        if self.settings.changes:
            existing = self._change_file(batch)
            if existing is None:
                self._write_change_file(batch, when)
            else:
                when = _time_of(existing)
        try:
            self._finish(batch, _iso(when))
        except DestinationError as exc:
            if self.settings.changes:  # the change file landed: reconcile finishes this
                self.after_first_write(exc)
            raise
        return BatchOutcome(acknowledged=dict.fromkeys(batch.keys))

    def _finish(self, batch: Batch, at: str) -> None:
        """The idempotent part of a batch: the snapshot, and an erasure's scrub."""
        if self.settings.snapshot:
            self._apply_to_snapshot(batch, at)
        if batch.phase is Phase.ERASE:
            self._scrub_change_files(batch)

    def reconcile(self, batch: Batch) -> BatchOutcome:
        self._tidy()
        if self.settings.changes:
            existing = self._change_file(batch)
            if existing is None:
                return BatchOutcome(unapplied=set(batch.keys))
            self._finish(batch, _iso(_time_of(existing)))
            return BatchOutcome(acknowledged=dict.fromkeys(batch.keys))
        current = self._read_snapshot()
        if batch.phase is Phase.ERASE:
            self._scrub_change_files(batch)  # idempotent; nothing is written without changes
            landed = all(key not in current for key in batch.keys)
        elif batch.phase is Phase.REMOVE:
            landed = all(key not in current for key in batch.keys)
        else:
            landed = any(current.get(key, {}).get(BATCH_ID) == batch.batch_id for key in batch.keys)
        if landed:
            return BatchOutcome(acknowledged=dict.fromkeys(batch.keys))
        return BatchOutcome(unapplied=set(batch.keys))

    def check(self) -> None:
        """The directory exists and a file can be created, written and renamed in it."""
        self._tidy()
        probe = self.directory / f"{self.basename}.check"
        try:
            self.format.write(probe, ["check"], [{"check": "ok"}])
            probe.unlink()
            if self.changes_dir.exists() and not self.changes_dir.is_dir():
                raise DestinationError(
                    self.label, f"directory: {self.changes_dir} exists and is not a directory"
                )
        except OSError as exc:
            raise self._fail(f"write to {self.directory}", exc) from exc


def _iso(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _time_of(change_file: Path) -> datetime:
    stamp = change_file.name.split("-", 1)[0]
    return datetime.strptime(stamp, NAME_TIME).replace(tzinfo=UTC)
