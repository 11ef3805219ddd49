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


# --- sync columns against the dbt contracts (reverse_etl/contracts.py) -------

REPO = Path(__file__).resolve().parents[2]


def model_node(name: str, columns: list[str], enforced: bool = True) -> dict:  # type: ignore[type-arg]
    return {
        "resource_type": "model",
        "name": name,
        "schema": "marts",
        "alias": name,
        "config": {"contract": {"enforced": enforced}},
        "columns": {column: {"name": column, "data_type": "varchar"} for column in columns},
    }


def write_manifest(path: Path, *nodes: dict) -> Path:  # type: ignore[type-arg]
    import json

    seed = {"resource_type": "seed", "name": "suppression_list", "schema": "reference"}
    all_nodes = {f"model.cdp.{node['name']}": node for node in nodes}
    all_nodes["seed.cdp.suppression_list"] = seed
    path.write_text(json.dumps({"nodes": all_nodes}))
    return path


PRIVACY = {
    "consent": {"relation": "marts.customer_consent_eligibility"},
    "suppression": {"relation": "marts.customer_suppressions"},
}
CONSENT = model_node(
    "customer_consent_eligibility",
    ["customer_id", "is_email_marketing_eligible", "is_ads_personalisation_eligible"],
)
SUPPRESSIONS = model_node("customer_suppressions", ["customer_id", "reason", "suppressed_since"])
SEGMENT = model_node("segment_vip", ["customer_id", "email", "first_name"])


def contract_error(tmp_path: Path, sync: dict, *nodes: dict) -> str:  # type: ignore[type-arg]
    manifest = write_manifest(tmp_path / "manifest.json", *nodes)
    with pytest.raises(ConfigError) as raised:
        parse_syncs({"privacy": PRIVACY, "syncs": [sync]}, "syncs.yml", manifest)
    return str(raised.value)


def test_a_sync_matching_the_contracts_loads(tmp_path: Path):
    manifest = write_manifest(tmp_path / "manifest.json", SEGMENT, CONSENT, SUPPRESSIONS)
    sync = mailchimp_sync(consent_purpose="email_marketing")
    (loaded,) = parse_syncs({"privacy": PRIVACY, "syncs": [sync]}, "syncs.yml", manifest)
    assert loaded.source == "marts.segment_vip"


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            {"fields": {"email_address": {"source": "email", "type": "email"}, "FNAME": "fname"}},
            "sync 'vip_to_mailchimp': fields.FNAME.source: column 'fname' is not in the "
            "contract of model segment_vip (marts.segment_vip)",
        ),
        (
            {"primary_key": "member_id"},
            "sync 'vip_to_mailchimp': primary_key: column 'member_id' is not in the "
            "contract of model segment_vip (marts.segment_vip)",
        ),
        (
            {"customer_key": "person_id"},
            "sync 'vip_to_mailchimp': customer_key: column 'person_id' is not in the "
            "contract of model segment_vip (marts.segment_vip)",
        ),
    ],
)
def test_a_source_column_missing_from_the_contract_is_an_error(  # type: ignore[no-untyped-def]
    tmp_path: Path, change, expected
):
    message = contract_error(tmp_path, mailchimp_sync(**change), SEGMENT, CONSENT, SUPPRESSIONS)
    assert expected in [line.strip() for line in message.splitlines()]


def test_consent_and_suppression_columns_are_checked_against_their_contracts(tmp_path: Path):
    consent = model_node("customer_consent_eligibility", ["customer_id"])
    suppressions = model_node("customer_suppressions", ["person_id"])
    message = contract_error(
        tmp_path, mailchimp_sync(consent_purpose="email_marketing"), SEGMENT, consent, suppressions
    )
    assert (
        "sync 'vip_to_mailchimp': privacy.consent.purposes.email_marketing.column: column "
        "'is_email_marketing_eligible' is not in the contract of model "
        "customer_consent_eligibility (marts.customer_consent_eligibility)"
    ) in [line.strip() for line in message.splitlines()]
    assert (
        "sync 'vip_to_mailchimp': privacy.suppression.customer_key: column 'customer_id' is "
        "not in the contract of model customer_suppressions (marts.customer_suppressions)"
    ) in [line.strip() for line in message.splitlines()]


