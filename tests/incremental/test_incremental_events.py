"""A new batch of events is processed incrementally: the rows of earlier
batches are not rewritten, the new ones appear, and the result equals a full
build of the same raw data."""

from __future__ import annotations

from tests.engines.digest import differences
from tests.incremental.conftest import (
    COMPARED,
    INCREMENTAL_MODELS,
    Batch,
    build,
    digests,
    land,
    query,
)

SENTINEL = "sentinel: written by the test, kept only if the row is not rebuilt"


def _tamper(batch: Batch) -> dict[str, str]:
    """Overwrite one old row of two incremental models with a sentinel; a
    rebuild of history would put the real value back. Returns the old values."""
    import duckdb

    with duckdb.connect(str(batch.warehouse)) as con:
        event_id, event_name = con.execute(
            "select web_event_id, event_name from staging.stg_web__events "
            "order by web_event_id limit 1"
        ).fetchone()
        activity_id, detail = con.execute(
            "select activity_id, activity_detail from intermediate.int_activities_unioned "
            "where source_name = 'email_subscribers' order by activity_id limit 1"
        ).fetchone()
        con.execute(
            "update staging.stg_web__events set event_name = ? where web_event_id = ?",
            [SENTINEL, event_id],
        )
        con.execute(
            "update intermediate.int_activities_unioned set activity_detail = ? "
            "where source_name = 'email_subscribers' and activity_id = ?",
            [SENTINEL, activity_id],
        )
    return {
        "event_id": event_id,
        "event_name": event_name,
        "activity_id": activity_id,
        "detail": detail,
    }


def _restore(batch: Batch, old: dict[str, str]) -> None:
    import duckdb

    with duckdb.connect(str(batch.warehouse)) as con:
        con.execute(
            "update staging.stg_web__events set event_name = ? where web_event_id = ?",
            [old["event_name"], old["event_id"]],
        )
        con.execute(
            "update intermediate.int_activities_unioned set activity_detail = ? "
            "where source_name = 'email_subscribers' and activity_id = ?",
            [old["detail"], old["activity_id"]],
        )


def _processed(batch: Batch) -> dict[str, tuple[int, object, object]]:
    """Per incremental model: rows, and the earliest and latest _processed_at."""
    out = {}
    for relation in INCREMENTAL_MODELS:
        ((rows, first, last),) = query(
            batch.warehouse,
            f"select count(*), min(_processed_at), max(_processed_at) from {relation}",
        )
        out[relation] = (rows, first, last)
    return out


def test_new_batch_adds_rows_without_rebuilding_history(batch: Batch) -> None:
    before = _processed(batch)
    old = _tamper(batch)
    landed = land(batch.held_back, batch.warehouse)
    build(batch.work, batch.warehouse)
    after = _processed(batch)

    # every incremental model gained the batch's rows, written by this build,
    # while the rows of the first build kept when they were processed
    for relation in INCREMENTAL_MODELS:
        rows_before, _, built_before = before[relation]
        rows_after, _, built_after = after[relation]
        assert rows_after > rows_before, relation
        assert built_after > built_before, relation
        (kept,) = query(
            batch.warehouse,
            f"select count(*) from {relation} where _processed_at <= ?".replace(
                "?", f"'{built_before}'"
            ),
        )[0]
        new_rows = rows_after - kept
        assert 0 < new_rows <= landed, (relation, kept, rows_after)
    # the sentinels survived: those rows were not rebuilt
    assert query(
        batch.warehouse,
        f"select event_name from staging.stg_web__events where web_event_id = '{old['event_id']}'",
    ) == [(SENTINEL,)]
    assert query(
        batch.warehouse,
        "select activity_detail from intermediate.int_activities_unioned "
        f"where source_name = 'email_subscribers' and activity_id = '{old['activity_id']}'",
    ) == [(SENTINEL,)]
    # the new month is in the timeline
    (june,) = query(
        batch.warehouse,
        "select count(*) from marts.customer_activities where occurred_at >= '2026-06-01'",
    )[0]
    assert june > 0

    # with the sentinels undone, the incremental result equals a full build
    _restore(batch, old)
    incremental = digests(batch.warehouse)
    build(batch.work, batch.warehouse, "--full-refresh")
    full = digests(batch.warehouse)
    assert differences(incremental, full, COMPARED) == []
    # and the full build did rewrite the history (the check above is not vacuous)
    (rewritten,) = query(
        batch.warehouse,
        "select count(*) from staging.stg_web__events where _processed_at <= "
        f"'{after['staging.stg_web__events'][2]}'",
    )[0]
    assert rewritten == 0


def test_a_build_without_new_files_changes_nothing(batch: Batch) -> None:
    before = digests(batch.warehouse)
    processed = _processed(batch)
    build(batch.work, batch.warehouse, select=["stg_web__events", "int_activities_unioned"])
    assert differences(before, digests(batch.warehouse), COMPARED) == []
    # nothing was re-processed: no row carries a later _processed_at
    assert _processed(batch)["staging.stg_web__events"] == processed["staging.stg_web__events"]
    assert (
        _processed(batch)["intermediate.int_activities_unioned"]
        == processed["intermediate.int_activities_unioned"]
    )
