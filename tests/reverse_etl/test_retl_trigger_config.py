"""The `triggers:` section: what a trigger compiles to, and the errors that name it.
No build: pure config, and one real HTTP exchange with the webhook contract server."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import requests
from cdp_demo.contract_servers import WebhookContractServer

from reverse_etl.batch import Mode
from reverse_etl.config import load_syncs, parse_syncs
from reverse_etl.errors import ConfigError

REPO = Path(__file__).resolve().parents[2]
HOOK = {"type": "webhook", "url": "http://127.0.0.1:9/hook", "signing_secret_env": "HOOK_SECRET"}


def one(**trigger: Any) -> dict[str, Any]:
    return {"triggers": [{"name": "journeys", "destination": HOOK, **trigger}]}


def problems(data: Any) -> str:
    with pytest.raises(ConfigError) as raised:
        parse_syncs(data, "syncs.yml")
    return str(raised.value)


def test_a_trigger_is_an_insert_only_event_sync_of_the_event_model() -> None:
    (sync,) = parse_syncs(one(traits={"email": {"source": "email", "type": "email"}}))
    assert sync.kind == "trigger" and sync.mode is Mode.INSERT_ONLY
    assert sync.source == "marts.segment_trigger_events"
    assert (sync.primary_key, sync.customer_column) == ("event_id", "customer_id")
    assert sync.destination.payload == "events"  # type: ignore[union-attr]
    assert {name: f.source for name, f in sync.fields.items()} == {
        "type": "event_type",
        "customer_id": "customer_id",
        "segment": "segment_name",
        "at": "occurred_at",
        "build_id": "build_id",
        "email": "email",
    }


def test_syncs_and_triggers_share_one_file_and_one_namespace() -> None:
    sync = {
        "name": "journeys",
        "source": "marts.customers",
        "primary_key": "customer_id",
        "mode": "upsert",
        "destination": HOOK,
        "fields": {"email": "email"},
    }
    assert "trigger 'journeys': name: defined more than once" in problems(
        {"syncs": [sync], **one()}
    )
    loaded = load_syncs(REPO / "syncs.yml")
    assert [s.name for s in loaded if s.kind == "trigger"] == ["segment_journeys"]


@pytest.mark.parametrize(
    ("trigger", "message"),
    [
        (
            {"destination": {"type": "mailchimp", "list_id": "x", "api_key_env": "K", "tag": "t"}},
            "trigger 'journeys': destination: a trigger sends to a destination of type 'webhook'",
        ),
        (
            {"destination": {**HOOK, "payload": "records"}},
            "trigger 'journeys': destination: payload: a trigger always sends 'events'",
        ),
        (
            {"traits": {"segment": "segment_name"}},
            "trigger 'journeys': traits: segment: already a field of every event",
        ),
        (
            {"consent_purpose": "sms"},
            "trigger 'journeys': consent_purpose: 'sms' is not a purpose",
        ),
        ({"mode": "audience"}, "trigger 'journeys': mode: Extra inputs are not permitted"),
    ],
)
def test_bad_triggers_are_refused_naming_the_trigger_and_field(
    trigger: dict[str, Any], message: str
) -> None:
    data = {"triggers": [{"name": "journeys", "destination": HOOK, **trigger}]}
    assert message in problems(data)


def test_the_events_payload_needs_insert_only_and_the_envelope() -> None:
    sync = {
        "name": "raw_events",
        "source": "marts.segment_trigger_events",
        "primary_key": "event_id",
        "mode": "upsert",
        "destination": {**HOOK, "payload": "events"},
        "fields": {"type": "event_type"},
    }
    text = problems({"syncs": [sync]})
    assert "'events' needs mode insert-only" in text
    assert "needs the field(s) customer_id, segment, at, build_id" in text


def test_the_contract_server_refuses_a_malformed_event() -> None:
    """The receiver's 400 names the bad event (the destination's body is tested over
    HTTP in test_retl_triggers.py); an unsigned request is a 401."""
    import hashlib
    import hmac
    import json
    import time

    with WebhookContractServer("s") as hook:
        body = json.dumps({"type": "events", "events": [{"id": "e1", "type": "joined"}]}).encode()
        stamp = str(int(time.time()))
        signature = hmac.new(b"s", stamp.encode() + b"." + body, hashlib.sha256).hexdigest()
        headers = {
            "X-CDP-Timestamp": stamp,
            "X-CDP-Signature": f"sha256={signature}",
            "Idempotency-Key": "k1",
        }
        answer = requests.post(hook.endpoint, data=body, headers=headers, timeout=5)
        assert answer.status_code == 400
        assert "event 'e1'" in answer.json()["error"]
        unsigned = requests.post(
            hook.endpoint, data=body, headers={"Idempotency-Key": "k2"}, timeout=5
        )
        assert unsigned.status_code == 401
        assert hook.events == []


def test_triggers_are_left_out_on_spark_at_start_up(tmp_path: Path) -> None:
    """Spark does not build the event log: `cdp sync` there leaves the triggers out
    with one line before any Spark session starts, and naming one is bad input."""
    import yaml
    from click.testing import CliRunner

    from reverse_etl.cli import sync
    from reverse_etl.triggers import SPARK_REFUSAL

    config = tmp_path / "syncs.yml"
    config.write_text(yaml.safe_dump(one()), encoding="utf-8")
    env = {"CDP_TARGET": "spark", "CDP_SPARK_DIR": str(tmp_path / "spark")}
    (tmp_path / "spark").mkdir()
    runner = CliRunner()
    skipped = runner.invoke(sync, ["--config", str(config)], env=env)
    assert skipped.exit_code == 0, skipped.output
    assert skipped.stderr.splitlines() == [f"note: skipping trigger(s) journeys: {SPARK_REFUSAL}"]
    assert "sync journeys" not in skipped.stdout
    assert not (tmp_path / "spark" / "sync_state.duckdb").exists()

    named = runner.invoke(sync, ["--config", str(config), "--sync", "journeys"], env=env)
    assert named.exit_code == 2
    assert named.stderr.splitlines() == [f"error: trigger journeys: {SPARK_REFUSAL}"]
