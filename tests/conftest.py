"""Shared fixtures: every test gets its own data folder and warehouse file."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
CDP = Path(sys.executable).parent / "cdp"


@pytest.fixture
def cdp_env(tmp_path: Path) -> Iterator[dict[str, str]]:
    """Environment for running the `cdp` CLI against a throwaway data folder and warehouse."""
    env = dict(os.environ)
    env["CDP_HOME"] = str(REPO)
    env["CDP_DATA_DIR"] = str(tmp_path / "data")
    env["CDP_DUCKDB_PATH"] = str(tmp_path / "warehouse" / "cdp.duckdb")
    env["DBT_SEND_ANONYMOUS_USAGE_STATS"] = "false"
    # dbt writes target/ and logs/ into the project; keep parallel runs apart.
    env["DBT_TARGET_PATH"] = str(tmp_path / "dbt_target")
    env["DBT_LOG_PATH"] = str(tmp_path / "dbt_logs")
    yield env


def run_cdp(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run the installed `cdp` command and capture its output."""
    return subprocess.run(
        [str(CDP), *args], env=env, cwd=REPO, capture_output=True, text=True, check=False
    )
