"""How the suite is split between pytest-xdist workers (`make test`: -n 2 --dist loadgroup).

A test belongs to one group, and a group runs whole on one worker, so a
session or package fixture behind a group is set up on one worker only (and a
package whose tests share state in file order, tests/privacy, keeps its order):

* `spark`: the Spark modules (their file name holds `spark`) that read the
  Spark build; always last, because that build runs in the background from the
  first test. A Spark module that starts Spark sessions of its own
  (SPARK_WITHOUT_BUILD) has no reason to wait and is grouped like any other;
* a package of PACKAGE_GROUPS (tests/<package>/): one group, but for the
  modules of OWN_GROUP_MODULES, which share none of its builds;
* any other module (tests/test_*.py, tests/reverse_etl/test_*.py, and the
  modules of tests/incremental, whose builds are shared between workers
  through tests/once.py): its own group;
* a test of a module of PER_TEST_MODULES: a group of its own (named
  `<module>::<test id>`), for a module whose tests share nothing but work
  made through tests/once.py.

The group is computed from the test's node id alone, because xdist's controller
schedules from node ids without collecting. xdist's own `loadgroup` reads
`xdist_group` marks by appending them to the node id, which pytest 9 no longer
allows (the id is read-only), so with `--dist loadgroup` the suite brings its
own scheduler (tests/conftest.py: pytest_xdist_make_scheduler): xdist's
LoadScopeScheduling with these groups as scopes, handed out in collection
order, which tests/conftest.py sorts longest first (`rank`).
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from pathlib import Path, PurePosixPath
from typing import Any

SPARK_GROUP = "spark"
# Spark modules (paths under tests/) that do not read the Spark build: grouped
# like any other module, so they run before the end instead of after it.
SPARK_WITHOUT_BUILD = frozenset({"engines/test_spark_store.py"})
# Modules of such packages that share none of the package's builds (their own
# database on the package's server fixture, their own build): their own group,
# so that the other worker can take them. tests/engines/test_dagster_postgres.py
# materialises the whole Dagster graph in a database of its own.
OWN_GROUP_MODULES = frozenset({"engines/test_dagster_postgres.py"})
# Packages whose tests share session or package fixtures that build (or hold
# state the tests share in order): each runs whole on one worker.
# Modules whose tests are each a group of their own: the rounds of the
# incremental harness (150 to 500 s each) share only the complete build, which
# tests/once.py makes once for both workers.
PER_TEST_MODULES = frozenset({"incremental/test_incremental_equals_full.py"})
# tests/incremental is not one: its builds are made once per run for every
# worker (tests/once.py), so its modules are groups of their own.
PACKAGE_GROUPS = frozenset(
    {"engines", "identity", "orchestration", "privacy", "segments", "predictions"}
)
# Worker-seconds per group: pytest's --durations (setup, call, teardown) summed
# with group_seconds() below, from the last whole run on two workers (main at
# 09b7395, 2026-12-07 08:12, `-n 2 --dist loadgroup --durations=0`, load 2 to
# 4: 2,217 worker-seconds, 1,182 s wall). The groups are handed out longest
# first (the longest-processing-time rule: each worker takes the longest group
# left when it gets free, so the two finish close together as long as no group
# is over half the total). A group of 15 s or more belongs here; refresh the
# figures from a new run with `python -m tests.scheduling LOG`.
# The Spark group is not listed: it always goes last (its build runs in the
# background from the first test).
GROUP_SECONDS: dict[str, float] = {
    # tests/incremental, one group (707 s) in that run, split per module and per
    # harness round (branch `suite`): measured alone, serially, at load 10 to 15
    # (1,837 s in all) and scaled to the 707 s. The files, the base and the
    # complete build (182 s of set-up at that load, 70 s scaled) now start in a
    # background thread at the session's first test (incremental_builds_started
    # in tests/conftest.py), so no round carries them: identity_shapes, the
    # round that built them, is 198 - 70.
    "incremental/test_incremental_equals_full.py::"
    "test_incremental_build_equals_full_refresh[identity_shapes]": 128,
    "incremental/test_incremental_equals_full.py::"
    "test_incremental_build_equals_full_refresh[day_change]": 193,
    "incremental/test_incremental_postgres.py": 139,
    "incremental/test_incremental_equals_full.py::"
    "test_incremental_build_equals_full_refresh[events_only]": 92,
    "incremental/test_incremental_events.py": 57,
    "incremental/test_incremental_identity.py": 28,
    "orchestration": 404,
    "engines": 172,
    "privacy": 132,
    "identity": 112,
    "test_cli.py": 94,
    "test_build.py": 87,
    "reverse_etl/test_retl_kill.py": 77,
    "test_concurrency.py": 49,
    "segments": 44,
    "serve/test_durability.py": 31,
    "reverse_etl/test_retl_sync.py": 30,
    "test_warehouse_access.py": 25,
    "reverse_etl/test_retl_file.py": 23,
    "test_dbt_staging.py": 20,
    "reverse_etl/test_retl_postgres.py": 16,
    "serve/test_tracking.py": 15,
    # failed early in that run (no analytics.js installed): measured alone on
    # branch `suite`, load 3 (the linking test's build, 23 s, and two clients)
    "serve/test_clients.py": 27,
    # new this session (branch pgdagster), not yet in a whole run: its own Dagster
    # build on PostgreSQL, 413 s at load 10-38; estimated at a third of that
    "engines/test_dagster_postgres.py": 140,
    # new this session (branch gate15): 740 s serially at load 15-19 beside two other
    # jobs; estimated at a third of that
    "test_data_tests_policy.py": 250,
}


def is_spark_module(nodeid: str) -> bool:
    """Whether the test's module is a Spark module (its file name holds `spark`)."""
    return SPARK_GROUP in PurePosixPath(nodeid.split("::", 1)[0]).name


