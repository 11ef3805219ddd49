"""The dbt project as Dagster sees it, and where everything lives.

The manifest is NOT parsed at import: run `python -m orchestration.prepare`
(done by `make dev` and by the test fixtures) to write
`<DBT_TARGET_PATH or dbt_project/target>/manifest.json` first.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from dagster_dbt import DbtProject

from cdp.config import Settings


def settings() -> Settings:
    """Paths from the environment (CDP_HOME, CDP_DATA_DIR, CDP_DUCKDB_PATH), read at call time."""
    return Settings.from_env()


def dbt_target_path() -> Path:
    """DBT_TARGET_PATH when set (tests keep it in a scratch folder), else `target`."""
    return Path(os.environ.get("DBT_TARGET_PATH") or "target")


def build_dbt_project() -> DbtProject:
    home = settings()
    return DbtProject(
        project_dir=home.dbt_project_dir,
        profiles_dir=home.profiles_dir,
        target_path=dbt_target_path(),
    )


class ManifestMissing(RuntimeError):
    """The dbt manifest has not been written yet."""


def manifest_path(project: DbtProject) -> Path:
    path = project.manifest_path
    if not path.exists():
        raise ManifestMissing(
            f"dbt manifest not found at {path}: run `python -m orchestration.prepare` "
            "(or `make dev`) first"
        )
    return path


def load_manifest(project: DbtProject | None = None) -> dict[str, Any]:
    """The prepared manifest as a dict (read, not parsed: no dbt runs)."""
    path = manifest_path(project or build_dbt_project())
    loaded: dict[str, Any] = json.loads(Path(path).read_text(encoding="utf-8"))
    return loaded


class UnsupportedTarget(RuntimeError):
    """The orchestration (landing, GX checks, baselines) reads and writes DuckDB only."""


def require_duckdb_target() -> None:
    target = settings().target
    if target != "duckdb":
        raise UnsupportedTarget(
            f"CDP_TARGET={target}: the Dagster definitions support the duckdb target only "
            "(see orchestration/README.md); unset CDP_TARGET to orchestrate the DuckDB warehouse"
        )
