"""A segment model: never empty, and its size moves at most a bounded share between builds."""

from __future__ import annotations

import great_expectations as gx
from great_expectations import expectations as gxe

from expectations.config import SegmentThresholds


def build_segment_suite(
    segment: str, previous_size: int | None, thresholds: SegmentThresholds
) -> gx.ExpectationSuite:
    expectations: list[gx.expectations.Expectation] = []
    expectations.append(gxe.ExpectTableRowCountToBeBetween(min_value=1))
    if previous_size:
        bound = thresholds.max_size_change
        expectations.append(
            gxe.ExpectTableRowCountToBeBetween(
                min_value=int(previous_size * (1 - bound)),
                max_value=int(previous_size * (1 + bound)) + 1,
            )
        )
    expectations.append(gxe.ExpectColumnValuesToNotBeNull(column="customer_id"))
    expectations.append(gxe.ExpectColumnValuesToBeUnique(column="customer_id"))
    return gx.ExpectationSuite(name=f"segment__{segment}", expectations=expectations)
