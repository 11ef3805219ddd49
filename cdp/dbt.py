"""Run dbt for the project as a subprocess, so its own progress lines stream to the terminal."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from cdp.config import Settings
from cdp.warehouse import lock_timeout, wait_until_free


class DbtError(RuntimeError):
    """dbt exited non-zero; its own output above says which model or test failed."""


def dbt_executable() -> Path:
    """The dbt script installed beside this interpreter (the project's venv)."""
    candidate = Path(sys.executable).parent / "dbt"
    if not candidate.exists():
        raise DbtError(f"dbt is not installed next to {sys.executable}; run `make install`")
    return candidate


def dbt_env(settings: Settings) -> dict[str, str]:
    """The environment dbt needs: the target, warehouse paths and the profiles folder."""
    env = dict(os.environ)
    env["CDP_TARGET"] = settings.target
    # The file's name only: dbt runs in the file's folder (dbt_cwd). dbt hashes
    # the rendered profile into its partial-parse state, so an absolute path
    # made every other warehouse folder (a copy, a test's) parse the whole
    # project again (~10 s); the name is the same in each.
    env["CDP_DUCKDB_PATH"] = settings.warehouse_path.name
    # Absolute, so that dbt's Spark session and the loader share one metastore.
    env["CDP_SPARK_DIR"] = str(settings.spark_dir)
    env["DBT_PROFILES_DIR"] = str(settings.profiles_dir)
    env["CDP_DUCKDB_CONNECT_ATTEMPTS"] = str(connect_attempts(lock_timeout()))
    env.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
    return env


def dbt_cwd(settings: Settings) -> Path:
    """The folder dbt runs in: the DuckDB file's (its profile names the file
    relative to it, dbt_env), the home on the other targets."""
    if settings.target == "duckdb":
        return settings.warehouse_path.resolve().parent
    return settings.home


def connect_attempts(timeout: float) -> int:
    """dbt-duckdb's open attempts (it sleeps 1, 2, 4, ... s between them) that wait at
    least `timeout` seconds for another process's lock."""
    attempts, waited = 1, 0
    while waited < timeout:
        waited += 2 ** (attempts - 1)
        attempts += 1
    return attempts


def run_dbt(settings: Settings, args: Sequence[str], *, quiet: bool = False) -> str:
    """Run `dbt <args>` on the project; raise DbtError when it fails.

    With `quiet`, dbt's output is captured and returned (and part of the error).
    On DuckDB it first waits while another process holds the file, saying who
    (dbt-duckdb's own retries, set from the same timeout, are silent)."""
    settings.warehouse_path.parent.mkdir(parents=True, exist_ok=True)
    if settings.target == "duckdb":
        wait_until_free(settings.warehouse_path)
    command = [
        str(dbt_executable()),
        *args,
        "--project-dir",
        str(settings.dbt_project_dir),
        "--profiles-dir",
        str(settings.profiles_dir),
    ]
    completed = subprocess.run(
        command,
        env=dbt_env(settings),
        cwd=dbt_cwd(settings),
        stdout=subprocess.PIPE if quiet else None,
        stderr=subprocess.STDOUT if quiet else None,
        text=True,
        check=False,
    )
    if completed.returncode != 0:
        detail = f"\n{completed.stdout}" if quiet and completed.stdout else ""
        raise DbtError(f"dbt {' '.join(args)} failed (exit {completed.returncode}){detail}")
    return completed.stdout or ""


def run_results_path(settings: Settings) -> Path:
    """Where dbt writes run_results.json (DBT_TARGET_PATH, else dbt_project/target)."""
    target = Path(os.environ.get("DBT_TARGET_PATH") or "target")
    if not target.is_absolute():
        target = settings.dbt_project_dir / target
    return target / "run_results.json"


def manifest_path(settings: Settings) -> Path:
    """Where dbt writes manifest.json (beside run_results.json); the sync loader
    checks sync columns against the contracts in it."""
    return run_results_path(settings).with_name("manifest.json")


def read_run_results(settings: Settings) -> dict[str, Any] | None:
    path = run_results_path(settings)
    if not path.exists():
        return None
    loaded: dict[str, Any] = json.loads(path.read_text())
    return loaded


def merge_run_results(settings: Settings, earlier: dict[str, Any] | None) -> None:
    """Put an earlier phase's node results in front of the last phase's run_results.json,
    so that the file describes the whole `cdp build` as one `dbt build` would."""
    latest = read_run_results(settings)
    if earlier is None or latest is None:
        return
    latest["results"] = list(earlier.get("results", [])) + list(latest.get("results", []))
    latest["elapsed_time"] = float(earlier.get("elapsed_time", 0)) + float(
        latest.get("elapsed_time", 0)
    )
    run_results_path(settings).write_text(json.dumps(latest))
