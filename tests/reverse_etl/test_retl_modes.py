"""Diff semantics per mode, validation and hashing in SQL, plan and CLI."""

from __future__ import annotations

import hashlib
import subprocess
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
from retl_support import PYTHON, Harness, harness_for, people, query, subprocess_env, write_source

from reverse_etl.config import parse_syncs
from reverse_etl.engine.plan import plan_sync
from reverse_etl.engine.runner import run_sync


@pytest.fixture
def hook() -> Iterator[Harness]:
    with harness_for("webhook") as h:
        yield h


def operations(h: Harness) -> dict[str, set[str]]:
    ops: dict[str, set[str]] = {}
    for (op, key), _ in h.writes().items():
        ops.setdefault(op, set()).add(key)
    return ops


def evolve(warehouse: Path) -> None:
    """Key 1 changes, key 2 leaves, key 9 arrives."""
    rows = [(1, "person1@example.com", "Changed"), *people(2, start=3), (9, "n9@example.com", "N")]
    write_source(warehouse, rows)


@pytest.mark.parametrize(
    ("mode", "first_op", "second", "state_after"),
    [
        ("upsert", "upsert", {"upsert": {"1", "9"}}, {"1", "3", "4", "9"}),
        ("mirror", "upsert", {"upsert": {"1", "9"}, "delete": {"2"}}, {"1", "3", "4", "9"}),
        ("insert-only", "insert", {"insert": {"9"}}, {"1", "2", "3", "4", "9"}),
        ("update-only", "update", {"update": {"1", "9"}}, {"1", "3", "4", "9"}),
        (
            "audience",
            "enter",
            {"enter": {"9"}, "update": {"1"}, "exit": {"2"}},
            {"1", "3", "4", "9"},
        ),
    ],
)
def test_modes(hook: Harness, tmp_path: Path, mode, first_op, second, state_after):  # type: ignore[no-untyped-def]
    warehouse = tmp_path / "w.duckdb"
    write_source(warehouse, people(4))
    hook.mode = mode
    sync = hook.sync()
    run_sync(sync, warehouse)
    assert operations(hook) == {first_op: {"1", "2", "3", "4"}}
    before = hook.writes()
    evolve(warehouse)
    plan = plan_sync(sync, warehouse)
    result = run_sync(sync, warehouse)
    assert result.status == "succeeded", result.error
    delta: dict[str, set[str]] = {}
    for (op, key), _ in (hook.writes() - before).items():
        delta.setdefault(op, set()).add(key)
    assert delta == second
    assert {k for (k,) in query(warehouse, "select key from reverse_etl.sync_state")} == state_after
    assert plan.diff.to_send == sum(len(v) for v in second.values())
    if mode == "insert-only":
        assert (plan.diff.ignored, plan.diff.forgets) == (2, 0)
    if mode in ("upsert", "update-only"):
        assert plan.diff.forgets == 1
    assert run_sync(sync, warehouse).requests == 0


def test_phones_are_normalised_validated_and_hashed(hook: Harness, tmp_path: Path):
    warehouse = tmp_path / "w.duckdb"
    con = duckdb.connect(str(warehouse))
    con.execute("create schema marts")
    con.execute(
        """create table marts.audience as select * from (values
            (1, 'A@Example.com', '+49 (151) 123-45678'),
            (2, 'b@example.com', '0049 151 12345678'),
            (3, 'c@example.com', '12345'),
            (4, 'd@example.com', null)
        ) t(customer_id, email, phone)"""
    )
    con.close()
    sync = parse_syncs(
        [
            {
                **hook.sync_dict(),
                "fields": {
                    "email": {"source": "email", "type": "email"},
                    "phone": {"source": "phone", "type": "phone"},
                },
                "hashed_identifiers": ["email", "phone"],
            }
        ]
    )[0]
    result = run_sync(sync, warehouse)
    assert (result.rows_added, result.rows_rejected) == (3, 1)
    sha = lambda v: hashlib.sha256(v.encode()).hexdigest()  # noqa: E731
    members = hook.server.members
    assert members["1"] == {"email": sha("a@example.com"), "phone": sha("+4915112345678")}
    assert members["2"]["phone"] == sha("+4915112345678")
    assert members["4"]["phone"] is None
    (reason,) = query(warehouse, "select reason from reverse_etl.sync_rejections")[0]
    assert reason.startswith("invalid phone number in phone (expected E.164")


def test_yaml_field_order_does_not_change_hashes(hook: Harness, warehouse: Path):
    sync = hook.sync()
    run_sync(sync, warehouse)
    reordered = hook.sync_dict()
    reordered["fields"] = dict(reversed(list(reordered["fields"].items())))
    assert run_sync(parse_syncs([reordered])[0], warehouse).requests == 0


def test_duplicate_primary_keys_fail_the_run_without_sending(hook: Harness, warehouse: Path):
    write_source(warehouse, [*people(3), (2, "other@example.com", "Dup")])
    result = run_sync(hook.sync(), warehouse)
    assert result.status == "failed"
    assert "primary_key customer_id is not unique in marts.audience (e.g. '2')" in result.error
    assert hook.server.request_count == 0


def test_plan_sends_and_records_nothing(hook: Harness, warehouse: Path):
    sync = hook.sync()
    plan = plan_sync(sync, warehouse, full_resync=True)
    assert (plan.diff.adds, plan.diff.changes, plan.diff.removes) == (30, 0, 0)
    assert "add             30  e.g. keys 1, 10, 11, 12, 13" in plan.render()
    assert hook.server.request_count == 0
    assert query(warehouse, "select count(*) from reverse_etl.sync_runs") == [(0,)]
    run_sync(sync, warehouse)
    resync = plan_sync(sync, warehouse, full_resync=True)
    assert resync.diff.adds == 30
    assert plan_sync(sync, warehouse).diff.to_send == 0


def test_cli_plan_run_and_bad_config(hook: Harness, warehouse: Path, tmp_path: Path):
    config = hook.write_config(tmp_path / "syncs.yaml")
    base = [PYTHON, "-m", "reverse_etl.cli", "--config", str(config), "--warehouse", str(warehouse)]
    env = subprocess_env()

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*base, *args], env=env, capture_output=True, text=True, check=False)

    planned = cli("--plan")
    assert planned.returncode == 0, planned.stderr
    assert "sync audience_sync (audience -> webhook)" in planned.stdout
    ran = cli("--sync", "audience_sync")
    assert ran.returncode == 0, ran.stderr
    assert "added 30, updated 0, removed 0, rejected 0; 30 rows sent in 1 requests" in ran.stdout
    assert cli("--check").returncode == 0
    unknown = cli("--sync", "nope")
    assert unknown.returncode == 2 and "unknown sync nope" in unknown.stderr
    env[hook.secret_env] = "wrong-but-long-secret"
    denied = cli("--full-resync")
    assert denied.returncode == 1
    output = denied.stdout + denied.stderr
    assert "destination.signing_secret_env" in output and "wrong-but-long-secret" not in output


def test_a_sync_of_plain_string_fields_only(hook: Harness, warehouse: Path):
    """No field is validated (no email/phone type, nothing required): every row is sent
    as stored, and nothing is withheld or rejected."""
    sync = hook.sync(fields={"email": "email", "first_name": "first_name"})
    result = run_sync(sync, warehouse)
    assert result.status == "succeeded", result.error
    assert (result.rows_added, result.rows_rejected) == (30, 0)
    assert hook.audience() == hook.expected_audience(people(30))
