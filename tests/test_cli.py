"""The `cdp` command as a user meets it: help, errors, and the whole run end to end."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from tests.conftest import run_cdp

COMMANDS = ["generate", "ingest", "build", "run", "summary", "freshness", "docs"]


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_explains_itself(command: str, cdp_env: dict[str, str]) -> None:
    result = run_cdp([command, "--help"], cdp_env)
    assert result.returncode == 0, result.stderr
    assert f"Usage: cdp {command}" in result.stdout
    # The first line of the help text is a real sentence, not an empty docstring.
    body = result.stdout.split("\n\n")[1].strip()
    assert len(body.split()) >= 5


def test_missing_input_folder_is_one_line_and_writes_nothing(
    cdp_env: dict[str, str], tmp_path: Path
) -> None:
    missing = tmp_path / "no" / "such" / "folder"
    result = run_cdp(["ingest", "--input", str(missing)], cdp_env)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert str(missing) in lines[0]
    assert not Path(cdp_env["CDP_DUCKDB_PATH"]).exists()


def _raw_counts(warehouse: Path) -> dict[str, int]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        tables = [
            name
            for (name,) in con.execute(
                "select table_name from information_schema.tables "
                "where table_schema = 'raw' and table_name not like '\\_%' escape '\\'"
            ).fetchall()
        ]
        return {t: con.execute(f"select count(*) from raw.{t}").fetchone()[0] for t in tables}


def _rejects_by_file(warehouse: Path) -> dict[str, int]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return dict(
            con.execute(
                "select source_file, count(*) from raw._rejects group by source_file"
            ).fetchall()
        )


@pytest.mark.slow
def test_run_end_to_end_twice(cdp_env: dict[str, str]) -> None:
    first = run_cdp(["run", "--customers", "400"], cdp_env)
    assert first.returncode == 0, first.stdout[-4000:] + first.stderr[-4000:]
    assert "Raw landing" in first.stdout
    assert "Staging models" in first.stdout

    warehouse = Path(cdp_env["CDP_DUCKDB_PATH"])
    data_dir = Path(cdp_env["CDP_DATA_DIR"])
    manifest = json.loads((data_dir / "manifest.json").read_text())
    counts = _raw_counts(warehouse)
    rejects = _rejects_by_file(warehouse)

    # Every generated row is accounted for: landed or rejected, per table,
    # and the rejected ones are exactly the rows the generator broke on purpose.
    written: dict[str, int] = {}
    malformed: dict[str, int] = {}
    for entry in manifest["files"]:
        written[entry["table"]] = written.get(entry["table"], 0) + entry["rows"]
        if entry["malformed"]:
            malformed[entry["path"]] = len(entry["malformed"])
    for table, rows in written.items():
        table_rejects = sum(n for path, n in rejects.items() if path.split("/")[0] == table)
        assert counts[table] + table_rejects == rows, table
    assert sum(malformed.values()) > 0
    # Manifest paths are relative to the data folder, reject paths to the landing folder.
    assert {f"landing/{path}" for path in rejects} == set(malformed)

    # The second run lands nothing new: same raw row counts.
    second = run_cdp(["run", "--customers", "400"], cdp_env)
    assert second.returncode == 0, second.stdout[-4000:] + second.stderr[-4000:]
    assert _raw_counts(warehouse) == counts
    assert _rejects_by_file(warehouse) == rejects
