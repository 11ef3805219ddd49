"""The sync step of `cdp run`: every sync in the sync definitions file, in order,
with the state where CDP_TARGET keeps it (reverse_etl/engine/db.py).

The same engine as `cdp sync` (reverse_etl.engine.runner.run_sync). With
`demo=True` the demo's contract servers (demo/cdp_demo/destinations.py) run for
the duration of the step, so the example syncs in syncs.yml reach a
Mailchimp-, HubSpot- and webhook-shaped API over real HTTP, with the demo's
secrets set in this process.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from typing import Any

from cdp.config import Settings
from cdp.dbt import manifest_path
from cdp.demo import missing_demo
from reverse_etl.config import load_syncs
from reverse_etl.engine.db import SparkTarget, close_target, target_for
from reverse_etl.engine.runner import run_sync
from reverse_etl.errors import ConfigError
from reverse_etl.triggers import spark_runnable


@dataclass
class SyncStepResult:
    ran: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    reports: list[str] = field(default_factory=list)


def _prefixed(progress: Callable[[str], None], name: str) -> Callable[[str], None]:
    return lambda message: progress(f"{name}: {message}")


def run_all_syncs(
    settings: Settings, *, demo: bool, progress: Callable[[str], None]
) -> SyncStepResult:
    """Run every declared sync; a failed sync is reported and the others still run.

    Raises reverse_etl's ConfigError for an invalid definitions file, a sync
    reading a column its model's dbt contract lacks (when the manifest
    exists), or `demo=True` without the demo package installed; WarehouseError
    (one line) when the target cannot keep sync state or cannot be reached.
    """
    target = target_for(settings)
    result = SyncStepResult()
    syncs = load_syncs(settings.syncs_path, manifest_path(settings))
    if isinstance(target, SparkTarget):  # triggers are left out there, with one line
        syncs, note = spark_runnable(syncs)
        if note:
            progress(note)
    servers: AbstractContextManager[Any] = nullcontext()
    if demo:
        problem = missing_demo("--demo-destinations")
        if problem:
            raise ConfigError(problem)
        from cdp_demo.destinations import demo_destinations

        servers = demo_destinations()
    try:
        with servers:
            for definition in syncs:
                outcome = run_sync(
                    definition, target, progress=_prefixed(progress, definition.name)
                )
                result.ran.append(definition.name)
                result.reports.append(outcome.render())
                if outcome.status != "succeeded":
                    result.failed.append(definition.name)
    finally:
        close_target(target)  # on spark: one session for every sync of the step
    return result
