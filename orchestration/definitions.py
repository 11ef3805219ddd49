"""Dagster entry point: `dagster dev -m orchestration.definitions` (see README.md).

Loads every module of `orchestration/defs/` the way Dagster's own projects do
(`load_from_defs_folder`, the project declared in pyproject.toml's [tool.dg]).
Needs the dbt manifest: run `python -m orchestration.prepare` first (make dev does).
Orchestrates the duckdb and postgres targets (CDP_TARGET); refuses spark when it loads.
"""

from pathlib import Path

import dagster as dg

from orchestration.defs.project import require_orchestrated_target


def load_definitions() -> dg.Definitions:
    require_orchestrated_target()
    return dg.load_from_defs_folder(path_within_project=Path(__file__).parent)


defs = dg.definitions(load_definitions)
