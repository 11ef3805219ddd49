"""The same generated data on DuckDB and on Spark (pyspark, local mode) gives the same tables.

Spark starts a JVM for every `cdp` step and runs each dbt node as Spark
jobs, so this module takes several minutes: it is marked `spark` and runs
only when CDP_TEST_SPARK=1, which `make test` (and so .ci/run) sets; `make
test-spark` runs it alone. Landing, dbt and the digests each run in their
own process, one after the other, because Spark's embedded Derby metastore
admits one JVM at a time. The DuckDB build it is compared with is the one
test_cross_engine.py compares PostgreSQL with (conftest.py).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from cdp.landing import load_registry
from tests.engines import digest
from tests.engines.engine_builds import (
    EXCLUDED_COLUMNS,
    REPO,
    EngineBuild,
    base_env,
    check_models,
    land_and_build,
    raw_relations,
    run_cdp,
    xfail_if_incomplete,
)

pytestmark = [
    pytest.mark.slow,
    pytest.mark.spark,
    pytest.mark.skipif(
        os.environ.get("CDP_TEST_SPARK") != "1",
        reason="Spark cross-engine test is slow: it runs with CDP_TEST_SPARK=1 (make test sets it)",
    ),
]


@pytest.fixture(scope="module")
def spark_build(engine_data: Path, tmp_path_factory: pytest.TempPathFactory) -> EngineBuild:
    pytest.importorskip("pyspark", reason="pyspark is not installed")
    pytest.importorskip("dbt.adapters.spark", reason="dbt-spark is not installed")
    work = tmp_path_factory.mktemp("spark")
    # Unit tests are left out on Spark (dbt's DBT_EXCLUDE_RESOURCE_TYPES, which
    # `cdp build` passes on to each dbt phase): each one is a union of inline rows
    # that Spark plans as hundreds of tasks (over two minutes per test on 2 cores).
    # DuckDB and PostgreSQL run them.
    env = base_env(work, engine_data, "spark") | {"DBT_EXCLUDE_RESOURCE_TYPES": "unit_test"}
    return land_and_build("spark", env, work)


def spark_digests(build: EngineBuild, relations: list[str]) -> dict[str, digest.TableDigest]:
    """Digests computed by `python -m tests.engines.digest` in a process of its own."""
    out = build.work / "spark_digests.json"
    excluded = json.dumps({k: sorted(v) for k, v in EXCLUDED_COLUMNS.items()})
    done = subprocess.run(
        [sys.executable, "-m", "tests.engines.digest", "spark", str(out), excluded, *relations],
        env=build.env,
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return digest.load_digests(out)


def test_landing_matches(duckdb_build: EngineBuild, spark_build: EngineBuild) -> None:
    relations = raw_relations(sorted(load_registry(REPO / "dbt_project").tables))
    expected = digest.duckdb_digests(duckdb_build.work / "cdp.duckdb", relations, EXCLUDED_COLUMNS)
    assert digest.differences(expected, spark_digests(spark_build, relations), relations) == []


def test_models_match(duckdb_build: EngineBuild, spark_build: EngineBuild) -> None:
    assert duckdb_build.build_ok, "dbt build failed on DuckDB:\n" + "\n".join(
        duckdb_build.failed_nodes or [duckdb_build.build_output]
    )
    relations = check_models(duckdb_build, spark_build)
    assert {r for r in duckdb_build.built if r.startswith("staging.")} <= set(relations)
    expected = digest.duckdb_digests(duckdb_build.work / "cdp.duckdb", relations, EXCLUDED_COLUMNS)
    found = spark_digests(spark_build, relations)
    assert digest.differences(expected, found, relations) == []
    xfail_if_incomplete(duckdb_build, spark_build)


def test_landing_twice_adds_nothing_on_spark(spark_build: EngineBuild) -> None:
    again = run_cdp(["ingest"], spark_build.env)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "landed 0 row(s) from 0 file(s)" in again.stdout
