"""The golden table `customers`: ids, contact validity, null rates, cluster sizes, id churn."""

from __future__ import annotations

import great_expectations as gx
from great_expectations import expectations as gxe
from great_expectations.expectations.metadata_types import FailureSeverity

from expectations.config import CustomersThresholds

EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
E164_PATTERN = r"^\+[1-9][0-9]{6,14}$"


def build_customers_suite(thresholds: CustomersThresholds) -> gx.ExpectationSuite:
    """Critical: one row per customer_id, never null, no cluster beyond the size bound.
    Warning: email and phone validity rates and null-rate ceilings."""
    expectations: list[gx.expectations.Expectation] = []
    expectations.append(gxe.ExpectTableRowCountToBeBetween(min_value=1))
    expectations.append(gxe.ExpectColumnValuesToNotBeNull(column="customer_id"))
    expectations.append(gxe.ExpectColumnValuesToBeUnique(column="customer_id"))
    expectations.append(
        gxe.ExpectColumnMaxToBeBetween(
            column="record_count", min_value=1, max_value=thresholds.max_cluster_size
        )
    )
    expectations.append(
        gxe.ExpectColumnValuesToMatchRegex(
            column="email",
            regex=EMAIL_PATTERN,
            mostly=thresholds.min_email_valid_rate,
            severity=FailureSeverity.WARNING,
        )
    )
    expectations.append(
        gxe.ExpectColumnValuesToMatchRegex(
            column="phone_e164",
            regex=E164_PATTERN,
            mostly=thresholds.min_phone_valid_rate,
            severity=FailureSeverity.WARNING,
        )
    )
    for column, max_null_rate in sorted(thresholds.max_null_rate.items()):
        expectations.append(
            gxe.ExpectColumnValuesToNotBeNull(
                column=column, mostly=round(1 - max_null_rate, 6), severity=FailureSeverity.WARNING
            )
        )
    return gx.ExpectationSuite(name="customers", expectations=expectations)


def build_customer_id_stability_suite(thresholds: CustomersThresholds) -> gx.ExpectationSuite:
    """Over the frame of `expectations.inputs.customer_id_changes`: one row per id in
    the last or the current build with `change` kept, new or gone. At most
    `max_changed_id_share` of them may be new or gone."""
    expectations: list[gx.expectations.Expectation] = []
    expectations.append(
        gxe.ExpectColumnValuesToBeInSet(
            column="change",
            value_set=["kept"],
            mostly=round(1 - thresholds.max_changed_id_share, 6),
        )
    )
    return gx.ExpectationSuite(name="customers__id_stability", expectations=expectations)
