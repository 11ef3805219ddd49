"""Consent events: known purposes, channels and statuses, and a person to apply them to."""

from __future__ import annotations

import great_expectations as gx
from great_expectations import expectations as gxe
from great_expectations.expectations.metadata_types import FailureSeverity

from expectations.config import ConsentThresholds

PURPOSES = ["marketing", "ads_personalisation", "analytics", "profiling"]
CHANNELS = ["email", "sms", "phone", "ads", "web"]
STATUSES = ["granted", "revoked"]


def build_consent_suite(thresholds: ConsentThresholds) -> gx.ExpectationSuite:
    """Over `stg_consent__consent_events` with a derived boolean `has_subject`
    (an email, a phone or the person's record id in the
    collecting system is known)."""
    expectations: list[gx.expectations.Expectation] = []
    expectations.append(gxe.ExpectColumnValuesToNotBeNull(column="consent_event_id"))
    expectations.append(gxe.ExpectColumnValuesToBeUnique(column="consent_event_id"))
    expectations.append(gxe.ExpectColumnValuesToNotBeNull(column="occurred_at"))
    for column, values in (("purpose", PURPOSES), ("channel", CHANNELS), ("status", STATUSES)):
        expectations.append(gxe.ExpectColumnValuesToNotBeNull(column=column))
        expectations.append(gxe.ExpectColumnValuesToBeInSet(column=column, value_set=values))
    expectations.append(
        gxe.ExpectColumnValuesToBeInSet(
            column="has_subject",
            value_set=[True],
            mostly=thresholds.min_identified_rate,
            severity=FailureSeverity.WARNING,
        )
    )
    return gx.ExpectationSuite(name="consent", expectations=expectations)
