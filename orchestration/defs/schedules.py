"""Schedules: the daily full run (03:00 UTC; CDP_DAILY_CRON overrides the cron).

The daily run is the nightly full suite: its dbt ops run every data test and dbt's
unit tests (config `tests: all`), where a run of new files runs the gate
(docs/testing.md#which-data-tests-run-when).
"""

from __future__ import annotations

import os

from dagster import DefaultScheduleStatus, ScheduleDefinition

from orchestration.defs import jobs
from orchestration.defs.assets.dbt import DBT_OPS

FULL_SUITE_RUN_CONFIG = {"ops": {op: {"config": {"tests": "all"}} for op in DBT_OPS}}

daily_full_run = ScheduleDefinition(
    name="daily_full_run",
    job=jobs.full_run_job,
    cron_schedule=os.environ.get("CDP_DAILY_CRON", "0 3 * * *"),
    execution_timezone="UTC",
    default_status=DefaultScheduleStatus.STOPPED,
    run_config=FULL_SUITE_RUN_CONFIG,
    description="Everything once a day, even when no new file arrived, with every data "
    "test and unit test (the nightly full suite).",
)
