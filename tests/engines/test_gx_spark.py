"""The GX suites on Spark: the check functions read a Spark table through cdp/warehouse,
keep their baselines in Spark (Parquet tables replaced by `insert overwrite`), and a
duplicated row fails the suite with ERROR.

Runs in a process of its own with a Spark session on a scratch CDP_SPARK_DIR (not the
Spark build's), like test_spark_store.py.
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

CHECKS = r"""
import dataclasses, json
from cdp.config import Settings
from cdp.warehouse import open_warehouse
from expectations.config import Thresholds
from orchestration.defs.checks import check_customers, check_segment

CUSTOMERS = (
    "select * from values "
    "('c1', 'Ann', 'Lee', 'ann@example.com', '+447900000001', 2), "
    "('c2', 'Bo', 'Li', 'bo@example.com', '+447900000002', 1) "
    "as t(customer_id, first_name, last_name, email, phone_e164, record_count)"
)
report = {}
settings = dataclasses.replace(Settings.from_env(), target="spark")
with open_warehouse(settings, read_only=False) as wh:
    wh.execute("create schema if not exists marts")
    wh.execute(f"create table marts.customers using parquet as {CUSTOMERS}")
    wh.execute("create table marts.seg using parquet as select customer_id from marts.customers")
    first = check_customers(wh, "marts", "customers", Thresholds())
    report["first"] = [first.passed, first.metadata["id_stability"].value]
    report["baseline"] = sorted(
        c for (c,) in wh.rows("select customer_id from quality.customer_ids_last_build")
    )
    second = check_customers(wh, "marts", "customers", Thresholds())
    report["second"] = [second.passed, second.metadata["ids_kept"].value]
    seg = check_segment(wh, "marts", "seg", Thresholds())
    again = check_segment(wh, "marts", "seg", Thresholds())
    report["segment"] = [seg.passed, again.passed, again.metadata["previous_members"].value]
    sizes = wh.rows("select segment, members from quality.segment_sizes_last_build")
    report["sizes"] = [[s, int(m)] for s, m in sizes]
    wh.execute("insert into marts.customers values ('c1', 'Ann', 'Lee', 'a@b.co', null, 1)")
    dup = check_customers(wh, "marts", "customers", Thresholds())
    report["duplicate"] = [dup.passed, str(dup.severity), dup.description]
    report["baseline_after"] = sorted(
        c for (c,) in wh.rows("select customer_id from quality.customer_ids_last_build")
    )
print("REPORT " + json.dumps(report))
"""


def test_gx_checks_on_spark(tmp_path: Path) -> None:
    pytest.importorskip("pyspark", reason="pyspark is not installed")
    env = dict(os.environ) | {
        "CDP_HOME": str(REPO),
        "CDP_SPARK_DIR": str(tmp_path / "spark"),
        "CDP_GX_DOCS_DIR": "",
    }
    done = subprocess.run(
        [sys.executable, "-c", CHECKS],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
        timeout=900,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    line = next(x for x in done.stdout.splitlines() if x.startswith("REPORT "))
    report = json.loads(line[len("REPORT ") :])
    assert report["first"] == [True, "no earlier accepted build to compare with"]
    assert report["baseline"] == ["c1", "c2"]
    assert report["second"] == [True, 2]
    assert report["segment"] == [True, True, 2]
    assert report["sizes"] == [["seg", 2]]
    passed, severity, description = report["duplicate"]
    assert not passed and severity.endswith("ERROR")
    assert "expect_column_values_to_be_unique" in description
    assert report["baseline_after"] == ["c1", "c2"]  # a failed check keeps the baseline
