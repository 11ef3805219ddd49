"""A `cdp` run killed in the middle of a Spark erasure's table rewrites (test-only).

`python -m tests.engines.privacy_spark_fault N <cdp args>` runs the cdp CLI with
`SparkConnection.overwrite_from` wrapped: at its N-th call on a raw table the
table is emptied (as an `insert overwrite` cut short after Spark removed the old
files) and the process ends at once (exit 17), before the overwrite or any
later step. The tombstones and N-1 raw tables' rewrites are then done, the
N-th table is staged and empty, the audit record is not written: what the next
`cdp privacy erase` of the same request must finish (cdp/privacy/erase_spark.py).
"""

from __future__ import annotations

import os
import sys

KILLED = 17


def main(argv: list[str]) -> None:
    from cdp.cli import main as cdp
    from cdp.privacy.connection import SparkConnection

    after, *args = argv
    calls = {"raw": 0}
    original = SparkConnection.overwrite_from

    def overwrite_from(self: SparkConnection, relation: str, scratch: str) -> None:
        if relation.startswith("raw."):
            calls["raw"] += 1
            if calls["raw"] == int(after):
                self.spark.sql(f"truncate table {relation}")
                sys.stdout.flush()
                os._exit(KILLED)
        original(self, relation, scratch)

    SparkConnection.overwrite_from = overwrite_from  # type: ignore[method-assign]
    sys.argv = ["cdp", *args]
    cdp()


if __name__ == "__main__":
    main(sys.argv[1:])
