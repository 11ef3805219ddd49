"""The suite's shared small business: generated, landed and built once per session.

300 people (seed 11, history to 2026-06-30, the CLI's default share of
deliberately broken rows) go through `cdp generate`, `cdp ingest` and
`cdp build` (dbt build with its tests and unit tests, the scoring step, dbt
again) into one DuckDB file. The fixtures in tests/conftest.py generate the
files (`shared_business_data`) and start the build in a background thread
(`shared_business_started`) the first time a test needs it, so that a build beside
it on the same files (PostgreSQL in tests/engines) overlaps it; `business`
waits for it.

Under pytest-xdist the files and the build are made once for all workers
(tests/once.py): the first worker to ask generates or builds, the others wait
and read what it wrote.

Nothing writes to the shared files: a test that changes the warehouse or the
landing folder works on a copy (`Business.copy_warehouse`, `Business.copy_data`).
Packages that need other data (another size, seed or landing history, or
their own Dagster run) keep their own build and say why in their conftest.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.engines.engine_builds import (
    LANDED_FILE,
    EngineBuild,
    base_env,
    generate,
    land_and_build,
)

PEOPLE = 300
SEED = 11
END_DATE = "2026-06-30"
WAREHOUSE_FILE = "cdp.duckdb"


@dataclass(frozen=True)
class Business:
    """The shared business: its generated files and its DuckDB build."""

    data: Path  # landing/, ground_truth/, manifest.json
    build: EngineBuild  # `cdp ingest` + `cdp build` into build.work / "cdp.duckdb"

    @property
    def warehouse(self) -> Path:
        return self.build.work / WAREHOUSE_FILE

    @property
    def landed_warehouse(self) -> Path:
        """The warehouse as `cdp ingest` left it: raw tables, nothing built (read only)."""
        return self.build.work / LANDED_FILE

    @property
    def dbt_target(self) -> Path:
        """dbt's target folder of the build (manifest.json, run_results.json)."""
        return self.build.work / "dbt_target"

    @property
    def ground_truth(self) -> Path:
        return self.data / "ground_truth"

    def copy_warehouse(self, folder: Path) -> Path:
        """A private copy of the built warehouse in `folder`; returns its path.

        The copy keeps the file name `cdp.duckdb`: DuckDB names a database after
        its file, and the views dbt created name their relations with it."""
        folder.mkdir(parents=True, exist_ok=True)
        return Path(shutil.copy(self.warehouse, folder / WAREHOUSE_FILE))

    def copy_dbt_target(self, dest: Path) -> Path:
        """A copy of the build's dbt target folder (its manifest and partial-parse
        file let the next dbt run in `dest` skip a full parse)."""
        shutil.copytree(self.dbt_target, dest)
        return dest

    def copy_data(self, dest: Path) -> Path:
        """A private copy of the generated files (landing, ground truth) at `dest`."""
        shutil.copytree(self.data, dest)
        return dest

    def to_json(self) -> dict[str, object]:
        return {"data": str(self.data), "build": self.build.to_json()}

    @classmethod
    def from_json(cls, saved: dict[str, Any]) -> Business:
        return cls(Path(saved["data"]), EngineBuild.from_json(saved["build"]))


def generate_business(data: Path) -> Path:
    """The shared business's files, `cdp generate`d into `data`."""
    generate(data, people=PEOPLE, seed=SEED, end_date=END_DATE)
    return data


def business_env(data: Path, work: Path) -> dict[str, str]:
    """The environment of the shared build: the process's as it is now, with the
    paths pointed at `data` and `work`. Taken before the build starts in its
    thread, so that a package changing os.environ later does not reach it."""
    return base_env(work, data, "duckdb")


def build_business(data: Path, work: Path, env: dict[str, str]) -> Business:
    """`cdp ingest` and `cdp build` of the generated files into work/cdp.duckdb."""
    work.mkdir(parents=True, exist_ok=True)
    return Business(data, land_and_build("duckdb", env, work))
