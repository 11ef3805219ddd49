"""Resources: the warehouse file, the landing folder and the dbt CLI, all from the environment.

CDP_DUCKDB_PATH and CDP_DATA_DIR are read through `EnvVar` when set; otherwise the
defaults of `cdp.config.Settings` apply (and CDP_DUCKDB_PATH is set to that default
for this process, so dbt, which reads it in profiles.yml, writes the same file).
"""

from __future__ import annotations

import os
from pathlib import Path

from dagster import ConfigurableResource, Definitions, EnvVar, definitions, in_process_executor
from dagster_dbt import DbtCliResource, DbtProject

from cdp.dbt import dbt_executable
from orchestration.defs.project import build_dbt_project, settings


class WarehouseResource(ConfigurableResource):
    """The DuckDB warehouse file."""

    duckdb_path: str

    @property
    def path(self) -> Path:
        return Path(self.duckdb_path)


class LandingResource(ConfigurableResource):
    """The folder new raw files arrive in: one sub-folder per raw table."""

    data_dir: str

    @property
    def landing_dir(self) -> Path:
        return Path(self.data_dir) / "landing"


def _from_env(name: str, default: Path) -> str | EnvVar:
    if os.environ.get(name):
        return EnvVar(name)
    os.environ[name] = str(default)
    return str(default)


def build_resources(project: DbtProject | None = None) -> dict[str, object]:
    home = settings()
    project = project or build_dbt_project()
    return {
        "warehouse": WarehouseResource(
            duckdb_path=_from_env("CDP_DUCKDB_PATH", home.warehouse_path)
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
        # One step at a time: DuckDB allows one writer per file.
        executor=in_process_executor,
    )
