"""Fixtures for the predictions tests: the suite's shared business, scored.

The shared business (tests/business.py) went through `cdp generate`,
`cdp ingest` and `cdp build` (dbt, the scoring step and dbt again, as of the
default as-of date). The package reads a copy of its warehouse and dbt
target; tests that change the warehouse copy it again.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from tests.business import Business

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


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
            "CDP_DUCKDB_PATH": str(root / "cdp.duckdb"),
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
            "DBT_TARGET_PATH": str(root / "dbt_target"),
            "DBT_LOG_PATH": str(root / "dbt_logs"),
        }
    )
    return env


@pytest.fixture(scope="session")
def scored_warehouse(
    shared_business: Business, tmp_path_factory: pytest.TempPathFactory
) -> Warehouse:
    root = tmp_path_factory.mktemp("predictions_warehouse")
    env = make_env(root)
    env["CDP_DATA_DIR"] = str(shared_business.data)
    shared_business.copy_warehouse(root)
    shared_business.copy_dbt_target(root / "dbt_target")
    return Warehouse(root / "cdp.duckdb", env, shared_business.build.build_log)
