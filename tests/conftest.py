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
from typing import Any

import pytest

from tests.business import Business, build_business, business_env, generate_business
from tests.engines.engine_builds import (
    BUILTIN_GENERIC_TESTS,
    EngineBuild,
    base_env,
    land_and_build,
)
from tests.once import once, shared_root
from tests.scheduling import SPARK_GROUP, group_of, is_spark_module, make_scheduler, rank

REPO = Path(__file__).resolve().parent.parent
CDP = Path(sys.executable).parent / "cdp"
# Every build of the suite runs every data test (`make test` runs the full suite on
# small data, issue #15 item 4): the gate's policy (cdp/build.py choose_data_tests)
# has its own tests in tests/test_data_tests_policy.py, which unset this.
os.environ.setdefault("CDP_BUILD_TESTS", "all")

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


@pytest.fixture(autouse=True)
def _environment_restored() -> Iterator[None]:
    """Whatever a test leaves in os.environ is undone after it. The CLI run in-process
    (click's CliRunner) sets CDP_SYNCS_PATH, CDP_DUCKDB_PATH and CDP_DBT_MANIFEST for
    its subcommands; left there, a later test on the same worker read another test's
    manifest. Fixtures of wider scope set up before the snapshot and keep theirs."""
    saved = dict(os.environ)
    yield
    if dict(os.environ) != saved:
        os.environ.clear()
        os.environ.update(saved)


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """With `--dist loadgroup`, the suite's groups (tests/scheduling.py)."""
    if config.getvalue("dist") != "loadgroup":
        return None
    return make_scheduler(config, log)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if BUILDING_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)
    groups = {item.nodeid: group_of(item.nodeid) for item in items}
    for item in items:
        if bool(item.get_closest_marker("spark")) != is_spark_module(item.nodeid):
            raise pytest.UsageError(
                f"{item.nodeid}: a Spark test must be in a module whose name holds 'spark', "
                "and only Spark tests may be (tests/scheduling.py)"
            )
    # The groups in the order xdist hands them out (and a serial run runs them):
    # the longest first; the Spark tests last, so that their build (minutes of
    # JVM work, started in the background at the first test: spark_build_started)
    # overlaps the rest. Within a group, collection order.
    first_seen: dict[str, int] = {}
    slow: set[str] = set()
    for index, item in enumerate(items):
        first_seen.setdefault(groups[item.nodeid], index)
        if item.get_closest_marker("slow"):
            slow.add(groups[item.nodeid])
    order = {group: rank(group, group in slow, index) for group, index in first_seen.items()}
    items.sort(key=lambda item: order[groups[item.nodeid]])  # stable
    config.stash[SPARK_COLLECTED] = SPARK_GROUP in first_seen


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
    """The shared business's generated files (landing, ground truth): read only.
    Generated once per run, for every xdist worker (tests/once.py)."""
    return once(
        shared_root(tmp_path_factory),
        "business",
        lambda folder: generate_business(folder / "data"),
        str,
        Path,
    )


@pytest.fixture(scope="session")
def shared_business_started(
    shared_business_data: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Future[Business]]:
    """The shared business's build, running in a background thread from the
    moment a test first needs it (tests/engines overlaps its PostgreSQL build
    with it). Built once per run: another xdist worker's thread waits for it
    and reads the result (tests/once.py)."""
    root = shared_root(tmp_path_factory)
    name = "business_duckdb"
    env = business_env(shared_business_data, root / name)
    with ThreadPoolExecutor(max_workers=1) as pool:
        yield pool.submit(
            once,
            root,
            name,
            lambda work: build_business(shared_business_data, work, env),
            Business.to_json,
            Business.from_json,
        )


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
    root = shared_root(tmp_path_factory)
    work = root / "spark"
    # Unit tests are left out on Spark (dbt's DBT_EXCLUDE_RESOURCE_TYPES, which
    # `cdp build` passes on to each dbt phase): each one is a union of inline rows
    # that Spark plans as hundreds of tasks (over two minutes per test on 2 cores).
    # DuckDB and PostgreSQL run them.
    env = base_env(work, data, "spark") | {"DBT_EXCLUDE_RESOURCE_TYPES": "unit_test"}
    # dbt's four built-in generic tests are left out on Spark too (docs/testing.md#spark):
    # DuckDB runs every one of them on the same SQL, and the comparison checks each
    # Spark table row for row against DuckDB's; the project's own tests still run.
    exclude = ["--exclude", " ".join(f"test_name:{n}" for n in BUILTIN_GENERIC_TESTS)]
    with ThreadPoolExecutor(max_workers=1) as pool:
        # once per run: under xdist, the first worker builds, the other reads
        yield pool.submit(
            once,
            root,
            "spark",
            lambda folder: land_and_build("spark", env, folder, exclude),
            EngineBuild.to_json,
            EngineBuild.from_json,
        )


@pytest.fixture(scope="session", autouse=True)
def incremental_builds_started(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Future[Any] | None]:
    """tests/incremental's three shared builds (the files without the last month,
    the base build, the complete build), started in a background thread at the
    session's first test when any of the package's tests is to run; None
    otherwise. Made once per run (tests/once.py): the package's fixtures read
    them, waiting on the lock while the thread is still building, so a worker
    that reaches the package after other work finds them built or under way
    instead of starting them then (one worker idled about 300 s on them)."""
    if not any(item.nodeid.startswith("tests/incremental/") for item in request.session.items):
        yield None
        return
    from tests.incremental.conftest import start_shared_builds

    data: Path = request.getfixturevalue("shared_business_data")
    with start_shared_builds(data, shared_root(tmp_path_factory)) as started:
        yield started


def _spark_installed() -> bool:
    import importlib.util

    return all(importlib.util.find_spec(name) for name in ("pyspark", "dbt.adapters.spark"))


def run_cdp(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run the installed `cdp` command and capture its output."""
    return subprocess.run(
        [str(CDP), *args], env=env, cwd=REPO, capture_output=True, text=True, check=False
    )
