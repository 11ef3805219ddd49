"""The Spark loader keeps erased people out (docs/privacy.md, "The loader's check").

One local Spark session in a fresh catalog: a tombstone for one shop customer
(the hashes `cdp privacy erase` writes: record key, email, phone) is put in
`privacy.erasure_tombstones`, then `ingest` with the spark target lands a
shop_customers file of three people: two land, the erased one does not, and
the summary counts it. The erasure on Spark, which writes these tombstones
itself, is tests/engines/test_privacy_spark.py.
"""

from __future__ import annotations

import hashlib
import os
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

HEADER = (
    "customer_id,email,first_name,last_name,phone,birth_date,address_line1,city,"
    "postal_code,country_code,accepts_marketing,created_at,updated_at\n"
)
ROWS = [
    "1001,keep.one@example.com,Keep,One,+441110000001,1980-01-01,1 A St,Leeds,LS1,GB,true,"
    "2025-01-01T00:00:00,2025-01-01T00:00:00\n",
    # the erased one: matched by its email (its customer id is not in the tombstone)
    "1002, Erased.Person@Example.com ,Erased,Person,+441110000002,1980-01-02,2 B St,Leeds,"
    "LS2,GB,true,2025-01-01T00:00:00,2025-01-01T00:00:00\n",
    "1003,keep.two@example.com,Keep,Two,+441110000003,1980-01-03,3 C St,Leeds,LS3,GB,true,"
    "2025-01-01T00:00:00,2025-01-01T00:00:00\n",
]


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def test_spark_loader_drops_rows_of_erased_people(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cdp.landing.engines.spark import SparkConfig
    from cdp.landing.ingest import ingest

    monkeypatch.setenv("CDP_HOME", str(REPO))
    monkeypatch.setenv("CDP_SPARK_DIR", str(tmp_path / "spark"))
    monkeypatch.setenv("CDP_SPARK_MASTER", "local[1]")
    landing = tmp_path / "landing" / "shop_customers"
    landing.mkdir(parents=True)
    (landing / "shop_customers__initial.csv").write_text(HEADER + "".join(ROWS))
    spark = SparkConfig.from_env().session()
    spark.sql("create database if not exists privacy")
    spark.sql(
        "create table privacy.erasure_tombstones (erasure_id string, identifier_type string, "
        "identifier_hash string) using parquet"
    )
    spark.sql(
        "insert into privacy.erasure_tombstones values "
        f"('er-1', 'email', '{_sha('erased.person@example.com')}'), "
        f"('er-1', 'record', '{_sha('shop_customers:NOT-1002')}')"
    )
    # ingest opens the same session (getOrCreate) and stops it when done
    result = ingest(
        tmp_path / "landing", tmp_path / "unused.duckdb", REPO / "dbt_project", target="spark"
    )
    assert result.rows_erased == 1
    assert result.tables["shop_customers"].rows_loaded == 2
    spark = SparkConfig.from_env().session()
    try:
        ids = sorted(
            str(r[0]) for r in spark.sql("select customer_id from raw.shop_customers").collect()
        )
        rejected = spark.sql("select count(*) from raw._rejects").collect()[0][0]
    finally:
        spark.stop()
    assert ids == ["1001", "1003"]
    assert rejected == 0
