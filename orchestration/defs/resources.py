"""Resources: the warehouse, the landing folder and the dbt CLI, all from the environment.

The warehouse is the target CDP_TARGET names: the DuckDB file (CDP_DUCKDB_PATH) or
the PostgreSQL server (CDP_PG_*, read by `cdp/warehouse` and dbt's profile when a
step opens it; never stored in the resource, so no password appears in Dagster's
config). CDP_TARGET, CDP_DUCKDB_PATH and CDP_DATA_DIR are read through `EnvVar`
when set; otherwise the defaults of `cdp.config.Settings` apply (and the variable
is set to that default for this process, so dbt, which reads it in profiles.yml,
writes the same warehouse).
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

from dagster import ConfigurableResource, Definitions, EnvVar, definitions, in_process_executor
from dagster_dbt import DbtCliResource, DbtProject

from cdp.config import Settings
from cdp.dbt import dbt_executable
from orchestration.defs.project import build_dbt_project, settings


class WarehouseResource(ConfigurableResource):
    """The warehouse of the target (duckdb or postgres); `path` is the DuckDB file, which
    on postgres only names where a DuckDB warehouse would be."""

    duckdb_path: str
    target: str = "duckdb"

    @property
    def path(self) -> Path:
        return Path(self.duckdb_path)

    def settings(self) -> Settings:
        """The environment's settings with this resource's warehouse and target (what the
        build routine, the sync engine and `cdp/warehouse` take)."""
        return dataclasses.replace(settings(), warehouse_path=self.path, target=self.target)


class LandingResource(ConfigurableResource):
    """The folder new raw files arrive in: one sub-folder per raw table."""

    data_dir: str

    @property
    def landing_dir(self) -> Path:
        return Path(self.data_dir) / "landing"


def _from_env(name: str, default: Path | str) -> str | EnvVar:
    if os.environ.get(name):
        return EnvVar(name)
    os.environ[name] = str(default)
    return str(default)


def build_resources(project: DbtProject | None = None) -> dict[str, object]:
    home = settings()
    project = project or build_dbt_project()
    return {
        "warehouse": WarehouseResource(
            duckdb_path=_from_env("CDP_DUCKDB_PATH", home.warehouse_path),
            target=_from_env("CDP_TARGET", home.target),
        ),
        "landing": LandingResource(data_dir=_from_env("CDP_DATA_DIR", home.data_dir)),
        "dbt": DbtCliResource(
            project_dir=project,
            profiles_dir=str(home.profiles_dir),
            dbt_executable=str(dbt_executable()),
        ),
    }


@definitions
def defs() -> Definitions:
    return Definitions(
        resources=build_resources(),
        # One step at a time: DuckDB allows one writer per file (and on PostgreSQL the
        # steps keep the order `cdp build` runs them in).
        executor=in_process_executor,
    )
