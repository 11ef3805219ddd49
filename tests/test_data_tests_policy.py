"""Which dbt data tests a build runs: the gate on an incremental build, every test on a
full one (cdp/build.py `choose_data_tests`; docs/testing.md#which-data-tests-run-when).

The plain functions run on a tiny DuckDB file holding only a change set. The builds
run on copies of the suite's shared business (tests/business.py), whose own build is
a first build and so the full suite; they read what dbt ran from run_results.json and
compare it with the manifest's tests, and break a key in the warehouse to see the gate
fail the build.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from cdp.build import (
    GATE_EXCLUDE,
    TEST_SCOPE_VAR,
    TESTS_ENV,
    BuildError,
    BuildOptions,
    DataTests,
    choose_data_tests,
)
from cdp.config import Settings
from cdp.dbt import DbtError, run_dbt
from cdp.warehouse import connect_duckdb
from tests.business import Business
from tests.conftest import REPO, run_cdp
from tests.engines.engine_builds import BUILD_VARS

NOW = datetime(2026, 12, 7, 12, 0, 0)
# A gate test narrowed to the rows the build wrote (cdp_gate_keys), and what the
# narrowing compiles to.
NARROWED_TEST = "unique_int_activities_unioned_source_name_activity_id"
NARROWED_SQL = "max(_processed_at)"
# The shared build's vars (a smaller probabilistic training sample), as every build
# of its copies uses.
VARS = ["--vars", json.dumps(BUILD_VARS)]


# --- the policy, as plain functions --------------------------------------------------------


def _settings(tmp_path: Path, built_at: datetime | None) -> Settings:
    """Settings on a DuckDB file that holds a change set with one build at `built_at`
    (no change set at all when None)."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    warehouse = tmp_path / "cdp.duckdb"
    with connect_duckdb(warehouse) as con:
        if built_at is not None:
            con.execute("create schema marts")
            con.execute("create table marts.customer_change_set (built_at timestamp)")
            con.execute("insert into marts.customer_change_set values (?)", [built_at])
    return Settings(home=tmp_path, data_dir=tmp_path / "data", warehouse_path=warehouse)


