"""Where things live. Every path can be overridden from the environment."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


def _project_home() -> Path:
    """The repository root: CDP_HOME, else the folder that holds dbt_project/."""
    env = os.environ.get("CDP_HOME")
    if env:
        return Path(env).resolve()
    here = Path(__file__).resolve().parent.parent
    if (here / "dbt_project").is_dir():
        return here
    return Path.cwd().resolve()


@dataclass(frozen=True)
class Settings:
    """Resolved locations of the project, its data and its warehouse.

    home            repository root (CDP_HOME)
    data_dir        generated sample data and landing files (CDP_DATA_DIR, default home/data)
    warehouse_path  DuckDB file (CDP_DUCKDB_PATH, default home/warehouse/cdp.duckdb)
    target          engine and dbt target: duckdb, postgres or spark (CDP_TARGET,
                    default duckdb); docs/engines.md
    syncs_path      reverse-ETL sync definitions (CDP_SYNCS_PATH, default home/syncs.yml)
    """

    home: Path
    data_dir: Path
    warehouse_path: Path
    target: str = "duckdb"

    @property
    def dbt_project_dir(self) -> Path:
        return self.home / "dbt_project"

    @property
    def profiles_dir(self) -> Path:
        return self.home

    @property
    def spark_dir(self) -> Path:
        """Spark warehouse folder and Derby metastore (CDP_SPARK_DIR,
        default home/warehouse/spark)."""
        return Path(os.environ.get("CDP_SPARK_DIR", self.home / "warehouse" / "spark")).resolve()

    @property
    def syncs_path(self) -> Path:
        """Sync definitions read by `cdp run`, `cdp sync` and the Dagster sync assets."""
        return Path(os.environ.get("CDP_SYNCS_PATH", self.home / "syncs.yml")).resolve()

    @property
    def landing_dir(self) -> Path:
        """Folder the loader reads: one sub-folder per raw table."""
        return self.data_dir / "landing"

    @property
    def ground_truth_dir(self) -> Path:
        """Who is really behind each generated record; never loaded into the warehouse."""
        return self.data_dir / "ground_truth"

    @classmethod
    def from_env(cls) -> Settings:
        home = _project_home()
        data_dir = Path(os.environ.get("CDP_DATA_DIR", home / "data")).resolve()
        warehouse = Path(
            os.environ.get("CDP_DUCKDB_PATH", home / "warehouse" / "cdp.duckdb")
        ).resolve()
        target = os.environ.get("CDP_TARGET") or "duckdb"
        return cls(home=home, data_dir=data_dir, warehouse_path=warehouse, target=target)
