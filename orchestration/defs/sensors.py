"""Sensors: new raw files trigger ingestion and everything downstream; failed runs post
to a webhook; freshness checks are evaluated when they may have become overdue.

new_raw_files: every tick lists the landing folder (see landing_files.py). A file is
requested once it is complete: not a temporary name, and the same size and mtime as on
the previous tick, and at least CDP_SENSOR_SETTLE_SECONDS (default 10) old. The run
lands exactly those files (their sizes are passed along and re-checked), then builds
the dbt models downstream of the touched raw tables and their syncs.

run_failure_webhook: POSTs a JSON summary of a failed run to CDP_ALERT_WEBHOOK_URL
(just logged when unset). At most 3 attempts, 10 s timeout each.
"""

import hashlib
import json
import os
import time
import urllib.request
from collections.abc import Mapping
from typing import Any

from dagster import (
    AssetSelection,
    DefaultSensorStatus,
    Definitions,
    RunFailureSensorContext,
    RunRequest,
    SensorEvaluationContext,
    SensorResult,
    SkipReason,
    definitions,
    run_failure_sensor,
    sensor,
)

from cdp.landing import Registry
from orchestration.defs.assets.ingestion import load_landing_registry, raw_asset_key
from orchestration.defs.landing_files import scan, settled
from orchestration.defs.project import settings


def _settle_seconds() -> float:
    return float(os.environ.get("CDP_SENSOR_SETTLE_SECONDS", "10"))


def plan_new_files(
    files: list[Any], cursor: Mapping[str, Any], settle_seconds: float
) -> tuple[list[Any], dict[str, Any]]:
    """Which files to request now, and the next cursor. Plain function, tested alone."""
    seen = cursor.get("seen", {})
    requested = dict(cursor.get("requested", {}))
    ready = [
        f
        for f in files
        if requested.get(f.relative) != f.signature
        and settled(f, seen.get(f.relative), settle_seconds)
    ]
    for f in ready:
        requested[f.relative] = f.signature
    return ready, {"seen": {f.relative: f.signature for f in files}, "requested": requested}


def build_new_files_sensor(registry: Registry):  # type: ignore[no-untyped-def]
    op_of_table = {spec.name: f"ingest_{spec.source}" for spec in registry}

    @sensor(
        name="new_raw_files",
        minimum_interval_seconds=30,
        target=AssetSelection.all(),
        default_status=DefaultSensorStatus.STOPPED,
        description="Lands complete new files of the landing folder, then builds what depends "
        "on them (dbt models, checks, syncs). Half-written files are left for a later tick.",
    )
    def new_raw_files(context: SensorEvaluationContext) -> SensorResult | SkipReason:
        landing_dir = settings().landing_dir
        cursor = json.loads(context.cursor) if context.cursor else {}
        files = scan(landing_dir, registry)
        ready, next_cursor = plan_new_files(files, cursor, _settle_seconds())
        if not ready:
            context.update_cursor(json.dumps(next_cursor))
            pending = len(files) - len(cursor.get("requested", {}))
            return SkipReason(f"no new complete file in {landing_dir} ({max(pending, 0)} pending)")
        raw_keys = sorted({raw_asset_key(f.table) for f in ready}, key=lambda k: k.to_user_string())
        graph = context.repository_def.asset_graph if context.repository_def else None
        selection = AssetSelection.assets(*raw_keys).downstream()
        keys = (
            sorted(selection.resolve(graph), key=lambda k: k.to_user_string())
            if graph
            else raw_keys
        )
        op_config: dict[str, dict[str, Any]] = {}
        for f in ready:
            config = op_config.setdefault(op_of_table[f.table], {"files": [], "sizes": {}})
            config["files"].append(f.relative)
            config["sizes"][f.relative] = f.size
        run_key = hashlib.sha256(
            json.dumps([[f.relative, *f.signature] for f in ready]).encode()
        ).hexdigest()[:16]
        return SensorResult(
            run_requests=[
                RunRequest(
                    run_key=run_key,
                    asset_selection=keys,
                    run_config={"ops": {op: {"config": c} for op, c in op_config.items()}},
                    tags={"cdp/trigger": "new_raw_files", "cdp/files": str(len(ready))},
                )
            ],
            cursor=json.dumps(next_cursor),
        )

    return new_raw_files


# --- run failures ------------------------------------------------------------------


def failure_payload(context: RunFailureSensorContext) -> dict[str, Any]:
    run = context.dagster_run
    steps = []
    for event in context.get_step_failure_events():
        error = event.step_failure_data.error
        steps.append({"step": event.step_key, "error": error.message.strip() if error else ""})
    return {
        "text": f"Dagster run {run.run_id} of {run.job_name} failed",
        "run_id": run.run_id,
        "job": run.job_name,
        "message": context.failure_event.message,
        "failed_steps": steps,
    }


def post_json(url: str, payload: Mapping[str, Any], attempts: int = 3, timeout: float = 10) -> int:
    """POST `payload`; retry on network errors and 5xx with backoff. Returns the status."""
    body = json.dumps(payload).encode()
    last: Exception | None = None
    for attempt in range(attempts):
        request = urllib.request.Request(
            url, data=body, headers={"Content-Type": "application/json"}, method="POST"
        )
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return int(response.status)
        except urllib.error.HTTPError as exc:
            if exc.code < 500:
                raise
            last = exc
        except OSError as exc:
            last = exc
        time.sleep(0.5 * 2**attempt)
    raise RuntimeError(f"webhook {url} failed after {attempts} attempts: {last}")


@run_failure_sensor(
    name="run_failure_webhook",
    default_status=DefaultSensorStatus.RUNNING,
    description="Posts a JSON summary of every failed run to CDP_ALERT_WEBHOOK_URL.",
)
def run_failure_webhook(context: RunFailureSensorContext) -> None:
    payload = failure_payload(context)
    url = os.environ.get("CDP_ALERT_WEBHOOK_URL")
    if not url:
        context.log.info(f"CDP_ALERT_WEBHOOK_URL not set; not posting: {payload['text']}")
        return
    status = post_json(url, payload)
    context.log.info(f"posted failure of run {payload['run_id']} to the webhook ({status})")


@definitions
def defs() -> Definitions:
    return Definitions(
        sensors=[build_new_files_sensor(load_landing_registry()), run_failure_webhook]
    )
