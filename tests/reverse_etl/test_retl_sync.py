"""End-to-end syncs over real HTTP to each contract server, with a real DuckDB file."""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path

import pytest
from retl_support import KINDS, REGISTRY, Harness, harness_for, people, query, write_source

from reverse_etl.destinations import build_destination
from reverse_etl.engine.runner import run_sync
from reverse_etl.errors import AuthError, ConfigError


def state_keys(warehouse: Path) -> set[str]:
    return {k for (k,) in query(warehouse, "select key from reverse_etl.sync_state")}


def test_state_equals_source_through_adds_updates_removes(harness: Harness, warehouse: Path):
    sync = harness.sync(destination={"batch_size": 7})
    rows = people(30)

    first = run_sync(sync, warehouse)
    assert first.status == "succeeded", first.error
    assert (first.rows_added, first.rows_updated, first.rows_removed) == (30, 0, 0)
    assert harness.audience() == harness.expected_audience(rows)
    assert state_keys(warehouse) == {str(r[0]) for r in rows}
    assert harness.writes() == harness.expected_writes(enter=rows)

    # Updates, removes, adds and one address change (a new identity for key 3).
    before = harness.writes()
    changed = [(i, e, f"Renamed{i}") if i % 5 == 0 else (i, e, f) for i, e, f in rows]
    changed = [r for r in changed if r[0] % 6 != 0] + people(4, start=100)
    changed = [(3, "moved3@example.com", "First3") if r[0] == 3 else r for r in changed]
    write_source(warehouse, changed)

    second = run_sync(sync, warehouse)
    assert second.status == "succeeded", second.error
    assert harness.audience() == harness.expected_audience(changed)
    assert state_keys(warehouse) == {str(r[0]) for r in changed}
    renamed = [r for r in changed if r[2].startswith("Renamed")]
    removed = [r for r in rows if r[0] % 6 == 0]
    delta = harness.writes() - before
    if harness.keyed_by_primary_key:  # an address change is an update
        assert delta == harness.expected_writes(
            enter=people(4, start=100), update=[*renamed, (3, "", "")], exit=removed
        )
    else:
        moved = [(3, "moved3@example.com", "First3")]
        assert delta == harness.expected_writes(
            enter=people(4, start=100) + moved,
            update=renamed,
            exit=[*removed, (3, "person3@example.com", "")],
        )

    # Nothing changed: no request at all.
    requests = harness.server.request_count
    third = run_sync(sync, warehouse)
    assert third.status == "succeeded"
    assert (third.requests, third.rows_sent) == (0, 0)
    assert harness.server.request_count == requests


def test_invalid_addresses_are_rejected_with_a_reason_and_never_sent(
    harness: Harness, warehouse: Path
):
    rows = [
        *people(5),
        (90, "not-an-email", "Bad"),
        (91, "someone@localhost", "Bad"),
        (92, "two@@example.com", "Bad"),
        (93, "  Mixed.Case@Example.COM ", "Ok"),
    ]
    saas = not harness.keyed_by_primary_key  # keyed by email: a shared email is a duplicate
    if saas:
        rows.append((94, "person1@example.com", "Duplicate"))
    write_source(warehouse, rows)
    sync = harness.sync()
    result = run_sync(sync, warehouse)
    assert result.status == "succeeded", result.error
    assert result.rows_rejected == (4 if saas else 3)
    valid = harness.expected_audience([*people(5), (93, "mixed.case@example.com", "Ok")])
    assert harness.audience() == valid
    sent = {ident for _, ident in harness.writes()}
    never_sent = [r for r in rows if r[0] in (90, 91, 92)]  # 94 shares key 1's email
    assert not sent & {harness.ident(r) for r in never_sent}

    reasons = dict(query(warehouse, "select key, reason from reverse_etl.sync_rejections"))
    assert reasons["90"].startswith("invalid email address")
    if saas:
        assert reasons["94"].startswith("duplicate") and "key 1" in reasons["94"]
    terminal = query(warehouse, "select bool_and(terminal) from reverse_etl.sync_rejections")
    assert terminal == [(True,)]

    # Unchanged invalid rows are not retried; fixing one sends it.
    again = run_sync(sync, warehouse)
    assert (again.requests, again.rows_rejected) == (0, 0)
    write_source(warehouse, [r if r[0] != 90 else (90, "fixed@example.com", "Bad") for r in rows])
    fixed = run_sync(sync, warehouse)
    assert fixed.rows_added == 1
    fixed_row = harness.expected_audience([(90, "fixed@example.com", "Bad")])
    assert fixed_row.items() <= harness.audience().items()


def test_rows_the_destination_refuses_are_retried_up_to_the_limit(tmp_path: Path, kind: str):
    refused = "refused@example.com"
    server_kwargs = REGISTRY[kind].refusing_server_kwargs("2", refused, "blocked by destination")
    with harness_for(kind, **server_kwargs) as h:
        warehouse = tmp_path / "w.duckdb"
        write_source(warehouse, [(1, "ok@example.com", "A"), (2, refused, "B")])
        sync = h.sync(max_row_retries=2)
        first = run_sync(sync, warehouse)
        assert (first.rows_added, first.rows_rejected) == (1, 1)
        second = run_sync(sync, warehouse)  # retried: attempt 2 of 2, now terminal
        assert (second.rows_added, second.rows_rejected) == (0, 1)
        third = run_sync(sync, warehouse)
        assert third.requests == 0
        attempts = query(
            warehouse,
            "select attempts, terminal from reverse_etl.sync_rejections order by run_id",
        )
        assert attempts == [(1, False), (2, True)]
        assert "blocked" in query(warehouse, "select reason from reverse_etl.sync_rejections")[0][0]
        assert h.audience() == h.expected_audience([(1, "ok@example.com", "A")])


