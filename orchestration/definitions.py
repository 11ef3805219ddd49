"""Dagster entry point: `dagster dev -m orchestration.definitions` (see README.md).

Needs the dbt manifest: run `python -m orchestration.prepare` first (make dev does).
"""

from orchestration.defs.build import build_definitions

defs = build_definitions()
