"""Fixtures for the predictions tests: one generated warehouse built by `cdp build`.

`cdp generate` and `cdp ingest` land the sample business into a throwaway
DuckDB file; `cdp build` runs dbt, the scoring step and dbt again, as of the
default as-of date.
Built once per session; tests that change the warehouse copy it first.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd
import pytest

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
# Enough customers that each holdout has a few hundred rows.
CUSTOMERS = 1_500


@dataclass(frozen=True)
class Warehouse:
    path: Path
    env: dict[str, str]
    build_output: str

    def query(self, sql: str) -> pd.DataFrame:
        with duckdb.connect(str(self.path), read_only=True) as con:
            return con.sql(sql).df()


def make_env(root: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "CDP_HOME": str(REPO),
            "CDP_TARGET": "duckdb",
            "CDP_DATA_DIR": str(root / "data"),
            "CDP_DUCKDB_PATH": str(root / "warehouse.duckdb"),
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
            "DBT_TARGET_PATH": str(root / "dbt_target"),
            "DBT_LOG_PATH": str(root / "dbt_logs"),
            # dbt's unit tests (SQL on inline rows, none on the prediction models)
            # are left out of this build to save time; test_cli's and
            # tests/engines' builds run them.
            "DBT_EXCLUDE_RESOURCE_TYPES": "unit_test",
        }
    )
    return env


def run_cdp(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "cdp"), *args], env=env, cwd=REPO, capture_output=True, text=True, check=False
    )


@pytest.fixture(scope="session")
def scored_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Warehouse:
    root = tmp_path_factory.mktemp("predictions_warehouse")
    env = make_env(root)
    for step in (["generate", "--customers", str(CUSTOMERS)], ["ingest"]):
        done = run_cdp(step, env)
        assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    built = run_cdp(["build"], env)
    assert built.returncode == 0, built.stdout[-4000:] + built.stderr[-2000:]
    return Warehouse(root / "warehouse.duckdb", env, built.stdout)
