"""Schedules: the daily full run (03:00 UTC; CDP_DAILY_CRON overrides the cron)."""

from __future__ import annotations

import os

from dagster import DefaultScheduleStatus, ScheduleDefinition

from orchestration.defs import jobs

daily_full_run = ScheduleDefinition(
    name="daily_full_run",
    job=jobs.full_run_job,
    cron_schedule=os.environ.get("CDP_DAILY_CRON", "0 3 * * *"),
    execution_timezone="UTC",
    default_status=DefaultScheduleStatus.STOPPED,
    description="Everything once a day, even when no new file arrived.",
)
