"""The GX check functions and the sensor's planning, as plain functions (no Dagster run)."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd
import pytest
from dagster import AssetCheckSeverity

from expectations.config import CustomersThresholds, Thresholds, load_thresholds
from expectations.runner import validate
from expectations.suites import build_customers_suite
from orchestration.defs.checks import check_customers, check_raw_table, check_segment
from orchestration.defs.landing_files import SeenFile, is_temporary
from orchestration.defs.sensors import plan_new_files


@pytest.fixture(autouse=True)
def _docs_in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CDP_GX_DOCS_DIR", str(tmp_path / "gx"))


def _customers(con: duckdb.DuckDBPyConnection, ids: list[str]) -> None:
    con.execute("create schema if not exists marts")
    con.execute(
        "create or replace table marts.customers as select * from (values "
        + ", ".join(
            f"('{i}', 'Ann', 'Lee', 'ann{n}@example.com', '+4479{n:08d}', 2)"
            for n, i in enumerate(ids)
        )
        + ") as t(customer_id, first_name, last_name, email, phone_e164, record_count)"
    )


def test_customers_pass_then_duplicates_fail_with_error() -> None:
    con = duckdb.connect()
    _customers(con, ["c1", "c2", "c3"])
    first = check_customers(con, "marts", "customers", Thresholds())
    assert first.passed, first.description
    assert first.metadata["id_stability"].value.startswith("no earlier")
    _customers(con, ["c1", "c2", "c2"])
    second = check_customers(con, "marts", "customers", Thresholds())
    assert not second.passed
    assert second.severity == AssetCheckSeverity.ERROR
    assert "expect_column_values_to_be_unique" in second.description


def test_changed_ids_beyond_the_bound_fail() -> None:
    con = duckdb.connect()
    _customers(con, [f"c{n}" for n in range(10)])
    assert check_customers(con, "marts", "customers", Thresholds()).passed
    _customers(con, [f"c{n}" for n in range(5)] + [f"n{n}" for n in range(5)])
    result = check_customers(con, "marts", "customers", Thresholds())
    assert not result.passed
    assert result.metadata["ids_gone"].value == 5
    assert result.metadata["ids_new"].value == 5
    assert "expect_column_values_to_be_in_set" in result.description


def test_a_suite_naming_a_missing_column_fails_with_the_reason() -> None:
    frame = pd.DataFrame({"customer_id": ["a"], "record_count": [1], "email": ["a@b.co"]})
    outcome = validate(frame, build_customers_suite(CustomersThresholds()), "customers")
    assert not outcome.success
    missing = [f for f in outcome.critical_failures if f.error] + [
        f for f in outcome.failures if f.error
    ]
    assert any('"phone_e164"' in (f.error or "") for f in missing), outcome.describe()
    assert "could not run" in outcome.describe()


def test_raw_table_with_an_extra_column_fails() -> None:
    con = duckdb.connect()
    con.execute("create schema raw")
    con.execute("create table raw.t as select 1 as a, 2 as b, now()::timestamp as _loaded_at")
    ok = check_raw_table(con, "t", ["a", "b", "_loaded_at"], Thresholds())
    assert ok.passed, ok.description
    bad = check_raw_table(con, "t", ["a", "_loaded_at"], Thresholds())
    assert not bad.passed and bad.severity == AssetCheckSeverity.ERROR
    missing = check_raw_table(con, "nope", ["a"], Thresholds())
    assert not missing.passed and "does not exist" in (missing.description or "")


def test_segment_size_change_is_bounded() -> None:
    con = duckdb.connect()
    con.execute("create schema marts")
    con.execute("create table marts.seg as select 'c' || i as customer_id from range(100) t(i)")
    assert check_segment(con, "marts", "seg", Thresholds()).passed
    con.execute(
        "create or replace table marts.seg as select 'c' || i as customer_id from range(20) t(i)"
    )
    shrunk = check_segment(con, "marts", "seg", Thresholds())
    assert not shrunk.passed and shrunk.severity == AssetCheckSeverity.ERROR
    con.execute(
        "create or replace table marts.seg as select 'c' || i as customer_id from range(0) t(i)"
    )
    assert not check_segment(con, "marts", "seg", Thresholds()).passed


def test_thresholds_file_overrides_and_rejects_unknown_keys(tmp_path: Path) -> None:
    path = tmp_path / "t.yml"
    path.write_text("customers: {max_cluster_size: 3}\n", encoding="utf-8")
    assert load_thresholds(path).customers.max_cluster_size == 3
    assert load_thresholds(path).segments.max_size_change == 0.5
    path.write_text("customers: {max_clustr_size: 3}\n", encoding="utf-8")
    with pytest.raises(ValueError, match="max_clustr_size"):
        load_thresholds(path)


def test_sensor_planning_waits_for_a_settled_file() -> None:
    first = SeenFile("t", "t/a.csv", 10, 1_000_000_000)
    ready, cursor = plan_new_files([first], {}, settle_seconds=0)
    assert ready == []
    grown = SeenFile("t", "t/a.csv", 20, 2_000_000_000)
    ready, cursor = plan_new_files([grown], cursor, settle_seconds=0)
    assert ready == []
    ready, cursor = plan_new_files([grown], cursor, settle_seconds=0)
    assert ready == [grown]
    ready, cursor = plan_new_files([grown], cursor, settle_seconds=0)
    assert ready == []
    assert is_temporary("a.csv.part") and is_temporary(".a.csv") and not is_temporary("a.csv")
