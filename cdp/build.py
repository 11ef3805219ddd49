"""The build: dbt, the scoring step, dbt again, then the erasures it completes.

One routine for `cdp build`, `cdp run` and `cdp privacy erase`, and the pieces
Dagster's assets call, so that each step has exactly one definition:

- **The phases' dbt selectors.** `READS_SCORES` (`source:predictions+`) is what
  reads the scores the scoring step writes; a build runs everything else first
  (`--exclude READS_SCORES`), then the scoring, then `--select READS_SCORES`.
  `SEGMENTS` is the segment folder Dagster builds after the blocking checks on
  `customers`. orchestration/defs/assets/dbt.py puts its three `@dbt_assets`
  on these selectors.
- **The scoring step**: `score()` (cdp/predictions) reads `SCORING_INPUTS` and writes
  the dbt source `predictions`; the Dagster predictions asset calls it.
- **The erasure marking**: `mark_erasures_rebuilt()` after a complete,
  successful build: every erasure awaiting its rebuild that was requested
  before the build started has had it (docs/privacy.md). The Dagster asset
  `privacy/erasures_rebuilt` calls it at the end of a run that built every
  dbt model and the scores.
- **The routine**: `build()` runs the steps in that order for the CLI.
  Dagster does not call it; the asset graph orders the same steps.

Failure semantics, as one `dbt build` would have them: a failure skips only
what depends on it. When the first dbt phase fails on nodes the scoring does
not read (cdp/predictions/readiness.py), the scoring and the last phase still run
and `BuildError` is raised afterwards; a failure the scoring depends on stops
the build there. Erasures are marked only by a complete build without errors.

dbt's habits (`BuildOptions`): `--select`, `--exclude`, `--vars` and
`--full-refresh` reach every dbt invocation of the build. `--vars` is a YAML
or JSON mapping as dbt takes it; the scoring step reads no var itself but the
windows dbt built with them (`int_prediction_windows`, so `cdp__as_of_date`
moves the scores' as-of date too). A subset build (`--select` or `--exclude`)
passes `--indirect-selection cautious`, so no test of a model it did not build
runs, resolves the selection once with `dbt ls` (a selection that is invalid
or matches nothing is an error), and then runs only the phases the selection
has nodes in: the scoring runs only when the selection builds one of its
inputs, and what reads the scores is built after it. A subset build never
marks erasures.

Data tests (`choose_data_tests`, docs/testing.md#which-data-tests-run-when): a full
build (`--full-refresh`, or a warehouse holding no build that started before this
one) runs every data test and unit test; an incremental build runs the gate only:
every dbt step gets `--exclude GATE_EXCLUDE` and the var `cdp__test_scope: gate`,
which narrows the gate's tests on incremental models to the rows the build wrote.
`--tests gate|all` (or CDP_BUILD_TESTS) forces one or the other. Dagster's dbt
assets take the same policy (orchestration/defs/assets/dbt.py).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from cdp.config import Settings
from cdp.dbt import (
    DbtError,
    manifest_path,
    merge_run_results,
    read_run_results,
    run_dbt,
)
from cdp.predictions.features import (
    FEATURES_RELATION,
    RECOMMENDATION_EVALUATION_RELATION,
    WINDOWS_RELATION,
)
from cdp.serve.store.hooks import refresh_after_build
from cdp.warehouse import connect_duckdb, open_warehouse

if TYPE_CHECKING:
    from cdp.predictions import ScoringResult

Progress = Callable[[str], None]

PREDICTIONS_SOURCE = "predictions"
READS_SCORES = f"source:{PREDICTIONS_SOURCE}+"
SEGMENTS = "path:models/marts/segments+"
# The dbt models the scoring step reads (cdp/predictions/features.py).
SCORING_INPUTS = (WINDOWS_RELATION, FEATURES_RELATION, RECOMMENDATION_EVALUATION_RELATION)


class BuildError(RuntimeError):
    """The build failed (exit_code 1) or was asked for something impossible (exit_code 2)."""

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = exit_code


@dataclass(frozen=True)
class BuildOptions:
    """dbt's selection habits for one build; the defaults build everything."""

    select: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    vars: str | None = None
    full_refresh: bool = False
    # Which data tests run: "auto", "gate" or "all"; None reads CDP_BUILD_TESTS
    # (default auto). See DataTests.
    tests: str | None = None

    @classmethod
    def of(
        cls,
        select: Iterable[str] = (),
        exclude: Iterable[str] = (),
        vars: str | None = None,
        full_refresh: bool = False,
        tests: str | None = None,
    ) -> BuildOptions:
        """Options from CLI values: selections split on whitespace as dbt does."""
        return cls(_words(select), _words(exclude), vars or None, full_refresh, tests or None)

    @property
    def is_subset(self) -> bool:
        return bool(self.select or self.exclude)

    def dbt_flags(self, policy: DataTests | None = None) -> list[str]:
        """The flags every dbt invocation of this build gets (with the test policy's var)."""
        build_vars = policy.dbt_vars(self.vars) if policy else self.vars
        flags = ["--vars", build_vars] if build_vars else []
        if self.full_refresh:
            flags.append("--full-refresh")
        if self.is_subset:
            flags += ["--indirect-selection", "cautious"]
        return flags


