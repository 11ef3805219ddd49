"""Every write to the `reverse_etl` tables, each in its own transaction.

The ordering rules that make runs crash-safe live here and in runner.py:
- a batch is written to `sync_outbox` (and committed) before it is sent;
- its acknowledgement (state rows, rejections, run counters) is committed in
  one transaction that also deletes the outbox row;
- so after any crash an outbox row means "sent or maybe sent, not recorded",
  and no outbox row means the state tables tell the whole story.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

from reverse_etl.batch import Batch, BatchOutcome, Mode, Phase, Row
from reverse_etl.config import SyncDefinition
from reverse_etl.engine.db import SyncDatabase
from reverse_etl.engine.dialect import upsert_state
from reverse_etl.engine.schema import SCHEMA
from reverse_etl.engine.sql import json_rows, literal, values

_REJECT_SQL = f"""
    insert into {SCHEMA}.sync_rejections
    with prior as (
        select key, content_hash, count(*) as n from {SCHEMA}.sync_rejections
        where sync_name = {{sync}} and run_id >= {{epoch}}
        group by key, content_hash
    )
    select {{run}}, {{sync}}, r.key, r.content_hash, r.reason,
           coalesce(p.n, 0) + 1,
           (not r.retryable) or coalesce(p.n, 0) + 1 >= {{max_retries}},
           {{now}}
    from {{source}}
    left join prior p on p.key = r.key and p.content_hash is not distinct from r.content_hash
