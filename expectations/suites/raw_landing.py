"""Raw landing: the table has exactly its declared columns, and the last load's size is sane."""

from __future__ import annotations

from collections.abc import Sequence

import great_expectations as gx
from great_expectations import expectations as gxe
from great_expectations.expectations.metadata_types import FailureSeverity

from expectations.config import RawLandingThresholds


def build_raw_landing_suite(
    table: str,
    columns: Sequence[str],
    rows_before_last_load: int | None,
    thresholds: RawLandingThresholds,
) -> gx.ExpectationSuite:
    """`columns`: the declared columns plus the loader's metadata columns, in order.

    `rows_before_last_load`: the table's size before its latest load (None when it
    was loaded once only). Raw tables are append-only: the size may not shrink and
    may grow by at most `max_growth_factor`.
    """
    expectations: list[gx.expectations.Expectation] = []
    expectations.append(gxe.ExpectTableColumnsToMatchOrderedList(column_list=list(columns)))
    if rows_before_last_load:
        expectations.append(
            gxe.ExpectTableRowCountToBeBetween(
                min_value=rows_before_last_load,
                max_value=int(rows_before_last_load * thresholds.max_growth_factor),
                severity=FailureSeverity.WARNING,
            )
        )
    return gx.ExpectationSuite(name=f"raw_landing__{table}", expectations=expectations)