def test_a_model_without_an_enforced_contract_is_an_error(tmp_path: Path):
    loose = model_node("segment_vip", ["customer_id", "email", "first_name"], enforced=False)
    message = contract_error(tmp_path, mailchimp_sync(), loose, CONSENT, SUPPRESSIONS)
    assert (
        "sync 'vip_to_mailchimp': source: model segment_vip (marts.segment_vip) has no "
        "enforced contract"
    ) in message


def test_a_source_outside_dbt_is_a_warning(tmp_path: Path, caplog: pytest.LogCaptureFixture):
    manifest = write_manifest(tmp_path / "manifest.json", CONSENT, SUPPRESSIONS)
    sync = mailchimp_sync(source="reference.suppression_list")
    with caplog.at_level("WARNING", logger="reverse_etl.config"):
        parse_syncs({"privacy": PRIVACY, "syncs": [sync]}, "syncs.yml", manifest)
    assert [r.getMessage() for r in caplog.records] == [
        f"syncs.yml: sync 'vip_to_mailchimp': source: reference.suppression_list is not a "
        f"model in {manifest}; its columns are not checked against a contract"
    ]


def test_without_a_manifest_nothing_is_checked(tmp_path: Path):
    sync = mailchimp_sync(primary_key="member_id")
    (loaded,) = parse_syncs([sync], "syncs.yml", tmp_path / "not-built-yet" / "manifest.json")
    assert loaded.primary_key == "member_id"


@pytest.mark.slow
def test_the_example_syncs_match_the_contracts_of_a_parsed_project(tmp_path: Path):
    """The repository's syncs.yml against a real `dbt parse` of the project; then
    the same file with a column the segment does not have fails to load."""
    import os
    import subprocess
    import sys

    env = {
        **os.environ,
        "CDP_DUCKDB_PATH": str(tmp_path / "parse.duckdb"),
        "DBT_TARGET_PATH": str(tmp_path / "target"),
        "DBT_LOG_PATH": str(tmp_path / "logs"),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }
    dbt = Path(sys.executable).parent / "dbt"
    subprocess.run(
        [str(dbt), "parse", "--quiet", "--project-dir", "dbt_project", "--profiles-dir", "."],
        cwd=REPO,
        env=env,
        check=True,
    )
    manifest = tmp_path / "target" / "manifest.json"
    syncs = load_syncs(REPO / "syncs.yml", manifest)
    assert syncs and all(s.source.startswith("marts.segment_") for s in syncs)

    data = yaml.safe_load((REPO / "syncs.yml").read_text())
    first = data["syncs"][0]
    first["fields"]["FNAME"] = "given_name"
    broken = tmp_path / "syncs.yml"
    broken.write_text(yaml.safe_dump(data))
    with pytest.raises(ConfigError) as raised:
        load_syncs(broken, manifest)
    model = first["source"].split(".")[1]
    assert (
        f"sync '{first['name']}': fields.FNAME.source: column 'given_name' is not in the "
        f"contract of model {model} ({first['source']})"
    ) in str(raised.value)


def test_cdp_sync_checks_the_home_projects_manifest(tmp_path: Path):
    """`cdp sync --plan` finds <home>/dbt_project/target/manifest.json by itself
    and refuses a sync reading a column the model's contract lacks (exit 2)."""
    import os
    import subprocess
    import sys

    home = tmp_path / "home"
    target = home / "dbt_project" / "target"
    target.mkdir(parents=True)
    write_manifest(target / "manifest.json", model_node("audience", ["customer_id", "mail"]))
    (home / "syncs.yml").write_text(
        yaml.safe_dump(
            {
                "syncs": [
                    {
                        "name": "to_hook",
                        "source": "marts.audience",
                        "primary_key": "customer_id",
                        "mode": "upsert",
                        "destination": {
                            "type": "webhook",
                            "url": "http://127.0.0.1:9/x",
                            "signing_secret_env": "CDP_TEST_UNUSED_SECRET",
                        },
                        "fields": {"email": {"source": "email", "type": "email"}},
                    }
                ]
            }
        )
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CDP_", "DBT_"))}
    env["CDP_HOME"] = str(home)
    result = subprocess.run(
        [str(Path(sys.executable).parent / "cdp"), "sync", "--plan"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2, result.stdout + result.stderr
    assert (
        "sync 'to_hook': fields.email.source: column 'email' is not in the contract of "
        "model audience (marts.audience)"
    ) in result.stderr
