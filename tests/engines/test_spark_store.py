"""The scoring step's Spark store writes a table another process can read right after.

`cdp build` scores between two dbt runs; on Spark both open one embedded
Derby metastore, which admits one JVM at a time. A process of its own (like
the `cdp build` process) writes a table through SparkStore, closes it and,
still alive, starts a second process that reads the table through a fresh
session: that only works if close() let go of the metastore.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.engines.engine_builds import REPO

pytestmark = [
    pytest.mark.slow,
    pytest.mark.spark,
    pytest.mark.skipif(
        os.environ.get("CDP_TEST_SPARK") != "1",
        reason="Spark tests are slow: they run with CDP_TEST_SPARK=1 (make test sets it)",
    ),
]

WRITER = r"""
import datetime, json, subprocess, sys
import pandas as pd
from cdp.predictions.spark_store import SparkStore
from cdp.predictions.store import Column

columns = (
    Column("customer_id", "varchar", ""),
    Column("as_of_date", "date", ""),
    Column("has_purchased", "boolean", ""),
    Column("score", "double", ""),
    Column("rows", "bigint", ""),
    Column("decile", "integer", ""),
)
frame = pd.DataFrame(
    {
        "customer_id": ["c1", "c2"],
        "as_of_date": [datetime.date(2026, 6, 30)] * 2,
        "has_purchased": [True, False],
        "score": [0.25, None],
        "rows": [3, 4],
        "decile": [10, 1],
    }
)
store = SparkStore.open()
store.replace_table("predictions", "store_test", frame, columns)
store.replace_table("predictions", "store_test", frame, columns)  # replaced, not appended
read_back = store.read_relation("predictions", "store_test")
store.close()
reader = subprocess.run(
    [sys.executable, "-c", sys.argv[1]], capture_output=True, text=True, check=False, timeout=600
)
print(json.dumps({
    "read_back": sorted(map(str, read_back.to_dict("records"))),
    "reader_exit": reader.returncode,
    "reader_out": reader.stdout[-3000:],
    "reader_err": reader.stderr[-3000:],
}))
"""

READER = r"""
import json
from cdp.landing.engines.spark import SparkConfig
spark = SparkConfig.from_env().session()
rows = spark.sql("select * from predictions.store_test").collect()
print("ROWS " + json.dumps(sorted(map(str, (tuple(r) for r in rows)))))
spark.stop()
"""


def test_spark_store_releases_the_metastore_on_close(tmp_path: Path) -> None:
    pytest.importorskip("pyspark", reason="pyspark is not installed")
    env = dict(os.environ) | {"CDP_HOME": str(REPO), "CDP_SPARK_DIR": str(tmp_path / "spark")}
    done = subprocess.run(
        [sys.executable, "-c", WRITER, READER],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
        timeout=900,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert len(report["read_back"]) == 2
    assert report["reader_exit"] == 0, report["reader_out"] + report["reader_err"]
    line = next(x for x in report["reader_out"].splitlines() if x.startswith("ROWS "))
    assert json.loads(line[len("ROWS ") :]) == sorted(
        [
            "('c1', datetime.date(2026, 6, 30), True, 0.25, 3, 10)",
            "('c2', datetime.date(2026, 6, 30), False, None, 4, 1)",
        ]
    )
