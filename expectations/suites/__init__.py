"""The suites, one module per subject. Each builds a `gx.ExpectationSuite` in code.

Severity says what a failure means: `critical` fails the Dagster check with
ERROR severity (and blocks downstream assets where the check is blocking),
`warning` fails it with WARN severity and blocks nothing.
"""

from expectations.suites.consent import build_consent_suite
from expectations.suites.customers import build_customer_id_stability_suite, build_customers_suite
from expectations.suites.raw_landing import build_raw_landing_suite
from expectations.suites.segments import build_segment_suite

__all__ = [
    "build_consent_suite",
    "build_customer_id_stability_suite",
    "build_customers_suite",
    "build_raw_landing_suite",
    "build_segment_suite",
]
