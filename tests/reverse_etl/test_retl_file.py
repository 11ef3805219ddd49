"""The file destination: snapshot and change files in a real directory.

No contract server here: the directory is the destination. What the tests read
back is what a consumer of the drop would read: the snapshot (the current rows)
and the change files (one per batch, counted per operation and key the way the
contract servers count deliveries).
"""

from __future__ import annotations

import os
import subprocess
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml
from retl_support import people, query, subprocess_env, sync_command, write_source

from reverse_etl.batch import Batch, Mode, Phase, Row
from reverse_etl.config import SyncDefinition, parse_syncs
from reverse_etl.destinations import build_destination
from reverse_etl.destinations.file import FileDestination
from reverse_etl.destinations.file.formats import FORMATS
from reverse_etl.engine.runner import run_sync
from reverse_etl.errors import ConfigError, DestinationError

SYNC = "audience_sync"


def sync_dict(directory: Path, mode: str = "audience", **destination: Any) -> dict[str, Any]:
    return {
        "name": SYNC,
        "source": "marts.audience",
        "primary_key": "customer_id",
        "mode": mode,
        "destination": {"type": "file", "directory": str(directory), **destination},
        "fields": {"email": {"source": "email", "type": "email"}, "first_name": "first_name"},
    }


def make_sync(directory: Path, mode: str = "audience", **destination: Any) -> SyncDefinition:
    return parse_syncs([sync_dict(directory, mode, **destination)])[0]


def snapshot(directory: Path, fmt: str = "csv") -> dict[str, tuple[str | None, str | None]]:
    path = directory / f"{SYNC}.{fmt}"
    if not path.exists():
        return {}
    return {r["key"]: (r["email"], r["first_name"]) for r in FORMATS[fmt].read(path)}  # type: ignore[misc]


def change_files(directory: Path, fmt: str = "csv") -> list[Path]:
    folder = directory / f"{SYNC}_changes"
    return sorted(folder.glob(f"*.{fmt}")) if folder.is_dir() else []


def changes(directory: Path, fmt: str = "csv") -> Counter[tuple[str, str]]:
    """(operation, key) -> how many change-file rows carry it."""
    counts: Counter[tuple[str, str]] = Counter()
    for path in change_files(directory, fmt):
        for record in FORMATS[fmt].read(path):
            counts[(str(record["_operation"]), str(record["key"]))] += 1
    return counts


def expected(rows: list[tuple[int, str, str]]) -> dict[str, tuple[str | None, str | None]]:
    return {str(i): (email, first) for i, email, first in rows}


def no_temporaries(directory: Path) -> bool:
    return not [p for p in directory.rglob(".*") if p.name.endswith(".tmp")]


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_state_equals_source_through_adds_updates_removes(fmt: str, tmp_path: Path):
    out = tmp_path / "drop"
    out.mkdir()
    warehouse = tmp_path / "w.duckdb"
    rows = people(30)
    write_source(warehouse, rows)
    sync = make_sync(out, format=fmt, batch_size=7)

    first = run_sync(sync, warehouse)
    assert first.status == "succeeded", first.error
    assert snapshot(out, fmt) == expected(rows)
    assert changes(out, fmt) == Counter(("enter", str(r[0])) for r in rows)
    assert len(change_files(out, fmt)) == 5  # 30 rows in batches of 7

    changed = [(i, e, f"Renamed{i}") if i % 5 == 0 else (i, e, f) for i, e, f in rows]
    changed = [r for r in changed if r[0] % 6 != 0] + people(4, start=100)
    changed = [(3, "moved3@example.com", "First3") if r[0] == 3 else r for r in changed]
    write_source(warehouse, changed)
    before = changes(out, fmt)
    second = run_sync(sync, warehouse)
    assert second.status == "succeeded", second.error
    assert snapshot(out, fmt) == expected(changed)
    delta = changes(out, fmt) - before
    renamed = {str(r[0]) for r in changed if r[2].startswith("Renamed")} | {"3"}
    assert delta == Counter(
        [("exit", str(r[0])) for r in rows if r[0] % 6 == 0]
        + [("enter", str(i)) for i in range(100, 104)]
        + [("update", k) for k in renamed]
    )
    record = FORMATS[fmt].read(out / f"{SYNC}.{fmt}")[0]
    assert list(record) == ["key", "email", "first_name", "_cdp_batch_id", "_synced_at"]
    assert no_temporaries(out)

    # Nothing changed: nothing written, not even the snapshot.
    files = {p: p.stat().st_mtime_ns for p in out.rglob("*")}
    third = run_sync(sync, warehouse)
    assert third.status == "succeeded"
    assert (third.requests, third.rows_sent) == (0, 0)
    assert {p: p.stat().st_mtime_ns for p in out.rglob("*")} == files