def test_an_incremental_build_gets_the_gate_and_a_full_build_everything(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(TESTS_ENV, raising=False)
    earlier = _settings(tmp_path / "built", NOW - timedelta(hours=1))
    assert choose_data_tests(earlier, BuildOptions(), NOW).suite == "gate"
    assert choose_data_tests(earlier, BuildOptions(full_refresh=True), NOW).suite == "all"
    assert choose_data_tests(earlier, BuildOptions(tests="all"), NOW).suite == "all"

    # a warehouse without a change set, or whose only build is this run's (a later op
    # of the same Dagster run), has no earlier build: a first build runs everything
    assert choose_data_tests(_settings(tmp_path / "empty", None), BuildOptions(), NOW).suite == (
        "all"
    )
    same_run = _settings(tmp_path / "same_run", NOW + timedelta(seconds=5))
    assert choose_data_tests(same_run, BuildOptions(), NOW).suite == "all"
    missing = Settings(home=tmp_path, data_dir=tmp_path, warehouse_path=tmp_path / "none.duckdb")
    assert choose_data_tests(missing, BuildOptions(), NOW).suite == "all"
    # asked for the gate, a full build gets it too
    assert choose_data_tests(missing, BuildOptions(tests="gate"), NOW).suite == "gate"


def test_the_environment_forces_a_suite_and_a_bad_value_is_exit_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    earlier = _settings(tmp_path, NOW - timedelta(days=1))
    monkeypatch.setenv(TESTS_ENV, "all")
    forced = choose_data_tests(earlier, BuildOptions(), NOW)
    assert forced.suite == "all" and TESTS_ENV in forced.reason
    # the flag wins over the environment
    assert choose_data_tests(earlier, BuildOptions(tests="gate"), NOW).suite == "gate"
    monkeypatch.setenv(TESTS_ENV, "some")
    with pytest.raises(BuildError) as raised:
        choose_data_tests(earlier, BuildOptions(), NOW)
    assert raised.value.exit_code == 2 and TESTS_ENV in str(raised.value)


def test_the_gate_excludes_the_full_suite_and_sets_the_scope_var() -> None:
    gate = DataTests("gate", "incremental build")
    options = BuildOptions.of(vars="{cdp__as_of_date: 2026-05-31}")
    flags = options.dbt_flags(gate)
    assert flags[0] == "--vars"
    assert json.loads(flags[1]) == {"cdp__as_of_date": "2026-05-31", TEST_SCOPE_VAR: "gate"}
    assert gate.exclude == GATE_EXCLUDE
    everything = DataTests("all", "--full-refresh")
    assert everything.exclude == ()
    assert options.dbt_flags(everything) == ["--vars", "{cdp__as_of_date: 2026-05-31}"]
    assert BuildOptions().dbt_flags(everything) == []


# --- builds on copies of the shared business ------------------------------------------------


def _manifest_tests(target: Path) -> dict[str, dict[str, Any]]:
    manifest = json.loads((target / "manifest.json").read_text())
    nodes: dict[str, dict[str, Any]] = manifest["nodes"]
    tests = {uid: node for uid, node in nodes.items() if node["resource_type"] == "test"}
    tests.update(manifest.get("unit_tests", {}))
    return tests


def _gate(tests: dict[str, dict[str, Any]]) -> set[str]:
    return {
        uid
        for uid, node in tests.items()
        if uid.startswith("test.") and node["config"]["meta"].get("cdp_suite") == "gate"
    }


def _results(target: Path) -> dict[str, dict[str, Any]]:
    results = json.loads((target / "run_results.json").read_text())["results"]
    return {str(r["unique_id"]): r for r in results}


def _ran_tests(results: dict[str, dict[str, Any]]) -> set[str]:
    return {uid for uid in results if uid.startswith(("test.", "unit_test."))}


def _by_name(results: dict[str, dict[str, Any]], name: str) -> dict[str, Any]:
    (found,) = [r for uid, r in results.items() if uid.startswith(f"test.cdp.{name}.")]
    return found


@pytest.fixture
def built_env(cdp_env: dict[str, str], shared_business: Business) -> dict[str, str]:
    """A copy of the shared business's built warehouse (an earlier build is there)."""
    shared_business.copy_warehouse(Path(cdp_env["CDP_DUCKDB_PATH"]).parent)
    shared_business.copy_dbt_target(Path(cdp_env["DBT_TARGET_PATH"]))
    cdp_env["CDP_SYNCS_PATH"] = str(Path(cdp_env["CDP_DUCKDB_PATH"]).parent / "no-syncs.yml")
    cdp_env.pop(TESTS_ENV, None)
    return cdp_env


@pytest.mark.slow
def test_the_first_build_ran_every_data_test_and_unit_test(shared_business: Business) -> None:
    """The shared business's build started from an empty warehouse: the full suite, so
    `make test` still runs every data test on small data."""
    tests = _manifest_tests(shared_business.dbt_target)
    results = _results(shared_business.dbt_target)
    assert _ran_tests(results) == set(tests)
    # a test configured to warn may warn; none failed
    assert {r["status"] for uid, r in results.items() if uid in tests} <= {"pass", "warn"}
    assert len(_gate(tests)) < len([uid for uid in tests if uid.startswith("test.")]) / 2
    assert NARROWED_SQL not in _by_name(results, NARROWED_TEST)["compiled_code"]


@pytest.mark.slow
def test_an_incremental_build_runs_the_gate_and_a_full_refresh_everything(
    built_env: dict[str, str],
) -> None:
    target = Path(built_env["DBT_TARGET_PATH"])
    done = run_cdp(["build", *VARS], built_env)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "data tests: the gate (incremental build)" in done.stdout
    tests = _manifest_tests(target)
    gate = _gate(tests)
    results = _results(target)
    assert _ran_tests(results) == gate, "the incremental build ran other tests than the gate"
    assert {results[uid]["status"] for uid in gate} == {"pass"}
    assert "model.cdp.customers" in results  # every model built, only the tests differ
    narrowed = _by_name(results, NARROWED_TEST)
    assert NARROWED_SQL in narrowed["compiled_code"]

    done = run_cdp(["build", "--full-refresh", *VARS], built_env)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "data tests: the full suite and the unit tests (--full-refresh)" in done.stdout
    results = _results(target)
    assert _ran_tests(results) == set(_manifest_tests(target))
    assert NARROWED_SQL not in _by_name(results, NARROWED_TEST)["compiled_code"]


@pytest.mark.slow
def test_a_broken_key_fails_the_gate_and_the_build(built_env: dict[str, str]) -> None:
    """An activity row that repeats an old row's key, written last: the incremental build
    (no new batch: nothing newer is written) fails on the gate's unique test, which reads
    only the keys of the latest rows, and skips what reads the activities."""
    warehouse = Path(built_env["CDP_DUCKDB_PATH"])
    with connect_duckdb(warehouse) as con:
        con.execute(
            "insert into intermediate.int_activities_unioned "
            "select * replace (_processed_at + interval 1 day as _processed_at) "
            "from intermediate.int_activities_unioned "
            "where activity_type = 'online_order' limit 1"
        )
    done = run_cdp(["build", *VARS], built_env)
    assert done.returncode == 1, done.stdout[-3000:] + done.stderr[-2000:]
    results = _results(Path(built_env["DBT_TARGET_PATH"]))
    failed = _by_name(results, NARROWED_TEST)
    assert failed["status"] == "fail" and failed["failures"] == 1, failed
    assert results["model.cdp.customer_measures"]["status"] == "skipped"


@pytest.mark.slow
def test_the_gate_narrows_a_test_the_full_suite_runs_whole(
    built_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A duplicate among old rows (not the latest build's) is outside the gate's reach and
    caught by the same test in the full suite: `dbt test` of that one test, both ways.
    The copy's activities were all written by one build; here one other row is made the
    latest build's, and an old order row is repeated."""
    warehouse = Path(built_env["CDP_DUCKDB_PATH"])
    table = "intermediate.int_activities_unioned"
    with connect_duckdb(warehouse) as con:
        con.execute(
            f"insert into {table} select * from {table} "
            "where activity_type = 'online_order' order by activity_id limit 1"
        )
        con.execute(
            f"update {table} set _processed_at = _processed_at + interval 1 second "
            f"where source_name || ':' || activity_id = (select min(source_name || ':' || "
            f"activity_id) from {table} where activity_type <> 'online_order')"
        )
    for name in ("DBT_TARGET_PATH", "DBT_LOG_PATH"):
        monkeypatch.setenv(name, built_env[name])
    settings = Settings(home=REPO, data_dir=warehouse.parent, warehouse_path=warehouse)
    test = ["test", "--select", NARROWED_TEST]
    run_dbt(settings, [*test, "--vars", json.dumps({TEST_SCOPE_VAR: "gate"})], quiet=True)
    with pytest.raises(DbtError):
        run_dbt(settings, test, quiet=True)
    failed = _by_name(_results(Path(built_env["DBT_TARGET_PATH"])), NARROWED_TEST)
    assert failed["status"] == "fail" and failed["failures"] == 1, failed
