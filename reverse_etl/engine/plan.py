"""`cdp sync --plan`: the diff a run would send, computed without sending or recording.

The diff runs inside a transaction that is rolled back, so a plan leaves the
state tables untouched (with --full-resync too). Only the schema is created
if it does not exist yet.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from reverse_etl.config import SyncDefinition
from reverse_etl.engine.db import SyncTarget, open_sync_database
from reverse_etl.engine.diff import DiffCounts, compute_diff
from reverse_etl.engine.schema import ensure_schema
from reverse_etl.engine.state import StateStore, mark_for_full_resync_sql

SAMPLE = 5


@dataclass(frozen=True)
class SyncPlan:
    sync: SyncDefinition
    diff: DiffCounts
    pending_batches: int
    samples: dict[str, list[str]] = field(default_factory=dict)

    def render(self) -> str:
        sync, d = self.sync, self.diff
        lines = [
            f"sync {sync.name} ({sync.mode.value} -> {sync.destination.type}) from "
            f"{sync.source}: {d.source_rows} source rows"
        ]
        for label, count, kind in (
            ("add", d.adds, "add"),
            ("update", d.changes, "change"),
            ("remove", d.removes, "remove"),
        ):
            sample = self.samples.get(kind) or []
            more = f"  e.g. keys {', '.join(sample)}" if sample else ""
            lines.append(f"  {label:<8}{count:>10}{more}")
        extras = [
            ("erase (erased people: deleted at the destination)", d.erasures),
            *((f"withheld ({reason})", count) for reason, count in d.withheld_reasons),
            ("rejected (invalid, never sent)", d.invalid),
            ("skipped (rejected before, unchanged)", d.skipped),
            ("forgotten (left the model; mode sends no removes)", d.forgets),
            ("ignored (changes/removes in insert-only)", d.ignored),
            ("rows with a null primary key (ignored)", d.null_keys),
        ]
        lines += [f"  {label}: {count}" for label, count in extras if count]
        if self.pending_batches:
            lines.append(f"  {self.pending_batches} interrupted batch(es) will be reconciled first")
        return "\n".join(lines)


def plan_sync(
    sync: SyncDefinition, warehouse: SyncTarget, *, full_resync: bool = False
) -> SyncPlan:
    db = open_sync_database(warehouse)
    try:
        ensure_schema(db)
        store = StateStore(db, sync)
        pending = len(store.pending_batches())
        epoch = store.rejection_epoch()
        db.stage(sync)  # outside the transaction: on Spark it writes staged copies
        db.begin()
        try:
            if full_resync:
                db.execute(mark_for_full_resync_sql(sync.name))
                epoch = 1 << 62  # a full resync ignores earlier rejections
            diff = compute_diff(db, sync, epoch)
            samples: dict[str, list[str]] = {}
            for phase, key in db.rows(
                f"select phase, key from retl_send where seq <= {SAMPLE} order by phase, seq"
            ):
                samples.setdefault(phase, []).append(key)
        finally:
            db.rollback()
        return SyncPlan(sync=sync, diff=diff, pending_batches=pending, samples=samples)
    finally:
        db.close()
