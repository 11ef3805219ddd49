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
    """Paths and target from the environment (CDP_HOME, CDP_DATA_DIR, CDP_DUCKDB_PATH,
    CDP_TARGET), read at call time."""
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


ORCHESTRATED_TARGETS = ("duckdb", "postgres")


class UnsupportedTarget(RuntimeError):
    """A target the Dagster definitions cannot orchestrate (Spark, an unknown name)."""


def require_orchestrated_target() -> str:
    """The target the definitions orchestrate (CDP_TARGET: duckdb or postgres); refuse the
    others when the definitions load, in one line saying why."""
    target = settings().target
    if target == "spark":
        raise UnsupportedTarget(
            "CDP_TARGET=spark: the Dagster definitions orchestrate duckdb and postgres only. "
            "A local Spark warehouse keeps its catalog in an embedded Derby metastore that "
            "admits one JVM at a time, and a Dagster run needs two (its own process, for "
            "landing and the GX checks, and dbt's); run `cdp run` on Spark instead "
            "(orchestration/README.md)"
        )
    if target not in ORCHESTRATED_TARGETS:
        raise UnsupportedTarget(
            f"CDP_TARGET={target}: unknown target; the Dagster definitions orchestrate "
            f"{' and '.join(ORCHESTRATED_TARGETS)}"
        )
    return target