"""


_STATE_TYPES = {
    "key": "VARCHAR",
    "content_hash": "VARCHAR",
    "payload": "JSON",
    "destination_id": "VARCHAR",
}


def _now() -> datetime:
    return datetime.now(UTC)


class StateStore:
    """The state tables of one sync, in one state database (DuckDB or PostgreSQL)."""

    def __init__(self, db: SyncDatabase, sync: SyncDefinition) -> None:
        self.db = db
        self.sync = sync
        self._name = literal(sync.name)
        self._transaction = db.transaction

    # -- runs ------------------------------------------------------------------------
    def start_run(self, full_resync: bool) -> int:
        """Close runs left 'running' by a dead process and open a new one."""
        now = literal(_now())
        with self._transaction():
            self.db.execute(
                f"""update {SCHEMA}.sync_runs
                    set status = 'abandoned', finished_at = {now},
                        error = coalesce(error, 'process ended before the run finished')
                    where sync_name = {self._name} and status = 'running'"""
            )
            row = self.db.one(f"select nextval('{SCHEMA}.sync_run_id_seq')")
            assert row is not None
            run_id = int(row[0])
            self.db.execute(
                f"""insert into {SCHEMA}.sync_runs (run_id, sync_name, started_at, status,
                        full_resync)
                    values ({run_id}, {self._name}, {now}, 'running', {literal(full_resync)})"""
            )
        return run_id

    def finish_run(self, run_id: int, status: str, error: str | None, requests: int) -> None:
        with self._transaction():
            self.db.execute(
                f"""update {SCHEMA}.sync_runs
                    set status = {literal(status)}, finished_at = {literal(_now())},
                        error = {literal(error)}, requests = requests + {int(requests)}
                    where run_id = {int(run_id)}"""
            )

    def rejection_epoch(self) -> int:
        """Run id of the latest full resync: older rejections no longer block rows."""
        row = self.db.one(
            f"""select coalesce(max(run_id), 0) from {SCHEMA}.sync_runs
                where sync_name = {self._name} and full_resync"""
        )
        return int(row[0]) if row else 0

    def mark_for_full_resync(self) -> None:
        """Keep the keys (so rows gone from the source are still removed) but forget
        what was acknowledged, so every current row is sent again as an add."""
        with self._transaction():
            self.db.execute(mark_for_full_resync_sql(self.sync.name))

    # -- outbox ----------------------------------------------------------------------
    def write_outbox(self, run_id: int, batch: Batch) -> None:
        rows = json.dumps([row.to_json() for row in batch.rows])
        with self._transaction():
            self.db.execute(
                f"""insert into {SCHEMA}.sync_outbox values (
                    {literal(batch.batch_id)}, {self._name}, {int(run_id)},
                    {literal(batch.phase.value)}, {literal(batch.mode.value)},
                    {literal(rows)}, {literal(_now())})"""
            )

    def drop_outbox(self, batch_id: str) -> None:
        """Forget a batch the destination certainly did not apply (refused outright)."""
        with self._transaction():
            self.db.execute(
                f"delete from {SCHEMA}.sync_outbox where batch_id = {literal(batch_id)}"
            )

    def pending_batches(self) -> list[Batch]:
        """Batches a previous run wrote but never recorded, oldest first."""
        records = self.db.rows(
            f"""select batch_id, mode, phase, cast(rows as varchar) from {SCHEMA}.sync_outbox
                where sync_name = {self._name} order by created_at, batch_id"""
        )
        return [
            Batch(
                batch_id=batch_id,
                sync_name=self.sync.name,
                mode=Mode(mode),
                phase=Phase(phase),
                rows=tuple(Row.from_json(r) for r in json.loads(rows)),
            )
            for batch_id, mode, phase, rows in records
        ]

    # -- acknowledgements --------------------------------------------------------------
    def commit_batch(
        self,
        run_id: int,
        batch: Batch,
        outcome: BatchOutcome,
        *,
        requests: int,
        rows_sent: int,
    ) -> None:
        """Record what the destination acknowledged and refused, in one transaction."""
        rows = {row.key: row for row in batch.rows}
        acked = [rows[k] for k in sorted(outcome.acknowledged) if k in rows]
        rejected = [(k, outcome.rejected[k]) for k in sorted(outcome.rejected) if k in rows]
        with self._transaction():
            if acked and batch.phase in (Phase.REMOVE, Phase.ERASE):
                keys = json_rows(
                    [{"key": r.key} for r in acked], {"key": "VARCHAR"}, self.db.dialect
                )
                self.db.execute(
                    f"""delete from {SCHEMA}.sync_state where sync_name = {self._name}
                        and key in (select key from {keys})"""
                )
            elif acked:
                table = json_rows(
                    [
                        {
                            "key": r.key,
                            "content_hash": r.content_hash,
                            "payload": r.payload,
                            "destination_id": outcome.acknowledged[r.key] or r.destination_id,
                        }
                        for r in acked
                    ],
                    _STATE_TYPES,
                    self.db.dialect,
                )
                self.db.execute(
                    upsert_state(
                        self.db.dialect,
                        f"""select {self._name}, key, content_hash, payload, destination_id,
                               {literal(_now())}
                        from {table}""",
                    )
                )
            if rejected:
                table = values(
                    ["key", "content_hash", "reason", "retryable"],
                    [(k, rows[k].content_hash, r.reason, r.retryable) for k, r in rejected],
                )
                self._insert_rejections(run_id, table.replace(") as t(", ") as r(", 1))
            counts = {"add": 0, "change": 0, "remove": 0}
            # an erasure is a remove that also deleted the record at the destination
            counts["remove" if batch.phase is Phase.ERASE else batch.phase.value] = len(acked)
            self.db.execute(
                f"""update {SCHEMA}.sync_runs set
                        rows_added = rows_added + {counts["add"]},
                        rows_updated = rows_updated + {counts["change"]},
                        rows_removed = rows_removed + {counts["remove"]},
                        rows_rejected = rows_rejected + {len(rejected)},
                        rows_sent = rows_sent + {int(rows_sent)},
                        requests = requests + {int(requests)}
                    where run_id = {int(run_id)}"""
            )
            self.db.execute(
                f"delete from {SCHEMA}.sync_outbox where batch_id = {literal(batch.batch_id)}"
            )

    def _insert_rejections(self, run_id: int, source: str) -> None:
        """Insert rejections from `source` (a FROM item aliased `r` with key,
        content_hash, reason, retryable), counting attempts per key and content."""
        self.db.execute(
            _REJECT_SQL.format(
                source=source,
                run=int(run_id),
                sync=self._name,
                epoch=self.rejection_epoch(),
                max_retries=int(self.sync.max_row_retries),
                now=literal(_now()),
            )
        )

    def record_invalid(self, run_id: int) -> int:
        """Reject (terminally, for this content) the rows in retl_invalid. Never sent."""
        row = self.db.one("select count(*) from retl_invalid")
        count = int(row[0]) if row else 0
        if count:
            with self._transaction():
                self._insert_rejections(
                    run_id,
                    "(select key, content_hash, reason, false as retryable from retl_invalid) r",
                )
                self.db.execute(
                    f"""update {SCHEMA}.sync_runs set rows_rejected = rows_rejected + {count}
                        where run_id = {int(run_id)}"""
                )
        return count

    def forget_removed(self) -> int:
        """Delete state for keys that left the source in modes that do not send removes."""
        row = self.db.one("select count(*) from retl_forget")
        count = int(row[0]) if row else 0
        if count:
            with self._transaction():
                self.db.execute(
                    f"""delete from {SCHEMA}.sync_state where sync_name = {self._name}
                        and key in (select key from retl_forget)"""
                )
        return count


def mark_for_full_resync_sql(sync_name: str) -> str:
    """SQL that marks every state row of the sync for resend (content_hash = NULL)."""
    return (
        f"update {SCHEMA}.sync_state set content_hash = null where sync_name = {literal(sync_name)}"
    )