def _words(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(word for value in values for word in value.split())


def parse_vars(text: str) -> dict[str, Any]:
    """The --vars mapping, or BuildError (exit 2) naming what is wrong with it."""
    try:
        loaded = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        first = str(exc).strip().splitlines()[0]
        raise BuildError(f"--vars is neither YAML nor JSON: {first}", 2) from exc
    if not isinstance(loaded, dict):
        raise BuildError(
            f"--vars must be a mapping such as '{{cdp__as_of_date: 2026-05-31}}', got {text!r}", 2
        )
    return loaded


# --- which data tests run ----------------------------------------------------------------

TESTS_ENV = "CDP_BUILD_TESTS"
TEST_CHOICES = ("auto", "gate", "all")
TEST_SCOPE_VAR = "cdp__test_scope"
# What the gate leaves out: the data tests of the full suite only (meta `cdp_suite:
# full`, every data test's default in dbt_project.yml) and dbt's unit tests (they
# check SQL logic on fixed rows, not the data).
GATE_EXCLUDE = ("config.meta.cdp_suite:full", "resource_type:unit_test")
# Appended to by every complete build and never rebuilt by --full-refresh
# (docs/incremental.md): a build that started earlier left rows in it.
CHANGE_SET_RELATION = ("marts", "customer_change_set")


@dataclass(frozen=True)
class DataTests:
    """Which tests a build runs: the gate (`suite == "gate"`) or everything ("all")."""

    suite: str
    reason: str

    @property
    def exclude(self) -> tuple[str, ...]:
        """What every dbt build of the build leaves out."""
        return GATE_EXCLUDE if self.suite == "gate" else ()

    def dbt_vars(self, user_vars: str | None) -> str | None:
        """The build's --vars: the user's, plus `cdp__test_scope: gate` for the gate
        (the `cdp_gate_*` where forms of dbt_project/macros/get_where_subquery.sql)."""
        if self.suite != "gate":
            return user_vars
        merged = parse_vars(user_vars) if user_vars else {}
        merged[TEST_SCOPE_VAR] = "gate"
        return json.dumps(merged, default=str, sort_keys=True)

    def describe(self) -> str:
        if self.suite == "gate":
            return (
                f"data tests: the gate ({self.reason}); "
                "`--tests all` or CDP_BUILD_TESTS=all runs the full suite"
            )
        return f"data tests: the full suite and the unit tests ({self.reason})"


def has_earlier_build(settings: Settings, started_before: datetime) -> bool:
    """Whether a build that started before `started_before` (naive UTC) left its rows in
    the change set (`marts.customer_change_set`). On Spark the catalog folder of the
    table says it (no session is started for this)."""
    schema, name = CHANGE_SET_RELATION
    if settings.target == "spark":
        return (settings.spark_dir / "warehouse" / f"{schema}.db" / name).is_dir()
    if settings.target == "duckdb" and not settings.warehouse_path.is_file():
        return False
    # A warehouse that cannot be opened (held by another process past CDP_LOCK_TIMEOUT)
    # is a WarehouseError: one line and exit 2 from the CLI, as dbt's wait for it was.
    with open_warehouse(settings, read_only=True) as warehouse:
        if not warehouse.has_relation(schema, name):
            return False
        first = warehouse.one(f"select min(built_at) from {schema}.{name}")
    return bool(first and first[0] is not None and first[0] < started_before)


def choose_data_tests(settings: Settings, options: BuildOptions, started_at: datetime) -> DataTests:
    """The tests of a build that starts at `started_at`: `--tests` (or CDP_BUILD_TESTS)
    gate or all as asked; with auto (the default) the full suite on a full build
    (`--full-refresh`, or no earlier build to be incremental on) and the gate on an
    incremental one. BuildError (exit 2) for another value."""
    choice = options.tests or os.environ.get(TESTS_ENV) or "auto"
    source = "--tests" if options.tests else TESTS_ENV
    if choice not in TEST_CHOICES:
        raise BuildError(
            f"{source} must be one of {', '.join(TEST_CHOICES)}, got {choice!r}", exit_code=2
        )
    if choice != "auto":
        return DataTests(choice, f"{source} {choice}" if options.tests else f"{source}={choice}")
    if options.full_refresh:
        return DataTests("all", "--full-refresh")
    if not has_earlier_build(settings, started_at):
        return DataTests("all", "first build: nothing to be incremental on")
    return DataTests("gate", "incremental build")


@dataclass(frozen=True)
class Phase:
    """One `dbt build` of the build: what it selects and excludes."""

    title: str
    select: tuple[str, ...]
    exclude: tuple[str, ...]


@dataclass(frozen=True)
class Plan:
    """The phases a build runs, in order: dbt before the scores, scoring, dbt after."""

    before: Phase | None
    scoring: bool
    after: Phase | None
    notes: tuple[str, ...] = ()


def complete_plan() -> Plan:
    return Plan(
        before=Phase("everything before the scores", (), (READS_SCORES,)),
        scoring=True,
        after=Phase("what reads the scores", (READS_SCORES,), ()),
    )


@dataclass
class BuildResult:
    """What one build did."""

    complete: bool
    # "gate" or "all": the data tests it ran (DataTests)
    tests: str = "all"
    phases: list[str] = field(default_factory=list)
    scoring: ScoringResult | None = None
    erasures_rebuilt: list[str] = field(default_factory=list)


# --- the steps ---------------------------------------------------------------------------


def dbt_build(
    settings: Settings,
    phase: Phase,
    options: BuildOptions,
    *,
    quiet: bool = False,
    tests: DataTests | None = None,
) -> None:
    """`dbt build` of one phase with the build's flags and its data tests (every test
    when `tests` is None); DbtError when it fails."""
    args = ["build"]
    if phase.select:
        args += ["--select", *phase.select]
    exclude = [*phase.exclude, *(tests.exclude if tests else ())]
    if exclude:
        args += ["--exclude", *exclude]
    run_dbt(settings, [*args, *options.dbt_flags(tests)], quiet=quiet)


def score(settings: Settings, progress: Progress | None = None) -> ScoringResult:
    """The scoring step: fit and score churn and CLV into the `predictions` source."""
    from cdp.predictions import run_scoring

    return run_scoring(settings, progress)


def mark_erasures_rebuilt(settings: Settings, started_at: datetime) -> list[str]:
    """After a complete, successful build that started at `started_at` (naive UTC):
    mark the erasures requested before then as rebuilt, on the target's warehouse
    (DuckDB, PostgreSQL or Spark). Returns their ids. `cdp build` and the Dagster
    asset `privacy/erasures_rebuilt` both call it. On Spark a session starts only
    when the catalog's folder holds an erasure log."""
    from cdp.privacy.erase import mark_rebuilt_before

    if settings.target == "spark":
        if not (settings.spark_dir / "warehouse" / "privacy.db" / "erasure_log").is_dir():
            return []
        from cdp.privacy.connection import SparkConnection

        with SparkConnection() as spark:
            return mark_rebuilt_before(spark, started_at)

    if settings.target == "postgres":
        from cdp.privacy.connection import PostgresConnection

        with PostgresConnection() as con:
            return mark_rebuilt_before(con, started_at)
    if settings.target != "duckdb" or not settings.warehouse_path.is_file():
        return []
    with connect_duckdb(settings.warehouse_path) as con:
        return mark_rebuilt_before(con, started_at)


def utc_now() -> datetime:
    """Naive UTC, the clock of `privacy.erasure_log.requested_at`."""
    return datetime.now(UTC).replace(tzinfo=None)


# --- subset builds -----------------------------------------------------------------------


def selected_nodes(
    settings: Settings, options: BuildOptions, tests: DataTests | None = None
) -> set[str]:
    """The unique ids a subset build selects (`dbt ls`), with the tests `tests` lets
    run; BuildError (exit 2) when the selection is invalid or matches no node."""
    args = ["--quiet", "ls", "--output", "json", "--output-keys", "unique_id"]
    if options.select:
        args += ["--select", *options.select]
    exclude = [*options.exclude, *(tests.exclude if tests else ())]
    if exclude:
        args += ["--exclude", *exclude]
    build_vars = tests.dbt_vars(options.vars) if tests else options.vars
    if build_vars:
        args += ["--vars", build_vars]
    args += ["--indirect-selection", "cautious"]  # the tests the build will run
    described = " ".join(
        [f"--select {' '.join(options.select)}"] * bool(options.select)
        + [f"--exclude {' '.join(options.exclude)}"] * bool(options.exclude)
    )
    try:
        output = run_dbt(settings, args, quiet=True)
    except DbtError as exc:
        raise BuildError(f"bad selection {described}: {_dbt_reason(str(exc))}", 2) from exc
    nodes = set()
    for line in output.splitlines():
        line = line.strip()
        if line.startswith("{"):
            nodes.add(str(json.loads(line)["unique_id"]))
    if not nodes:
        raise BuildError(f"{described} matches no node of the dbt project", 2)
    return nodes


def _dbt_reason(message: str) -> str:
    """The line of dbt's captured output that says what went wrong."""
    lines = [line.strip() for line in message.splitlines()[1:] if line.strip()]
    useful = [
        line
        for line in lines
        if not line.endswith(("Encountered an error:", "Runtime Error", "Compilation Error"))
    ]
    return useful[0] if useful else message.splitlines()[0]


def score_readers(path: Path) -> set[str]:
    """Every node downstream of the `predictions` source (what READS_SCORES selects)."""
    manifest = json.loads(path.read_text())
    children: dict[str, list[str]] = manifest.get("child_map", {})
    pending = [
        uid
        for uid, source in manifest.get("sources", {}).items()
        if source.get("source_name") == PREDICTIONS_SOURCE
    ]
    seen: set[str] = set()
    while pending:
        node = pending.pop()
        for child in children.get(node, []):
            if child not in seen:
                seen.add(child)
                pending.append(child)
    return seen


def subset_plan(options: BuildOptions, selected: set[str], readers: set[str]) -> Plan:
    """The phases a subset build needs for the nodes it selects."""
    before = selected - readers
    after = selected & readers
    inputs = {f"model.cdp.{name}" for name in SCORING_INPUTS}
    scoring = bool(inputs & before)
    notes = []
    if not scoring:
        notes.append(
            "scoring skipped: the selection builds none of its inputs "
            f"({', '.join(SCORING_INPUTS)})"
        )
    after_select = tuple(f"{word},{READS_SCORES}" for word in options.select) or (READS_SCORES,)
    return Plan(
        before=Phase(
            "the selection before the scores", options.select, (*options.exclude, READS_SCORES)
        )
        if before
        else None,
        scoring=scoring,
        after=Phase("the selection that reads the scores", after_select, options.exclude)
        if after
        else None,
        notes=tuple(notes),
    )


# --- the routine -------------------------------------------------------------------------


def build(
    settings: Settings,
    options: BuildOptions | None = None,
    progress: Progress | None = None,
    *,
    quiet: bool = False,
) -> BuildResult:
    """Build the dbt project with its scoring step; raise BuildError when it fails.

    `quiet` captures dbt's output instead of streaming it (it is then part of the
    error). A complete build (no selection) that succeeds marks the erasures
    awaiting their rebuild (DuckDB target).
    """
    options = options or BuildOptions()
    say = progress or (lambda _message: None)
    if options.vars:
        parse_vars(options.vars)
    started_at = utc_now()
    tests = choose_data_tests(settings, options, started_at)
    say(tests.describe())
    if options.is_subset:
        say("resolving the selection (dbt ls)")
        selected = selected_nodes(settings, options, tests)
        manifest = manifest_path(settings)
        plan = subset_plan(options, selected, score_readers(manifest))
        say(f"the selection holds {len(selected)} node(s)")
    else:
        plan = complete_plan()
    result = BuildResult(complete=not options.is_subset, tests=tests.suite)
    steps = [s for s in (plan.before, plan.scoring, plan.after) if s]
    number = 0

    def step(title: str) -> None:
        nonlocal number
        number += 1
        result.phases.append(title)
        say(f"phase {number}/{len(steps)}: {title}")

    for note in plan.notes:
        say(note)
    before_error: DbtError | None = None
    before_results: dict[str, Any] | None = None
    if plan.before:
        step(f"dbt build, {plan.before.title}")
        try:
            dbt_build(settings, plan.before, options, quiet=quiet, tests=tests)
        except DbtError as exc:
            if not plan.scoring:
                before_error = exc
            else:
                _raise_if_scoring_blocked(settings, exc)
                before_error = exc
                say("that phase failed on nodes the scoring does not read; scoring all the same")
        before_results = read_run_results(settings)
    if plan.scoring:
        step("scoring (churn, CLV) into the predictions schema")
        from cdp.predictions import ScoringError

        try:
            result.scoring = score(settings, say)
        except ScoringError as exc:
            raise BuildError(f"scoring failed: {exc}") from exc
        for line in result.scoring.render().splitlines():
            say(line)
    if plan.after:
        step(f"dbt build, {plan.after.title}")
        try:
            dbt_build(settings, plan.after, options, quiet=quiet, tests=tests)
        except DbtError as exc:
            raise BuildError(str(exc)) from exc
        finally:
            if plan.before:
                merge_run_results(settings, before_results)
    if before_error is not None:
        later = [
            name for name, ran in (("scoring", plan.scoring), ("the last phase", plan.after)) if ran
        ]
        ran = f"; {' and '.join(later)} ran" if later else ""
        raise BuildError(f"{before_error} (phase 1{ran})")
    if result.complete:
        result.erasures_rebuilt = mark_erasures_rebuilt(settings, started_at)
    refresh_after_build(settings, say)
    return result


def _raise_if_scoring_blocked(settings: Settings, error: DbtError) -> None:
    from cdp.predictions.readiness import scoring_blockers

    blockers = scoring_blockers(read_run_results(settings), manifest_path(settings))
    if blockers:
        raise BuildError(f"{error}; the scoring needs: {'; '.join(blockers)}") from error