def test_modes_upsert_and_insert_only(tmp_path: Path):
    warehouse = tmp_path / "w.duckdb"
    rows = people(6)
    later = [(i, e, f"New{i}") for i, e, _ in rows if i != 6]
    for mode, want in (
        ("upsert", {**expected(rows), **expected(later)}),  # 6 left the model: kept
        ("insert-only", expected(rows)),  # neither updated nor removed
        ("mirror", expected(later)),
    ):
        out = tmp_path / mode
        out.mkdir()
        write_source(warehouse, rows)
        sync = make_sync(out, mode)
        assert run_sync(sync, warehouse).status == "succeeded"
        write_source(warehouse, later)
        assert run_sync(sync, warehouse).status == "succeeded"
        assert snapshot(out) == want, mode
        operations = {op for op, _ in changes(out)}
        assert (
            operations
            == {
                "upsert": {"upsert"},
                "insert-only": {"insert"},
                "mirror": {"upsert", "delete"},
            }[mode]
        )
        query(warehouse, "delete from reverse_etl.sync_state")  # next mode starts afresh


@pytest.mark.parametrize("layout", [{"changes": False}, {"snapshot": False}])
def test_snapshot_only_and_changes_only(layout: dict[str, bool], tmp_path: Path):
    out = tmp_path / "drop"
    out.mkdir()
    warehouse = tmp_path / "w.duckdb"
    write_source(warehouse, people(10))
    assert run_sync(make_sync(out, **layout), warehouse).status == "succeeded"
    write_source(warehouse, people(8))
    assert run_sync(make_sync(out, **layout), warehouse).status == "succeeded"
    if layout.get("changes") is False:
        assert snapshot(out) == expected(people(8)) and change_files(out) == []
    else:
        assert not (out / f"{SYNC}.csv").exists()
        assert changes(out) == Counter(
            [("enter", str(i)) for i in range(1, 11)] + [("exit", "9"), ("exit", "10")]
        )


def _batch(phase: Phase = Phase.ADD, batch_id: str = "b" * 32) -> Batch:
    rows = tuple(Row(str(i), {"email": e, "first_name": f}, "h") for i, e, f in people(3))
    return Batch(batch_id, SYNC, Mode.AUDIENCE, phase, rows)


@pytest.mark.parametrize("layout", [{}, {"changes": False}])
def test_reconcile_tells_applied_from_not_applied(layout: dict[str, bool], tmp_path: Path):
    sync = make_sync(tmp_path, **layout)
    destination = build_destination(sync.destination, sync.context)
    batch = _batch()
    assert destination.reconcile(batch).unapplied == {"1", "2", "3"}
    assert set(destination.deliver(batch).acknowledged) == {"1", "2", "3"}
    files = {p: (p.stat().st_ino, p.stat().st_mtime_ns) for p in tmp_path.rglob("*")}
    known = destination.reconcile(batch)
    assert set(known.acknowledged) == {"1", "2", "3"} and not known.unapplied
    # Delivering the same batch again (same id) writes nothing new.
    destination.deliver(batch)
    assert {p: (p.stat().st_ino, p.stat().st_mtime_ns) for p in tmp_path.rglob("*")} == files

    remove = _batch(Phase.REMOVE, "c" * 32)
    assert destination.reconcile(remove).unapplied == {"1", "2", "3"}
    destination.deliver(remove)
    assert not destination.reconcile(remove).unapplied
    assert snapshot(tmp_path) == {}


