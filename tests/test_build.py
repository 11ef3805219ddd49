"""`cdp build` with dbt's habits: --select, --exclude, --vars, --full-refresh (cdp/build.py).

The CLI tests run on the suite's shared business as `cdp ingest` left it
(tests/business.py), copied per test; they assert on what dbt built (run_results.json, the
warehouse's tables), not on printed text only.
"""

from __future__ import annotations

import json
import shutil
from datetime import date
from pathlib import Path

import duckdb
import pytest

from cdp.build import (
    READS_SCORES,
    SCORING_INPUTS,
    BuildError,
    BuildOptions,
    parse_vars,
    subset_plan,
)
from tests.business import Business
from tests.conftest import run_cdp

# --- the plan and the flags, as plain functions ------------------------------------------


def test_a_subset_build_passes_cautious_indirect_selection_and_the_flags() -> None:
    options = BuildOptions.of(["+customers  staging"], ["stg_web__events"], "{a: 1}", True)
    assert options.select == ("+customers", "staging")
    assert options.exclude == ("stg_web__events",)
    assert options.dbt_flags() == [
        "--vars",
        "{a: 1}",
        "--full-refresh",
        "--indirect-selection",
        "cautious",
    ]
    complete = BuildOptions.of([], [], "{a: 1}")
    assert not complete.is_subset
    assert complete.dbt_flags() == ["--vars", "{a: 1}"]


def test_the_subset_plan_scores_only_when_it_builds_the_scoring_inputs() -> None:
    readers = {"model.cdp.stg_predictions__customer_scores", "model.cdp.customer_predictions"}
    features = {f"model.cdp.{name}" for name in SCORING_INPUTS}
    options = BuildOptions.of(["+customer_predictions"], ["path:models/marts/segments+"])

    plan = subset_plan(options, {"model.cdp.customers", *features, *readers}, readers)
    assert plan.scoring
    assert plan.before is not None and plan.after is not None
    assert plan.before.select == ("+customer_predictions",)
    assert plan.before.exclude == ("path:models/marts/segments+", READS_SCORES)
    assert plan.after.select == (f"+customer_predictions,{READS_SCORES}",)
    assert plan.after.exclude == ("path:models/marts/segments+",)

    only_readers = subset_plan(BuildOptions.of(["customer_predictions"]), readers, readers)
    assert not only_readers.scoring and only_readers.before is None
    assert only_readers.after is not None

    no_scores = subset_plan(BuildOptions.of(["staging"]), {"model.cdp.stg_shop__orders"}, readers)
    assert not no_scores.scoring and no_scores.after is None
    assert no_scores.notes and "scoring skipped" in no_scores.notes[0]


def test_vars_must_be_a_yaml_or_json_mapping() -> None:
    assert parse_vars('{"cdp__as_of_date": "2026-05-31"}') == {"cdp__as_of_date": "2026-05-31"}
    assert parse_vars("{cdp__mask_pii: true}") == {"cdp__mask_pii": True}
    for bad in ("[1, 2]", "just words", "{a: [1"):
        with pytest.raises(BuildError) as raised:
            parse_vars(bad)
        assert raised.value.exit_code == 2


# --- over the CLI, on a small generated business --------------------------------------------


@pytest.fixture(scope="module")
def landed(shared_business: Business) -> Path:
    """A warehouse holding the raw tables of a small generated business, nothing
    built: the shared business's (tests/business.py) as `cdp ingest` left it."""
    return shared_business.landed_warehouse


@pytest.fixture
def build_env(cdp_env: dict[str, str], landed: Path) -> dict[str, str]:
    warehouse = Path(cdp_env["CDP_DUCKDB_PATH"])
    warehouse.parent.mkdir(parents=True)
    shutil.copy(landed, warehouse)
    cdp_env["CDP_SYNCS_PATH"] = str(warehouse.parent / "no-syncs.yml")
    return cdp_env


def _run_results(env: dict[str, str]) -> dict[str, str]:
    path = Path(env["DBT_TARGET_PATH"]) / "run_results.json"
    results = json.loads(path.read_text())["results"]
    return {str(r["unique_id"]): str(r["status"]) for r in results}