@pytest.fixture(params=KINDS)
def kind(request: pytest.FixtureRequest) -> str:
    return request.param


def test_transient_500s_recover_without_double_sends(harness: Harness, warehouse: Path):
    harness.server.faults.fail(3, 500)
    result = run_sync(harness.sync(destination={"batch_size": 10}), warehouse)
    assert result.status == "succeeded", result.error
    assert harness.audience() == harness.expected_audience(people(30))
    assert harness.writes() == harness.expected_writes(enter=people(30))


def test_an_outage_fails_the_run_and_the_next_run_finishes_exactly_once(
    harness: Harness, warehouse: Path
):
    sync = harness.sync(destination={"batch_size": 10})
    harness.server.faults.fail_for(60, 500)
    failed = run_sync(sync, warehouse)
    assert failed.status == "failed"
    assert "HTTP 500" in (failed.error or "")
    harness.server.faults.clear()
    done = run_sync(sync, warehouse)
    assert done.status == "succeeded", done.error
    assert done.reconciled_batches == 1  # the batch whose outcome was unknown
    assert harness.audience() == harness.expected_audience(people(30))
    assert harness.writes() == harness.expected_writes(enter=people(30))
    assert query(warehouse, "select count(*) from reverse_etl.sync_outbox") == [(0,)]


def test_a_429_storm_is_waited_out(harness: Harness, warehouse: Path):
    harness.server.faults.rate_limit_storm(5, retry_after="0")
    result = run_sync(harness.sync(), warehouse)
    assert result.status == "succeeded", result.error
    assert sum(1 for *_, status in harness.server.requests if status == 429) == 5
    assert harness.writes() == harness.expected_writes(enter=people(30))


def test_a_timed_out_write_is_reconciled_not_resent(harness: Harness, warehouse: Path):
    harness.server.faults.slow_writes(1, 1.0)
    retry = {"read_timeout_seconds": 0.3, "initial_backoff_seconds": 0.01}
    result = run_sync(harness.sync(destination={"batch_size": 10, "retry": retry}), warehouse)
    assert result.status == "succeeded", result.error
    assert harness.audience() == harness.expected_audience(people(30))
    assert harness.writes() == harness.expected_writes(enter=people(30))
    # The write's outcome was unknown: it was read back (SaaS) or replayed under the
    # same Idempotency-Key (webhook), never blindly resent.
    assert harness.was_reconciled()


def test_wrong_credentials_fail_fast_naming_destination_and_field(
    harness: Harness, warehouse: Path, monkeypatch: pytest.MonkeyPatch
):
    wrong = "wrong-secret-9f8e7d6c5b4a"
    monkeypatch.setenv(harness.secret_env, harness.wrong_secret(wrong))
    sync = harness.sync()
    started = time.monotonic()
    result = run_sync(sync, warehouse)
    assert time.monotonic() - started < 2
    assert result.status == "failed"
    message = result.error or ""
    field = harness.secret_field
    assert f"{harness.kind} destination of sync 'audience_sync'" in message
    assert f"destination.{field}" in message and harness.secret_env in message
    assert wrong not in message and harness.secret not in message
    assert harness.server.request_count == 1  # 401 is never retried
    assert state_keys(warehouse) == set()
    assert query(warehouse, "select count(*) from reverse_etl.sync_outbox") == [(0,)]

    destination = build_destination(sync.destination, sync.context)
    with pytest.raises(AuthError) as raised:
        destination.check()
    assert f"destination.{field}" in str(raised.value) and wrong not in str(raised.value)
    assert wrong not in repr(destination) and wrong not in repr(sync)


def test_check_passes_with_the_right_credentials(harness: Harness):
    sync = harness.sync()
    destination = build_destination(sync.destination, sync.context)
    destination.check()
    assert harness.writes() == Counter()


def test_unset_secret_variable_fails_before_any_request(
    harness: Harness, warehouse: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.delenv(harness.secret_env)
    result = run_sync(harness.sync(), warehouse)
    assert result.status == "failed"
    assert f"environment variable {harness.secret_env} is not set" in (result.error or "")
    assert harness.server.request_count == 0
    with pytest.raises(ConfigError):
        build_destination(harness.sync().destination, harness.sync().context)


def test_full_resync_resends_every_row(harness: Harness, warehouse: Path):
    sync = harness.sync()
    run_sync(sync, warehouse)
    assert run_sync(sync, warehouse).requests == 0
    write_source(warehouse, people(25))  # 5 rows leave the model
    result = run_sync(sync, warehouse, full_resync=True)
    assert result.status == "succeeded", result.error
    assert (result.rows_added, result.rows_removed) == (25, 5)
    assert harness.audience() == harness.expected_audience(people(25))


@pytest.mark.parametrize("kind", [k for k in KINDS if REGISTRY[k].second_step])
def test_a_batch_failing_after_its_first_write_is_kept_for_reconciliation(
    kind: str, warehouse: Path
):
    with harness_for(kind) as h:
        sync = h.sync(destination={"batch_size": 10})
        # The first write of the first batch lands, then its second call is refused.
        assert h.second_step is not None
        fragment, method = h.second_step
        h.server.faults.fail(1, 400, path_contains=fragment, method=method)
        failed = run_sync(sync, warehouse)
        assert failed.status == "failed" and "refused" in (failed.error or "")
        assert query(warehouse, "select count(*) from reverse_etl.sync_outbox") == [(1,)]
        done = run_sync(sync, warehouse)
        assert done.status == "succeeded" and done.reconciled_batches == 1
        assert h.writes() == h.expected_writes(enter=people(30))
        assert h.audience() == h.expected_audience(people(30))