def test_snapshot_failure_after_change_file_is_finished_by_reconcile(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    """The change file is the commit point: if the snapshot then cannot be written the
    batch stays in the outbox, and the next run completes the snapshot without writing
    a second change file."""
    out = tmp_path / "drop"
    out.mkdir()
    warehouse = tmp_path / "w.duckdb"
    write_source(warehouse, people(5))
    sync = make_sync(out)
    original = FileDestination._apply_to_snapshot

    def disk_full(self: FileDestination, batch: Batch, at: str) -> None:
        raise self._fail("write snapshot", OSError(28, "No space left on device"))

    monkeypatch.setattr(FileDestination, "_apply_to_snapshot", disk_full)
    failed = run_sync(sync, warehouse)
    assert failed.status == "failed"
    assert "file destination of sync 'audience_sync': directory: cannot write snapshot" in (
        failed.error or ""
    )
    assert query(warehouse, "select count(*) from reverse_etl.sync_outbox") == [(1,)]
    assert len(change_files(out)) == 1 and snapshot(out) == {}

    monkeypatch.setattr(FileDestination, "_apply_to_snapshot", original)
    done = run_sync(sync, warehouse)
    assert done.status == "succeeded" and done.reconciled_batches == 1
    assert snapshot(out) == expected(people(5))
    assert changes(out) == Counter(("enter", str(i)) for i in range(1, 6))


def test_a_failed_write_leaves_the_old_file_and_no_temporary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    out = tmp_path / "drop"
    out.mkdir()
    warehouse = tmp_path / "w.duckdb"
    write_source(warehouse, people(5))
    sync = make_sync(out, changes=False)
    assert run_sync(sync, warehouse).status == "succeeded"
    before = (out / f"{SYNC}.csv").read_bytes()

    def crash_in_fsync(fd: int) -> None:
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(os, "fsync", crash_in_fsync)
    write_source(warehouse, people(7))
    result = run_sync(sync, warehouse)
    assert result.status == "failed" and "Input/output error" in (result.error or "")
    assert (out / f"{SYNC}.csv").read_bytes() == before
    assert no_temporaries(out)
    # Nothing landed, so the batch is not left for reconciliation.
    assert query(warehouse, "select count(*) from reverse_etl.sync_outbox") == [(0,)]


def test_check_and_errors_name_the_destination_and_the_field(tmp_path: Path):
    sync = make_sync(tmp_path)
    build_destination(sync.destination, sync.context).check()
    assert list(tmp_path.iterdir()) == []

    missing = make_sync(tmp_path / "nope")
    with pytest.raises(DestinationError) as raised:
        build_destination(missing.destination, missing.context).check()
    assert "file destination of sync 'audience_sync': directory:" in str(raised.value)
    assert "does not exist" in str(raised.value)

    a_file = tmp_path / "file.txt"
    a_file.write_text("x")
    with pytest.raises(DestinationError, match="not a directory"):
        sync = make_sync(a_file)
        build_destination(sync.destination, sync.context).check()

    warehouse = tmp_path / "w.duckdb"
    write_source(warehouse, people(2))
    result = run_sync(missing, warehouse)
    assert result.status == "failed" and "directory:" in (result.error or "")


@pytest.mark.parametrize(
    ("destination", "fields", "problem"),
    [
        ({"directory": "relative/dir"}, None, "directory: must be an absolute path"),
        ({"base_url": "http://x"}, None, "base_url: not used by the file destination"),
        ({"snapshot": False, "changes": False}, None, "nothing would be written"),
        ({"format": "xlsx"}, None, "destination.format"),
        ({}, {"_synced_at": "first_name"}, "fields._synced_at: clashes"),
        ({"key_column": "email"}, None, "fields.email: clashes"),
    ],
)
def test_config_errors(destination: dict[str, Any], fields: Any, problem: str, tmp_path: Path):
    raw = sync_dict(tmp_path)
    raw["destination"].update(destination)
    if fields:
        raw["fields"] = fields
    with pytest.raises(ConfigError) as raised:
        parse_syncs([raw])
    assert problem in str(raised.value)


def test_mode_update_only_is_refused(tmp_path: Path):
    with pytest.raises(ConfigError, match="not supported by the file destination"):
        make_sync(tmp_path, "update-only")


# -- kill points ----------------------------------------------------------------------------

KILLS: list[list[str]] = [
    ["outbox_written:2", "acknowledged:1", "reconciled:1", "acknowledged:3", "committed:2"],
    ["acknowledged:1", "reconciled:1", "outbox_written:1", "committed:1", "acknowledged:2"],
]


def phase_rows() -> list[list[tuple[int, str, str]]]:
    initial = people(40)
    changed = [(i, e, f"Renamed{i}") if i % 4 == 0 else (i, e, f) for i, e, f in initial]
    changed = [r for r in changed if r[0] % 5 != 0] + people(6, start=200)
    return [initial, changed]


def run_cli(config: Path, warehouse: Path, crash_at: str | None) -> int:
    done = subprocess.run(
        [*sync_command(crash_at), "--config", str(config), "--warehouse", str(warehouse)],
        env=subprocess_env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    expected_codes = (0, 137) if crash_at else (0,)
    assert done.returncode in expected_codes, done.stdout + done.stderr
    return done.returncode


@pytest.mark.parametrize("layout", [{"format": "csv"}, {"format": "parquet", "changes": False}])
def test_killed_runs_write_every_change_exactly_once(layout: dict[str, Any], tmp_path: Path):
    fmt = layout["format"]
    out, ref_out = tmp_path / "drop", tmp_path / "ref"
    out.mkdir()
    ref_out.mkdir()
    warehouse, ref_warehouse = tmp_path / "w.duckdb", tmp_path / "ref.duckdb"
    config = tmp_path / "syncs.yaml"
    config.write_text(yaml.safe_dump({"syncs": [sync_dict(out, batch_size=4, **layout)]}))
    reference = make_sync(ref_out, batch_size=4, **layout)
    killed = 0
    for kills, rows in zip(KILLS, phase_rows(), strict=True):
        write_source(warehouse, rows)
        write_source(ref_warehouse, rows)
        assert run_sync(reference, ref_warehouse).status == "succeeded"
        for crash_at in kills:
            killed += run_cli(config, warehouse, crash_at) != 0
        run_cli(config, warehouse, None)

        assert snapshot(out, fmt) == snapshot(ref_out, fmt) == expected(rows)
        assert changes(out, fmt) == changes(ref_out, fmt)
        assert query(warehouse, "select count(*) from reverse_etl.sync_outbox") == [(0,)]
        state = {k for (k,) in query(warehouse, "select key from reverse_etl.sync_state")}
        assert state == {str(r[0]) for r in rows}
    assert killed >= 9, f"only {killed} runs were actually killed"
    if layout.get("changes", True):
        assert max(changes(ref_out, fmt).values()) <= 2
    assert no_temporaries(out)
    assert run_sync(make_sync(out, batch_size=4, **layout), warehouse).requests == 0


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
@pytest.mark.parametrize("mode", ["audience", "upsert"])
def test_erased_person_is_rewritten_out_of_snapshot_and_change_files(
    tmp_path: Path, warehouse: Path, mode: str, fmt: str
):
    """Every file of the drop that held the erased person is rewritten without them;
    an erase change file names only the key (docs/privacy.md, Destinations)."""
    from test_retl_erasure import record_erasure

    out = tmp_path / "out"
    out.mkdir()
    sync = make_sync(out, mode, format=fmt, batch_size=7)
    rows = people(30)
    assert run_sync(sync, warehouse).status == "succeeded"
    renamed = [(i, e, f"Renamed{i}") if i in (5, 8) else (i, e, f) for i, e, f in rows]
    write_source(warehouse, renamed)
    assert run_sync(sync, warehouse).status == "succeeded"
    before = changes(out, fmt)
    assert sum(n for (_, key), n in before.items() if key == "5") == 2  # sent, then renamed
    kept = {k: n for k, n in before.items() if k[1] == "8"}

    record_erasure(warehouse, 5)
    write_source(warehouse, [r for r in renamed if r[0] != 5])
    result = run_sync(sync, warehouse)
    assert result.status == "succeeded", result.error
    assert "5" not in snapshot(out, fmt) and "8" in snapshot(out, fmt)
    for path in change_files(out, fmt):
        for record in FORMATS[fmt].read(path):
            assert record["email"] != "person5@example.com", path.name
            assert record["first_name"] not in ("First5", "Renamed5"), path.name
    erase_files = [p for p in change_files(out, fmt) if p.name.endswith(f"-erase.{fmt}")]
    assert len(erase_files) == 1
    (erased,) = FORMATS[fmt].read(erase_files[0])
    assert erased["key"] == "5" and not erased["email"] and not erased["first_name"]
    after = changes(out, fmt)
    assert {k: n for k, n in after.items() if k[1] == "5"} == {("erase", "5"): 1}
    assert {k: n for k, n in after.items() if k[1] == "8"} == kept
