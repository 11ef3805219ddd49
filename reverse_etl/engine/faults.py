"""Named crash points for the kill tests (test hook; inert unless the variable is set).

CDP_REVERSE_ETL_CRASH_AT="<point>:<n>[,<point>:<n>...]" makes the process exit
immediately (os._exit(137), like SIGKILL: no cleanup, no flush) the n-th time it
reaches <point>. Points, in the order a batch passes them:

    outbox_written  the batch is committed to sync_outbox, nothing sent yet
    acknowledged    the destination acknowledged it, state not yet committed
    committed       state, counters and outbox deletion committed
    reconciled      a pending batch from a crashed run was reconciled, not yet committed
"""

from __future__ import annotations

import os
from collections import Counter

ENV = "CDP_REVERSE_ETL_CRASH_AT"
POINTS = ("outbox_written", "acknowledged", "committed", "reconciled")

_reached: Counter[str] = Counter()


def _plan() -> dict[str, int]:
    spec = os.environ.get(ENV, "")
    plan = {}
    for item in filter(None, (part.strip() for part in spec.split(","))):
        point, _, count = item.partition(":")
        plan[point] = int(count or 1)
    return plan


def crash_point(point: str) -> None:
    """Exit abruptly if the environment asks for a crash at this occurrence of `point`."""
    if ENV not in os.environ:
        return
    _reached[point] += 1
    if _plan().get(point) == _reached[point]:
        os._exit(137)
