"""`cdp sync` with a crash hook, for the kill tests.

    python -m crashing_sync <point>:<n>[,<point>:<n>...] --config ... --warehouse ...

Runs the same command as `cdp sync` (reverse_etl.cli.sync) with the remaining
arguments, and exits the process immediately (os._exit(137), like SIGKILL: no
cleanup, no flush) the n-th time the engine reaches <point>. The points are the
runner's checkpoints (reverse_etl/engine/runner.py): outbox_written, acknowledged,
committed, reconciled. Run with this folder on sys.path (`python -m` from here, or
PYTHONPATH), as retl_support.run_crashing_sync does.
"""

from __future__ import annotations

import os
import sys
from collections import Counter
from typing import get_args

from reverse_etl.cli import SyncHooks, sync
from reverse_etl.engine.runner import CheckpointName

POINTS: tuple[str, ...] = get_args(CheckpointName)


class CrashAt:
    """A checkpoint observer that ends the process at the planned occurrences."""

    def __init__(self, spec: str) -> None:
        self.plan: dict[str, int] = {}
        for item in filter(None, (part.strip() for part in spec.split(","))):
            point, _, count = item.partition(":")
            if point not in POINTS:
                raise ValueError(f"unknown checkpoint {point!r}; known: {', '.join(POINTS)}")
            self.plan[point] = int(count or 1)
        self.reached: Counter[str] = Counter()

    def __call__(self, point: CheckpointName) -> None:
        self.reached[point] += 1
        if self.plan.get(point) == self.reached[point]:
            os._exit(137)


def main(argv: list[str]) -> None:
    if not argv:
        sys.exit("usage: python -m crashing_sync <point>:<n>[,...] [cdp sync options]")
    sync.main(argv[1:], prog_name="crashing_sync", obj=SyncHooks(checkpoint=CrashAt(argv[0])))


if __name__ == "__main__":
    main(sys.argv[1:])