def _parents(env: dict[str, str]) -> dict[str, list[str]]:
    manifest = json.loads((Path(env["DBT_TARGET_PATH"]) / "manifest.json").read_text())
    parent_map: dict[str, list[str]] = manifest["parent_map"]
    return parent_map


def _relations(env: dict[str, str]) -> set[str]:
    with duckdb.connect(env["CDP_DUCKDB_PATH"], read_only=True) as con:
        rows = con.execute(
            "select table_schema || '.' || table_name from information_schema.tables"
        ).fetchall()
    return {str(r[0]) for r in rows}


@pytest.mark.slow
def test_select_builds_the_selection_and_tests_only_what_it_built(
    build_env: dict[str, str],
) -> None:
    """`--select +customer_source_records` used to fail on relationship tests of
    staging models it did not build; with cautious indirect selection every test
    that ran tests only built models, and nothing after the selection exists."""
    done = run_cdp(["build", "--select", "+customer_source_records"], build_env)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]

    results = _run_results(build_env)
    built = {uid for uid in results if uid.startswith(("model.", "seed."))}
    assert "model.cdp.customer_source_records" in built
    assert "model.cdp.stg_shop__customers" in built
    assert "model.cdp.customers" not in built
    assert set(results.values()) <= {"success", "pass"}, results
    parents = _parents(build_env)
    tests = [uid for uid in results if uid.startswith(("test.", "unit_test."))]
    assert tests, "the selection's own tests did not run"
    for test in tests:
        tested = {p for p in parents.get(test, []) if p.startswith(("model.", "seed."))}
        assert tested <= built, f"{test} tests {tested - built}, which this build did not build"

    relations = _relations(build_env)
    assert "marts.customer_source_records" in relations
    assert "marts.customers" not in relations
    assert "predictions.customer_scores" not in relations, "a subset without inputs scored"
    assert "scoring skipped" in done.stdout


@pytest.mark.slow
def test_exclude_and_vars_reach_every_dbt_step_and_the_scores(
    build_env: dict[str, str],
) -> None:
    """A build of everything but the segments, as of another day: the scoring runs
    (the selection builds its inputs) on windows dbt built with the var, and what
    reads the scores is built after it; the segments are not built.

    Models and seeds only (DBT_EXCLUDE_RESOURCE_TYPES, which every dbt step of the
    build reads): what is checked is which nodes each step built and with which
    var, and dbt's tests on a subset are the test above's."""
    done = run_cdp(
        [
            "build",
            "--exclude",
            "path:models/marts/segments+",
            "--vars",
            "{cdp__as_of_date: '2026-05-31'}",
        ],
        build_env | {"DBT_EXCLUDE_RESOURCE_TYPES": "unit_test test"},
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]

    results = _run_results(build_env)
    assert results["model.cdp.customers"] == "success"  # the phase before the scores
    assert results["model.cdp.customer_predictions"] == "success"  # the phase after
    assert not [uid for uid in results if "segment_" in uid]
    with duckdb.connect(build_env["CDP_DUCKDB_PATH"], read_only=True) as con:
        scored = con.execute(
            "select distinct as_of_date from predictions.customer_scores"
        ).fetchall()
        cutoff = con.execute(
            "select cutoff_date from intermediate.int_prediction_windows "
            "where window_role = 'score' limit 1"
        ).fetchone()
        segments = con.execute(
            "select count(*) from information_schema.tables where table_name like 'segment_%'"
        ).fetchone()
    assert scored == [(date(2026, 5, 31),)]
    assert cutoff == (date(2026, 5, 31),)
    assert segments == (0,)


def test_bad_selections_and_vars_are_one_line(cdp_env: dict[str, str]) -> None:
    for args, reason in (
        (["--select", "no_such_model"], "matches no node"),
        (["--select", "nosuchmethod:x"], "not a valid method name"),
        (["--vars", "[1, 2]"], "must be a mapping"),
    ):
        done = run_cdp(["build", *args], cdp_env)
        assert done.returncode == 2, (args, done.stdout, done.stderr)
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: "), (args, done.stderr)
        assert reason in lines[0], (args, lines)