def group_of(nodeid: str) -> str:
    """The group of a test, from its node id (`tests/<path>::<name>`)."""
    parts = PurePosixPath(nodeid.split("::", 1)[0]).parts
    if parts and parts[0] == "tests":
        parts = parts[1:]
    if not parts:
        return nodeid
    if is_spark_module(nodeid) and "/".join(parts) not in SPARK_WITHOUT_BUILD:
        return SPARK_GROUP
    if "/".join(parts) in PER_TEST_MODULES and "::" in nodeid:
        return "/".join(parts) + "::" + nodeid.split("::", 1)[1]
    if len(parts) > 1 and parts[0] in PACKAGE_GROUPS and "/".join(parts) not in OWN_GROUP_MODULES:
        return parts[0]
    return "/".join(parts)


def rank(group: str, slow: bool, first_seen: int) -> tuple[int, float, int]:
    """Sort key of a group: those of GROUP_SECONDS longest first, then the other
    slow groups, then the rest (each in collection order), then Spark."""
    if group == SPARK_GROUP:
        return (3, 0, 0)
    if group in GROUP_SECONDS:
        return (0, -GROUP_SECONDS[group], first_seen)
    return (1 if slow else 2, 0, first_seen)


def group_seconds(durations: Iterable[str]) -> dict[str, float]:
    """Worker-seconds per group from the lines of pytest's `--durations=0` report
    (`12.34s call     tests/x.py::test_y`), longest first."""
    totals: dict[str, float] = {}
    for line in durations:
        fields = line.split(None, 2)  # a parametrized id may hold spaces
        if len(fields) != 3 or not fields[0].endswith("s"):
            continue
        if fields[1] not in ("setup", "call", "teardown") or not fields[2].startswith("tests/"):
            continue
        try:
            seconds = float(fields[0][:-1])
        except ValueError:
            continue
        group = group_of(fields[2])
        totals[group] = totals.get(group, 0.0) + seconds
    return dict(sorted(totals.items(), key=lambda item: -item[1]))


def make_scheduler(config: Any, log: Any) -> Any:
    """xdist's LoadScopeScheduling with group_of as the scope of a test."""
    from xdist.scheduler import LoadScopeScheduling

    class GroupScheduling(LoadScopeScheduling):  # type: ignore[misc]
        def _split_scope(self, nodeid: str) -> str:
            return group_of(nodeid)

    # Keep the collection order (longest first) instead of xdist's reorder by
    # number of tests per scope.
    config.option.loadscopereorder = False
    return GroupScheduling(config, log)


def main(argv: list[str]) -> int:
    """`python -m tests.scheduling LOG`: the worker-seconds per group in a pytest
    log run with --durations=0, as lines for GROUP_SECONDS (groups of 15 s or
    more), then the total."""
    (log,) = argv
    totals = group_seconds(Path(log).read_text(encoding="utf-8").splitlines())
    for group, seconds in totals.items():
        if seconds >= 15 and group != SPARK_GROUP:
            print(f'    "{group}": {seconds:.0f},')
    print(
        f"# total {sum(totals.values()):.0f} worker-seconds, Spark {totals.get(SPARK_GROUP, 0):.0f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
