"""How the suite is split between pytest-xdist workers (`make test`: -n 2 --dist loadgroup).

A test belongs to one group, and a group runs whole on one worker, so a
session or package fixture behind a group is set up on one worker only (and a
package whose tests share state in file order, tests/privacy, keeps its order):

* `spark`: the Spark modules (their file name holds `spark`); always last,
  because their build runs in the background from the first test;
* a package of PACKAGE_GROUPS (tests/<package>/): one group;
* any other module (tests/test_*.py, tests/reverse_etl/test_*.py): its own group.

The group is computed from the test's node id alone, because xdist's controller
schedules from node ids without collecting. xdist's own `loadgroup` reads
`xdist_group` marks by appending them to the node id, which pytest 9 no longer
allows (the id is read-only), so with `--dist loadgroup` the suite brings its
own scheduler (tests/conftest.py: pytest_xdist_make_scheduler): xdist's
LoadScopeScheduling with these groups as scopes, handed out in collection
order, which tests/conftest.py sorts longest first (`rank`).
"""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import Any

SPARK_GROUP = "spark"
# Packages whose tests share session or package fixtures that build (or hold
# state the tests share in order): each runs whole on one worker.
PACKAGE_GROUPS = frozenset(
    {"engines", "identity", "incremental", "orchestration", "privacy", "segments", "predictions"}
)
# Groups handed to the workers first, longest first (--durations on 2 cores;
# docs/testing.md). Groups not listed follow in collection order, those with a
# slow test first; the Spark group is always last.
LONGEST_FIRST = (
    "orchestration",
    "engines",
    "incremental",
    "identity",
    "test_cli.py",
    "privacy",
    "segments",
    "test_build.py",
    "reverse_etl/test_retl_postgres.py",
    "reverse_etl/test_retl_kill.py",
)


def group_of(nodeid: str) -> str:
    """The group of a test, from its node id (`tests/<path>::<name>`)."""
    parts = PurePosixPath(nodeid.split("::", 1)[0]).parts
    if parts and parts[0] == "tests":
        parts = parts[1:]
    if not parts:
        return nodeid
    if SPARK_GROUP in parts[-1]:
        return SPARK_GROUP
    if len(parts) > 1 and parts[0] in PACKAGE_GROUPS:
        return parts[0]
    return "/".join(parts)


def rank(group: str, slow: bool, first_seen: int) -> tuple[int, int]:
    """Sort key of a group: LONGEST_FIRST in order, then the slow groups, then
    the rest (each in collection order), then Spark."""
    if group == SPARK_GROUP:
        return (3, 0)
    if group in LONGEST_FIRST:
        return (0, LONGEST_FIRST.index(group))
    return (1 if slow else 2, first_seen)


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
