"""`cdp privacy finish --compact`: deleted rows leave no bytes in the warehouse file.

A small real DuckDB file, no shared business: rows with a distinctive address
are deleted and checkpointed (their bytes stay in free blocks, which is what
the test first shows), then the command rewrites the file and swaps it in.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

REPO = Path(__file__).resolve().parents[2]
CDP = Path(sys.executable).parent / "cdp"
SECRET = "erased.person.compaction.test@example.org"


def _cdp(tmp_path: Path, warehouse: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ) | {
        "CDP_HOME": str(REPO),
        "CDP_TARGET": "duckdb",
        "CDP_DUCKDB_PATH": str(warehouse),
        "CDP_DATA_DIR": str(tmp_path / "data"),
        "CDP_SYNCS_PATH": str(tmp_path / "no-syncs.yml"),
    }
    return subprocess.run(
        [str(CDP), *args], env=env, cwd=REPO, capture_output=True, text=True, check=False
    )


def test_compaction_drops_deleted_bytes_and_keeps_everything_else(tmp_path: Path):
    warehouse = tmp_path / "cdp.duckdb"
    with duckdb.connect(str(warehouse)) as con:
        con.execute("set force_compression = 'uncompressed'")  # the bytes, plainly
        con.execute("create schema marts")
        con.execute("create sequence marts.run_id start 1")
        con.execute("create table marts.people (id bigint primary key, email varchar)")
        con.execute(
            "insert into marts.people select i, case when i % 10 = 0 then ? "
            "else 'kept' || i || '@example.com' end from range(1, 20001) t(i)",
            [SECRET],
        )
        con.execute("create view marts.people_v as select * from marts.people")
        con.execute("select nextval('marts.run_id') from range(7)")
        con.execute("checkpoint")
        con.execute("delete from marts.people where email = ?", [SECRET])
        con.execute("checkpoint")
    assert SECRET.encode() in warehouse.read_bytes(), "deleted bytes linger before compaction"

    done = _cdp(tmp_path, warehouse, "privacy", "finish", "--compact")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "compacted the warehouse" in done.stdout
    assert SECRET.encode() not in warehouse.read_bytes()
    assert not list(tmp_path.glob(".cdp.duckdb.compact-*"))
    with duckdb.connect(str(warehouse)) as con:
        assert con.execute("select count(*) from marts.people_v").fetchall() == [(18000,)]
        assert con.execute("select nextval('marts.run_id')").fetchall() == [(8,)]
        with pytest.raises(duckdb.ConstraintException):  # the primary key came along
            con.execute("insert into marts.people values (1, 'duplicate')")


def test_compaction_refuses_a_missing_warehouse(tmp_path: Path):
    done = _cdp(tmp_path, tmp_path / "absent.duckdb", "privacy", "finish", "--compact")
    assert done.returncode == 2
    assert done.stderr.startswith("error: warehouse not found")
    assert "Traceback" not in done.stderr
