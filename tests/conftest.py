"""Shared fixtures: every test gets its own data folder and warehouse file, and
the session's one small business (tests/business.py), built once and copied by
the tests that change it."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.business import Business, build_business, business_env, generate_business
from tests.engines.engine_builds import EngineBuild, base_env, land_and_build

REPO = Path(__file__).resolve().parent.parent
CDP = Path(sys.executable).parent / "cdp"

# Fixtures that generate and build a business with dbt, or wait for one. A test
# that uses one, directly or through another fixture, is marked `slow` at
# collection (pytest ignores marks on fixtures themselves); `-m "not slow"`
# leaves them all out.
BUILDING_FIXTURES = frozenset(
    {
        "shared_business_started",  # tests/business.py
        "identity_warehouse",  # tests/identity
        "base_batch",  # tests/incremental
        "orchestration_env",  # tests/orchestration: dbt parse, then the Dagster run
        "business",  # tests/privacy
        "postgres_build",  # tests/engines
        "spark_build",  # tests/engines
    }
)


SPARK_COLLECTED = pytest.StashKey[bool]()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if BUILDING_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)
    # The Spark tests run last, so that their build (minutes of JVM work, started
    # in the background at the first test: spark_build_started) overlaps the rest.
    spark = [item for item in items if item.get_closest_marker("spark")]
    items[:] = [item for item in items if not item.get_closest_marker("spark")] + spark
    config.stash[SPARK_COLLECTED] = bool(spark)


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


@pytest.fixture(scope="session")
def shared_business_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The shared business's generated files (landing, ground truth): read only."""
    return generate_business(tmp_path_factory.mktemp("business") / "data")


@pytest.fixture(scope="session")
def shared_business_started(
    shared_business_data: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Future[Business]]:
    """The shared business's build, running in a background thread from the
    moment a test first needs it (tests/engines overlaps its PostgreSQL build
    with it)."""
    work = tmp_path_factory.mktemp("business_duckdb")
    env = business_env(shared_business_data, work)
    with ThreadPoolExecutor(max_workers=1) as pool:
        yield pool.submit(build_business, shared_business_data, work, env)


@pytest.fixture(scope="session")
def shared_business(shared_business_started: Future[Business]) -> Business:
    """The shared business, built: fails the tests that need it when its build failed."""
    built = shared_business_started.result()
    assert built.build.build_ok, "the shared business did not build:\n" + "\n".join(
        built.build.failed_nodes or [built.build.build_output]
    )
    return built


@pytest.fixture(scope="session", autouse=True)
def spark_build_started(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Future[EngineBuild] | None]:
    """The Spark cross-engine build (tests/engines/test_cross_engine_spark.py) of the
    shared business's files, started in a background thread at the session's first
    test when Spark tests are collected and CDP_TEST_SPARK=1; None otherwise. The
    build runs in `cdp` subprocesses of its own (one JVM at a time for Spark's
    metastore), beside the other tests' builds."""
    spark_on = os.environ.get("CDP_TEST_SPARK") == "1"
    wanted = spark_on and request.config.stash.get(SPARK_COLLECTED, False)
    if not wanted or not _spark_installed():
        yield None
        return
    data: Path = request.getfixturevalue("shared_business_data")
    work = tmp_path_factory.mktemp("spark")
    # Unit tests are left out on Spark (dbt's DBT_EXCLUDE_RESOURCE_TYPES, which
    # `cdp build` passes on to each dbt phase): each one is a union of inline rows
    # that Spark plans as hundreds of tasks (over two minutes per test on 2 cores).
    # DuckDB and PostgreSQL run them.
    env = base_env(work, data, "spark") | {"DBT_EXCLUDE_RESOURCE_TYPES": "unit_test"}
    with ThreadPoolExecutor(max_workers=1) as pool:
        yield pool.submit(land_and_build, "spark", env, work)


def _spark_installed() -> bool:
    import importlib.util

    return all(importlib.util.find_spec(name) for name in ("pyspark", "dbt.adapters.spark"))


def run_cdp(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run the installed `cdp` command and capture its output."""
    return subprocess.run(
        [str(CDP), *args], env=env, cwd=REPO, capture_output=True, text=True, check=False
    )
