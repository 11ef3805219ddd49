"""customer_measures reconciles with an independent pandas recomputation from the raw data.

The recomputation reads the landed raw tables (not staging), takes the latest
version of each order and receipt, converts to EUR with the currency_rates seed
(rate rounded to 10 places, amount to cents, as documented in staging) and
attaches records to customers through customer_source_records (identity is
tested elsewhere).
"""

from __future__ import annotations

import csv
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal

import pandas as pd
import pytest

from tests.segments.conftest import AS_OF_DATE, DBT_PROJECT, Warehouse

pytestmark = pytest.mark.slow

CENT = Decimal("0.01")
END_OF_AS_OF_DAY = datetime.combine(
    date.fromisoformat(AS_OF_DATE), datetime.min.time()
) + pd.Timedelta(days=1)


def reporting_rates() -> dict[str, Decimal]:
    with (DBT_PROJECT / "seeds" / "currency_rates.csv").open() as handle:
        units = {
            row["currency_code"]: Decimal(row["units_per_eur"]) for row in csv.DictReader(handle)
        }
    return {
        code: (units["EUR"] / value).quantize(Decimal("1E-10"), ROUND_HALF_UP)
        for code, value in units.items()
    }


def to_eur(amount: object, currency: object, rates: dict[str, Decimal]) -> Decimal:
    if amount is None or pd.isna(amount) or not isinstance(currency, str):
        return Decimal(0)
    rate = rates.get(currency.strip().upper())
    if rate is None:
        return Decimal(0)
    return (Decimal(str(amount)) * rate).quantize(CENT, ROUND_HALF_UP)


def latest(frame: pd.DataFrame, key: str, version: str | None) -> pd.DataFrame:
    order = ([version] if version else []) + ["_loaded_at", "_source_file", "_source_line"]
    ranked = frame.sort_values(order, ascending=False, na_position="last")
    return ranked.drop_duplicates(key, keep="first")


def expected_measures(warehouse: Warehouse) -> pd.DataFrame:
    rates = reporting_rates()
    records = warehouse.query(
        "select source_name, source_record_id, customer_id from marts.customer_source_records"
    )
    owner = {
        (row.source_name, row.source_record_id): row.customer_id for row in records.itertuples()
    }

    orders = latest(warehouse.query("select * from raw.shop_orders"), "order_id", "updated_at")
    orders = orders[orders["ordered_at"] < END_OF_AS_OF_DAY]
    purchases = []
    for row in orders.itertuples():
        customer = owner.get(("shop_orders", str(row.order_id)))
        if customer is None:
            continue
        total = to_eur(row.total, row.currency, rates)
        refund = min(to_eur(row.refunded_amount, row.currency, rates), total)
        status = row.status.strip().lower() if isinstance(row.status, str) else None
        is_purchase = status is not None and status != "cancelled"
        purchases.append((customer, "online", row.ordered_at, total - refund, is_purchase))

    receipts = latest(
        warehouse.query("select * from raw.store_transactions"), "transaction_id", None
    )
    receipts = receipts[receipts["transacted_at"] < END_OF_AS_OF_DAY]
    for row in receipts.itertuples():
        number = row.loyalty_number.strip().upper() if isinstance(row.loyalty_number, str) else ""
        customer = owner.get(("loyalty_members", number)) if number else None
        if customer is None:
            continue
        amount = to_eur(row.total_amount, row.currency, rates)
        is_return = (
            bool(row.is_return) if not pd.isna(row.is_return) else bool(row.total_amount < 0)
        )
        purchases.append((customer, "store", row.transacted_at, amount, not is_return))

    frame = pd.DataFrame(
        purchases, columns=["customer_id", "channel", "occurred_at", "net", "is_purchase"]
    )
    bought = frame[frame["is_purchase"]]
    result = pd.DataFrame(
        {
            "revenue": frame.groupby("customer_id")["net"]
            .sum()
            .map(lambda value: max(value, Decimal(0))),
            "order_count": bought[bought["channel"] == "online"].groupby("customer_id").size(),
            "store_purchase_count": bought[bought["channel"] == "store"]
            .groupby("customer_id")
            .size(),
            "last_purchase_date": bought.groupby("customer_id")["occurred_at"].max().dt.date,
        }
    )
    result[["order_count", "store_purchase_count"]] = (
        result[["order_count", "store_purchase_count"]].fillna(0).astype(int)
    )
    return result


def test_measures_reconcile_with_raw_recomputation(built_warehouse: Warehouse) -> None:
    measures = built_warehouse.query("select * from marts.customer_measures").set_index(
        "customer_id"
    )
    expected = expected_measures(built_warehouse)
    assert len(expected) > 20, "the sample should have buyers"

    # every customer with raw purchase rows, plus a sample of everyone else
    sample = list(expected.index) + list(measures.index.difference(expected.index)[:50])
    mismatches = []
    for customer in sample:
        got = measures.loc[customer]
        want = expected.loc[customer] if customer in expected.index else None
        revenue = want["revenue"] if want is not None else Decimal(0)
        orders = int(want["order_count"]) if want is not None else 0
        store = int(want["store_purchase_count"]) if want is not None else 0
        last = want["last_purchase_date"] if want is not None else None
        last = None if last is None or pd.isna(last) else last
        got_last = (
            None
            if pd.isna(got["last_purchase_date"])
            else pd.Timestamp(got["last_purchase_date"]).date()
        )
        if (
            Decimal(str(got["lifetime_revenue"])) != revenue
            or int(got["order_count"]) != orders
            or int(got["store_purchase_count"]) != store
            or got_last != last
        ):
            mismatches.append(
                (
                    customer,
                    dict(got[["lifetime_revenue", "order_count", "last_purchase_date"]]),
                    want,
                )
            )
    assert not mismatches, mismatches[:5]


def test_measures_stay_defined(built_warehouse: Warehouse) -> None:
    measures = built_warehouse.query("select * from marts.customer_measures")
    customers = built_warehouse.query("select count(*) as n from marts.customers")["n"][0]
    assert len(measures) == customers
    counts = [
        "order_count",
        "store_purchase_count",
        "purchase_count",
        "email_opens_30d",
        "email_opens_90d",
        "email_clicks_30d",
        "email_clicks_90d",
        "web_sessions_30d",
        "product_views_30d",
        "open_support_tickets",
    ]
    for column in [*counts, "lifetime_revenue", "average_order_value", "purchase_frequency_30d"]:
        assert measures[column].notna().all(), column
        assert (measures[column].astype(float) >= 0).all(), column
    no_purchase = measures[measures["purchase_count"] == 0]
    assert len(no_purchase) > 0
    assert (no_purchase["rfm_group"] == "no_purchase").all()
    assert no_purchase["last_purchase_date"].isna().all()
    buyers = measures[measures["purchase_count"] > 0]
    assert buyers["recency_score"].between(1, 5).all()
    assert (buyers["days_since_last_purchase"] >= 0).all(), "no future-dated purchase counts"


def test_propensity_evaluation_beats_naive_baseline(built_warehouse: Warehouse) -> None:
    evaluation = built_warehouse.query(
        "select * from marts.customer_purchase_propensity_evaluation"
    )
    assert set(evaluation["metric_name"]) == {"brier_score", "log_loss"}
    assert (evaluation["holdout_customers"] > 0).all()
    assert (evaluation["model_value"] < evaluation["baseline_value"]).all()
    scores = built_warehouse.query("select * from marts.customer_purchase_propensity")
    customers = built_warehouse.query("select count(*) as n from marts.customers")["n"][0]
    assert len(scores) == customers
    assert scores["purchase_probability_90d"].between(0, 1).all()
