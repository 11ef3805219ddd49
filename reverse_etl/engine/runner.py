"""One sync run, end to end.

    start run -> reconcile batches left in the outbox by a crashed run
              -> (full resync: mark state for resend)
              -> (spark: stage the source into the state file, engine/staging.py)
              -> diff in the state database
              -> reject invalid rows -> for each phase (remove, add, change),
                 for each batch in key order:
                     write outbox (commit) -> deliver -> commit state + counters,
                     delete outbox (one transaction)
              -> forget removed keys (modes that do not send removes) -> finish run

The destination client is built only when there is something to send or
reconcile, so a run with no changes makes no requests and needs no secrets.

An optional `checkpoint` observer is called with the name of each point a batch
passes, in this order (the kill tests crash the process there):

    outbox_written  the batch is committed to sync_outbox, nothing sent yet
    acknowledged    the destination acknowledged it, state not yet committed
    committed       state, counters and outbox deletion committed
    reconciled      a pending batch from a crashed run was reconciled, not yet committed
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from reverse_etl.batch import PHASE_ORDER, Batch, Phase
from reverse_etl.config import SyncDefinition
from reverse_etl.destinations import Destination, build_destination
from reverse_etl.engine.db import SyncDatabase, SyncTarget, open_sync_database
from reverse_etl.engine.deliver import deliver_exactly_once
from reverse_etl.engine.diff import DiffCounts, compute_diff, phase_size, read_batch_rows
from reverse_etl.engine.schema import SCHEMA, ensure_schema
from reverse_etl.engine.state import StateStore
from reverse_etl.errors import DestinationError, ReverseEtlError

Progress = Callable[[str], None]
DestinationFactory = Callable[[SyncDefinition], Destination]
CheckpointName = Literal["outbox_written", "acknowledged", "committed", "reconciled"]
Checkpoint = Callable[[CheckpointName], None]
"""Called with the point a batch just passed (see the module docstring)."""


@dataclass(frozen=True)
class RunResult:
    """A finished run as recorded in reverse_etl.sync_runs."""

    sync_name: str
    run_id: int
    status: str
    rows_added: int
    rows_updated: int
    rows_removed: int
    rows_rejected: int
    rows_sent: int
    requests: int
    reconciled_batches: int
    seconds: float
    error: str | None
    diff: DiffCounts | None

    def render(self) -> str:
        head = f"sync {self.sync_name}: {self.status} in {self.seconds:.1f}s (run {self.run_id})"
        body = (
            f"  added {self.rows_added}, updated {self.rows_updated}, removed "
            f"{self.rows_removed}, rejected {self.rows_rejected}; {self.rows_sent} rows sent "
            f"in {self.requests} requests"
        )
        if self.reconciled_batches:
            body += f"; {self.reconciled_batches} interrupted batch(es) reconciled"
        if self.error:
            body += f"\n  error: {self.error}"
        return f"{head}\n{body}"


def _default_factory(sync: SyncDefinition) -> Destination:
    return build_destination(sync.destination, sync.context)


class _Run:
    def __init__(
        self,
        db: SyncDatabase,
        sync: SyncDefinition,
        factory: DestinationFactory,
        progress: Progress,
        checkpoint: Checkpoint,
    ) -> None:
        self.db = db
        self.sync = sync
        self.store = StateStore(db, sync)
        self.factory = factory
        self.progress = progress
        self.checkpoint = checkpoint
        self.destination: Destination | None = None
        self.requests_recorded = 0
        self.reconciled = 0

    def _dest(self) -> Destination:
        if self.destination is None:
            self.destination = self.factory(self.sync)
        return self.destination

    def _take_requests(self) -> int:
        if self.destination is None:
            return 0
        delta = self.destination.request_count - self.requests_recorded
        self.requests_recorded = self.destination.request_count
        return delta

    def _resume(self, run_id: int) -> None:
        for batch in self.store.pending_batches():
            self.progress(
                f"reconciling interrupted batch {batch.batch_id[:8]} ({batch.phase.value}, "
                f"{len(batch.rows)} rows)"
            )
            outcome, _ = deliver_exactly_once(
                self._dest(), batch, self.sync.destination.retry, reconcile_first=True
            )
            self.checkpoint("reconciled")
            self.store.commit_batch(
                run_id, batch, outcome, requests=self._take_requests(), rows_sent=0
            )
            self.reconciled += 1

    def _send_phase(self, run_id: int, phase: Phase) -> None:
        size = self.sync.destination.effective_batch_size()
        total = phase_size(self.db, phase)
        for first in range(1, total + 1, size):
            rows = read_batch_rows(self.db, phase, first, size)
            batch = Batch(uuid.uuid4().hex, self.sync.name, self.sync.mode, phase, tuple(rows))
            destination = self._dest()
            self.store.write_outbox(run_id, batch)
            self.checkpoint("outbox_written")
            try:
                outcome, sent = deliver_exactly_once(
                    destination, batch, self.sync.destination.retry
                )
            except DestinationError as exc:
                if not exc.maybe_applied:
                    self.store.drop_outbox(batch.batch_id)
                raise
            self.checkpoint("acknowledged")
            self.store.commit_batch(
                run_id, batch, outcome, requests=self._take_requests(), rows_sent=sent
            )
            self.checkpoint("committed")
            last = first + len(rows) - 1
            self.progress(
                f"{phase.value} {first}-{last} of {total}: {len(outcome.acknowledged)} "
                f"acknowledged, {len(outcome.rejected)} rejected"
            )

    def execute(self, full_resync: bool) -> RunResult:
        started = time.monotonic()
        run_id = self.store.start_run(full_resync)
        status, error, diff = "succeeded", None, None
        try:
            self._resume(run_id)
            if full_resync:
                self.store.mark_for_full_resync()
            self.db.stage(self.sync)
            diff = compute_diff(self.db, self.sync, self.store.rejection_epoch())
            self.progress(
                f"diff: {diff.adds} to add, {diff.changes} to change, {diff.removes} to remove, "
                f"{diff.erasures} to erase, "
                f"{diff.invalid} invalid, {diff.skipped} skipped (rejected before), "
                f"{diff.withheld} withheld (consent or suppression)"
            )
            self.store.record_invalid(run_id)
            for phase in PHASE_ORDER:
                self._send_phase(run_id, phase)
            self.store.forget_removed()
        except ReverseEtlError as exc:
            status, error = "failed", str(exc)
        except BaseException as exc:
            status, error = "failed", f"{type(exc).__name__}: {exc}"
            raise
        finally:
            self.store.finish_run(run_id, status, error, requests=self._take_requests())
            if self.destination is not None:
                self.destination.close()
        return self._result(run_id, time.monotonic() - started, diff)

    def _result(self, run_id: int, seconds: float, diff: DiffCounts | None) -> RunResult:
        row = self.db.one(
            f"""select status, rows_added, rows_updated, rows_removed, rows_rejected,
                       rows_sent, requests, error
                from {SCHEMA}.sync_runs where run_id = {int(run_id)}"""
        )
        assert row is not None
        status, added, updated, removed, rejected, sent, requests, error = row
        return RunResult(
            sync_name=self.sync.name,
            run_id=run_id,
            status=status,
            rows_added=added,
            rows_updated=updated,
            rows_removed=removed,
            rows_rejected=rejected,
            rows_sent=sent,
            requests=requests,
            reconciled_batches=self.reconciled,
            seconds=seconds,
            error=error,
            diff=diff,
        )


def run_sync(
    sync: SyncDefinition,
    warehouse: SyncTarget,
    *,
    full_resync: bool = False,
    progress: Progress | None = None,
    destination_factory: DestinationFactory | None = None,
    checkpoint: Checkpoint | None = None,
) -> RunResult:
    """Run one sync with its state in `warehouse` (a DuckDB file, the PostgreSQL
    target, or on Spark the DuckDB state file: engine/db.py). Destination errors
    end the run with status 'failed' (recorded, not raised); the next run picks up
    from state. A lost connection to the state database raises WarehouseError; the
    next run finishes the work.
    `checkpoint`, when given, observes the named points of every batch."""
    db = open_sync_database(warehouse)
    try:
        ensure_schema(db)
        db.lock_sync(sync.name)
        run = _Run(
            db,
            sync,
            destination_factory or _default_factory,
            progress or (lambda _: None),
            checkpoint or (lambda _: None),
        )
        return run.execute(full_resync)
    finally:
        db.close()
