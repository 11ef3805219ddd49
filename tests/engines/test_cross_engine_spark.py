"""The same generated data on DuckDB and on Spark (pyspark, local mode) gives the same tables.

Spark starts a JVM for every `cdp` step and runs each dbt node as Spark
jobs, so this module takes several minutes: it is marked `spark` and runs
only when CDP_TEST_SPARK=1, which `make test` (and so .ci/run) sets; `make
test-spark` runs it alone. Landing and dbt start in the background at the
session's first test and these tests run last (tests/conftest.py), so the
Spark build overlaps the rest of the suite. Landing, dbt and the digests each
run in their own process, one after the other, because Spark's embedded Derby
metastore admits one JVM at a time. The DuckDB build it is compared with is the one
test_cross_engine.py compares PostgreSQL with (conftest.py).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from concurrent.futures import Future

import pytest

from cdp.landing import load_registry
from tests.business import Business
from tests.engines import digest
from tests.engines.engine_builds import (
    EXCLUDED_COLUMNS,
    REPO,
    EngineBuild,
    check_models,
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
def spark_build(spark_build_started: Future[EngineBuild] | None) -> EngineBuild:
    """The Spark build of the shared business's files, started in the background at
    the session's first test (tests/conftest.py), finished."""
    pytest.importorskip("pyspark", reason="pyspark is not installed")
    pytest.importorskip("dbt.adapters.spark", reason="dbt-spark is not installed")
    assert spark_build_started is not None, "the Spark build was not started"
    return spark_build_started.result()


def _raw_relations() -> list[str]:
    return raw_relations(sorted(load_registry(REPO / "dbt_project").tables))


@pytest.fixture(scope="module")
def spark_found(
    duckdb_build_started: Future[Business], spark_build: EngineBuild
) -> dict[str, digest.TableDigest]:
    """The Spark digests of every raw table and of every model both engines built, from
    one process: each process is a JVM and a Spark session of its own (10 to 15 s), and
    the two comparisons below read the same tables."""
    reference = duckdb_build_started.result().build
    return spark_digests(
        spark_build, _raw_relations() + sorted(reference.built & spark_build.built)
    )


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


def test_landing_matches(
    duckdb_build: EngineBuild, spark_found: dict[str, digest.TableDigest]
) -> None:
    relations = _raw_relations()
    expected = digest.duckdb_digests(duckdb_build.work / "cdp.duckdb", relations, EXCLUDED_COLUMNS)
    assert digest.differences(expected, spark_found, relations) == []


def test_models_match(
    duckdb_build: EngineBuild,
    spark_build: EngineBuild,
    spark_found: dict[str, digest.TableDigest],
) -> None:
    assert duckdb_build.build_ok, "dbt build failed on DuckDB:\n" + "\n".join(
        duckdb_build.failed_nodes or [duckdb_build.build_output]
    )
    relations = check_models(duckdb_build, spark_build)
    assert {r for r in duckdb_build.built if r.startswith("staging.")} <= set(relations)
    expected = digest.duckdb_digests(duckdb_build.work / "cdp.duckdb", relations, EXCLUDED_COLUMNS)
    assert digest.differences(expected, spark_found, relations) == []
    xfail_if_incomplete(duckdb_build, spark_build)


def test_landing_twice_adds_nothing_on_spark(spark_build: EngineBuild) -> None:
    again = run_cdp(["ingest"], spark_build.env)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "landed 0 row(s) from 0 file(s)" in again.stdout
