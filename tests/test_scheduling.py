"""The suite's split between two xdist workers (tests/scheduling.py, docs/testing.md)."""

from __future__ import annotations

from pathlib import Path

from tests.scheduling import (
    GROUP_SECONDS,
    PACKAGE_GROUPS,
    SPARK_GROUP,
    group_of,
    group_seconds,
    rank,
)

TESTS = Path(__file__).resolve().parent


def test_groups_from_node_ids() -> None:
    assert group_of("tests/privacy/test_privacy.py::test_x") == "privacy"
    assert group_of("tests/engines/test_cross_engine_spark.py::test_x") == SPARK_GROUP
    # a Spark module that starts its own sessions does not wait for the Spark build
    assert group_of("tests/engines/test_spark_store.py::test_x") == "engines"
    assert group_of("tests/engines/test_cross_engine.py::test_x[a b]") == "engines"
    # a module with a build of its own leaves its package's group
    assert group_of("tests/engines/test_dagster_postgres.py::test_x") == (
        "engines/test_dagster_postgres.py"
    )
    assert group_of("tests/test_cli.py::test_x") == "test_cli.py"
    # a package whose builds are shared between workers (tests/once.py): per module
    assert group_of("tests/incremental/test_incremental_events.py::test_x") == (
        "incremental/test_incremental_events.py"
    )
    # a module whose tests share only work made once (tests/once.py): per test
    equals_full = "incremental/test_incremental_equals_full.py::test_x[events_only]"
    assert group_of(f"tests/{equals_full}") == equals_full
    assert group_of("tests/reverse_etl/test_retl_kill.py::test_x[hubspot]") == (
        "reverse_etl/test_retl_kill.py"
    )


def test_longest_first_then_slow_then_the_rest_then_spark() -> None:
    groups = {
        SPARK_GROUP: (False, 0),
        "test_sample_data.py": (False, 1),  # not listed, fast
        "serve/test_store.py": (True, 2),  # not listed, slow
        "engines": (True, 3),
        "orchestration": (True, 4),
        "test_dbt_staging.py": (True, 5),
    }
    order = sorted(groups, key=lambda g: rank(g, *groups[g]))
    assert order == [
        "orchestration",
        "engines",
        "test_dbt_staging.py",
        "serve/test_store.py",
        "test_sample_data.py",
        SPARK_GROUP,
    ]


def test_every_timed_group_exists_and_none_is_over_half_the_total() -> None:
    """A renamed module would lose its place silently; a group over half the
    total cannot finish with the other worker, whatever the order."""
    for group in GROUP_SECONDS:
        path = TESTS / group.split("::", 1)[0]  # a group of one test (PER_TEST_MODULES)
        assert path.is_dir() if group in PACKAGE_GROUPS else path.is_file(), group
    longest = max(GROUP_SECONDS, key=GROUP_SECONDS.__getitem__)
    assert GROUP_SECONDS[longest] <= sum(GROUP_SECONDS.values()) / 2, longest


def test_group_seconds_sums_a_durations_report() -> None:
    report = [
        "============================== slowest durations ===============================",
        "131.52s setup    tests/engines/test_cross_engine.py::test_landing_matches",
        "2.69s call     tests/test_concurrency.py::test_held[privacy log]",
        "2.47s call     tests/test_concurrency.py::test_held[summary]",
        "0.30s teardown tests/engines/test_cross_engine_spark.py::test_x",
        "1.00s call     tests/engines/test_cross_engine.py::test_models_match",
        "(27 durations < 0.005s hidden.  Use -vv to show these durations.)",
    ]
    totals = group_seconds(report)
    assert list(totals) == ["engines", "test_concurrency.py", SPARK_GROUP]
    assert round(totals["engines"], 2) == 132.52
    assert round(totals["test_concurrency.py"], 2) == 5.16
    assert round(totals[SPARK_GROUP], 2) == 0.30
