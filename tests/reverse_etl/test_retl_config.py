"""Sync YAML validation: clear errors naming the sync and field; secrets never literal or shown."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from reverse_etl.config import FieldType, load_syncs, parse_syncs
from reverse_etl.destinations import build_destination
from reverse_etl.errors import ConfigError


def mailchimp_sync(**overrides):  # type: ignore[no-untyped-def]
    sync = {
        "name": "vip_to_mailchimp",
        "source": "marts.segment_vip",
        "primary_key": "customer_id",
        "mode": "audience",
        "destination": {
            "type": "mailchimp",
            "api_key_env": "MC_KEY",
            "list_id": "a1b2c3",
            "tag": "VIP",
        },
        "fields": {"email_address": {"source": "email", "type": "email"}, "FNAME": "first_name"},
    }
    sync.update(overrides)
    return sync


def error_of(data) -> str:  # type: ignore[no-untyped-def]
    with pytest.raises(ConfigError) as raised:
        parse_syncs(data)
    return str(raised.value)


def test_a_documented_example_loads(tmp_path: Path):
    path = tmp_path / "syncs.yaml"
    path.write_text(
        """
syncs:
  - name: vip_to_mailchimp
    source: marts.segment_vip
    primary_key: customer_id
    mode: audience
    destination:
      type: mailchimp
      api_key_env: MAILCHIMP_API_KEY
      list_id: a1b2c3
      tag: VIP
      batch_size: 250
      rate_limit: {max_requests: 5, per_seconds: 1}
      retry: {max_attempts: 4}
    fields:
      email_address: {source: email, type: email}
      PHONE: {source: phone, type: phone}
      FNAME: first_name
    consent_purpose: email_marketing
    schedule: "@hourly"
    max_row_retries: 5
  - name: contacts_to_hubspot
    source: marts.customers
    primary_key: customer_id
    mode: upsert
    destination: {type: hubspot, access_token_env: HUBSPOT_TOKEN}
    fields:
      email: {source: email, type: email, required: true}
      firstname: first_name
"""
    )
    first, second = load_syncs(path)
    assert first.fields["FNAME"].source == "first_name"
    assert first.fields["PHONE"].type is FieldType.PHONE
    assert first.destination.effective_batch_size() == 250
    assert first.destination.retry.max_attempts == 4
    assert (first.consent_purpose, first.schedule, first.max_row_retries) == (
        "email_marketing",
        "@hourly",
        5,
    )
    assert second.destination.effective_batch_size() == 100
    assert second.destination.effective_rate_limit().max_requests == 190


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            {"mode": "mirror"},
            "sync 'vip_to_mailchimp': mode: 'mirror' is not supported by the "
            "mailchimp destination (supported: audience, upsert)",
        ),
        ({"source": "segment_vip"}, "sync 'vip_to_mailchimp': source: String should match"),
        ({"fields": {"FNAME": "first_name"}}, "needs a 'email_address' field"),
        ({"fields": {"email_address": "email"}}, "fields.email_address.type: must be 'email'"),
        ({"hashed_identifiers": ["PHONE"]}, "hashed_identifiers: 'PHONE' is not a key of fields"),
        ({"max_row_retries": 0}, "max_row_retries: Input should be greater than or equal to 1"),
        (
            {"fields": {"email_address": {"source": "email", "type": "emial"}}},
            "fields.email_address.type: Input should be 'string', 'email' or 'phone'",
        ),
        ({"colour": "blue"}, "colour: Extra inputs are not permitted"),
    ],
)
def test_errors_name_the_sync_and_the_field(change, expected):  # type: ignore[no-untyped-def]
    assert expected in error_of([mailchimp_sync(**change)])


def test_destination_errors_name_the_destination_field():
    sync = mailchimp_sync()
    del sync["destination"]["list_id"]
    assert "sync 'vip_to_mailchimp': destination.list_id: Field required" in error_of([sync])
    big = mailchimp_sync()
    big["destination"]["batch_size"] = 501
    assert "destination: batch_size 501 exceeds mailchimp's limit of 500 per call" in error_of(
        [big]
    )
    unknown = mailchimp_sync(destination={"type": "no_such_tool"})
    assert "destination: Input tag 'no_such_tool' found using 'type'" in error_of([unknown])
    no_tag = mailchimp_sync()
    del no_tag["destination"]["tag"]
    assert "destination.tag: required for mode 'audience'" in error_of([no_tag])


def test_literal_secrets_are_refused_without_echoing_them():
    secret = "0123456789abcdef-us6"
    sync = mailchimp_sync()
    sync["destination"]["api_key"] = secret
    message = error_of([sync])
    assert "'api_key' looks like a literal secret" in message and "'api_key_env'" in message
    assert secret not in message


def test_every_problem_of_every_sync_is_reported_at_once():
    broken = mailchimp_sync(name="second", mode="nonsense")
    message = error_of([mailchimp_sync(), mailchimp_sync(), broken])
    assert "sync 'vip_to_mailchimp': name: defined more than once" in message
    assert "sync 'second': mode: Input should be" in message


def test_unusable_files_give_one_line_errors(tmp_path: Path):
    with pytest.raises(ConfigError, match="cannot read"):
        load_syncs(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("syncs: [\n  - name: x\n    {")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_syncs(bad)
    empty = tmp_path / "empty.yaml"
    empty.write_text(yaml.safe_dump({"syncs": []}))
    with pytest.raises(ConfigError, match="non-empty list of syncs"):
        load_syncs(empty)


def test_secrets_come_from_the_environment_and_never_print(monkeypatch: pytest.MonkeyPatch):
    secret = "fedcba9876543210fedcba9876543210-us6"
    (sync,) = parse_syncs([mailchimp_sync()])
    with pytest.raises(ConfigError) as raised:
        build_destination(sync.destination, sync.context)
    assert str(raised.value) == (
        "sync 'vip_to_mailchimp': mailchimp destination: api_key_env: environment variable "
        "MC_KEY is not set"
    )
    monkeypatch.setenv("MC_KEY", secret)
    destination = build_destination(sync.destination, sync.context)
    assert destination.http.base_url == "https://us6.api.mailchimp.com/3.0"
    resolved = sync.destination.resolve_secret("api_key_env", sync.name)
    for text in (repr(destination), str(destination), repr(sync), repr(resolved), str(resolved)):
        assert secret not in text
    assert resolved.get_secret_value() == secret


def test_mailchimp_key_without_data_center_needs_server_prefix(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("MC_KEY", "no-suffix-")
    (sync,) = parse_syncs([mailchimp_sync()])
    with pytest.raises(ConfigError, match="api_key_env: the key has no '-<dc>' suffix"):
        build_destination(sync.destination, sync.context)
