"""A failed run is posted to the configured webhook with the failing step and its reason."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import pytest
from dagster import (
    DagsterEventType,
    DagsterInstance,
    Failure,
    build_run_status_sensor_context,
    job,
    op,
)

from orchestration.defs.sensors import run_failure_webhook


@op
def breaks() -> None:
    raise Failure(description="dbt model stg_shop__orders failed: column total not found")


@job
def doomed() -> None:
    breaks()


class _Receiver(BaseHTTPRequestHandler):
    received: list[dict[str, Any]] = []  # noqa: RUF012 (reset per test below)

    def do_POST(self) -> None:
        length = int(self.headers["Content-Length"])
        type(self).received.append(json.loads(self.rfile.read(length)))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        return


def test_failed_run_posts_to_the_webhook(monkeypatch: pytest.MonkeyPatch) -> None:
    _Receiver.received = []
    server = HTTPServer(("127.0.0.1", 0), _Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        monkeypatch.setenv(
            "CDP_ALERT_WEBHOOK_URL", f"http://127.0.0.1:{server.server_address[1]}/hook"
        )
        with DagsterInstance.ephemeral() as instance:
            result = doomed.execute_in_process(instance=instance, raise_on_error=False)
            assert not result.success
            failure = next(
                e for e in result.all_events if e.event_type == DagsterEventType.RUN_FAILURE
            )
            context = build_run_status_sensor_context(
                sensor_name="run_failure_webhook",
                dagster_event=failure,
                dagster_instance=instance,
                dagster_run=result.dagster_run,
            ).for_run_failure()
            run_failure_webhook(context)
    finally:
        server.shutdown()
        thread.join(timeout=5)
    (payload,) = _Receiver.received
    assert payload["job"] == "doomed"
    assert payload["run_id"] == result.run_id
    (step,) = payload["failed_steps"]
    assert step["step"] == "breaks"
    assert "column total not found" in step["error"]
