"""Fixtures for the measures and segments tests: the suite's shared business.

The shared business (tests/business.py: `cdp generate`, `cdp ingest`,
`cdp build`, as `cdp run --no-sync` does) is built as of the default
`cdp__as_of_date` (2026-06-30, the generator's end date). The package reads a
copy of its warehouse; tests that change the warehouse copy it again.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from tests.business import Business

REPO = Path(__file__).resolve().parents[2]
DBT_PROJECT = REPO / "dbt_project"
BIN = Path(sys.executable).parent
AS_OF_DATE = "2026-06-30"


@dataclass(frozen=True)
class Warehouse:
    """A built warehouse and the environment that builds it."""

    path: Path
    env: dict[str, str]

    def query(self, sql: str) -> pd.DataFrame:
        with duckdb.connect(str(self.path), read_only=True) as con:
            return con.sql(sql).df()

    def execute(self, sql: str) -> None:
        with duckdb.connect(str(self.path)) as con:
            con.execute(sql)

    def dbt(
        self, *args: str, project: Path = DBT_PROJECT, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        """Run dbt against this warehouse; with check, fail the test with dbt's output."""
        result = subprocess.run(
            [str(BIN / "dbt"), *args, "--project-dir", str(project), "--profiles-dir", str(REPO)],
            env=self.env,
            cwd=REPO,
            capture_output=True,
            text=True,
            check=False,
        )
        if check:
            assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
        return result


def make_env(root: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["CDP_HOME"] = str(REPO)
    env["CDP_DATA_DIR"] = str(root / "data")
    env["CDP_DUCKDB_PATH"] = str(root / "cdp.duckdb")
    env["DBT_SEND_ANONYMOUS_USAGE_STATS"] = "false"
    env["DBT_TARGET_PATH"] = str(root / "dbt_target")
    env["DBT_LOG_PATH"] = str(root / "dbt_logs")
    return env


@pytest.fixture(scope="package")
def built_warehouse(
    shared_business: Business, tmp_path_factory: pytest.TempPathFactory
) -> Warehouse:
    """A copy of the shared business's warehouse for the package's reading tests."""
    root = tmp_path_factory.mktemp("segments_warehouse")
    env = make_env(root)
    env["CDP_DATA_DIR"] = str(shared_business.data)
    shared_business.copy_warehouse(root)
    return Warehouse(root / "cdp.duckdb", env)


@pytest.fixture
def warehouse_copy(built_warehouse: Warehouse, tmp_path: Path) -> Iterator[Warehouse]:
    """A private copy of the built warehouse, safe to change."""
    env = make_env(tmp_path)
    env["CDP_DATA_DIR"] = built_warehouse.env["CDP_DATA_DIR"]
    shutil.copy(built_warehouse.path, tmp_path / "cdp.duckdb")
    yield Warehouse(tmp_path / "cdp.duckdb", env)
