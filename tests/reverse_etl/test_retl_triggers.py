"""Triggers over real HTTP: segment entries and exits as signed events, each sent once.

One scenario on a copy of the shared business (built as of D = 2026-06-30): the
trigger's first run sends the entries of D's build; then raw changes dated D+1
(tests/segments/test_segment_membership.py's: a purchase takes a lapsed buyer out
of the recency segments, a loyalty upgrade puts a bronze member into the VIP
segment), for one person with email consent and one without each, and the
project is rebuilt as of D+1 (one dbt build). The second run must send exactly
the consented person's entry and exit events, once each, signed; the person
without consent is never sent. The kill chain then delivers the whole event log
through crashed `cdp sync` processes without a duplicate or a loss. An erased
person's events, keyed by event id, reach the webhook as erasures (one per event id
sent), show in the access export, and the erasure's audit names the trigger.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections import Counter
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from cdp_demo.contract_servers import WebhookContractServer
from retl_support import query, subprocess_env, sync_command
from test_retl_kill import PHASES

from reverse_etl.config import SyncDefinition, parse_syncs
from reverse_etl.engine.runner import run_sync
from tests.business import Business
from tests.segments.conftest import Warehouse, make_env
from tests.segments.test_segment_membership import VIP, add_next_day_changes

pytestmark = pytest.mark.slow

SECRET = "trigger-test-secret"
SECRET_ENV = "CDP_TEST_TRIGGER_SECRET"
DAY_1 = date(2026, 6, 30) + timedelta(days=1)
PRIVACY = yaml.safe_load((Path(__file__).resolve().parents[2] / "syncs.yml").read_text())["privacy"]
# The recency segments a purchase on D+1 takes a member out of (the third,
# segment_high_value_churn_risk, follows the churn score, which that build keeps).
LEAVES_ON_PURCHASE = ("segment_lapsed_buyers", "segment_win_back")
ELIGIBLE = """
    select e.customer_id from marts.customer_consent_eligibility e
    where e.is_email_marketing_eligible
      and e.customer_id not in (select customer_id from marts.customer_suppressions)
"""


def trigger_file(path: Path, name: str, url: str, **destination: Any) -> Path:
    document = {
        "privacy": PRIVACY,
        "triggers": [
            {
                "name": name,
                "consent_purpose": "email_marketing",
                "destination": {
                    "type": "webhook",
                    "url": url,
                    "signing_secret_env": SECRET_ENV,
                    "retry": {"initial_backoff_seconds": 0.01, "max_backoff_seconds": 0.05},
                    **destination,
                },
                "traits": {
                    "email": {"source": "email", "type": "email"},
                    "first_name": "first_name",
                },
            }
        ],
    }
    path.write_text(yaml.safe_dump(document), encoding="utf-8")
    return path


def trigger(name: str, url: str, tmp: Path, **destination: Any) -> SyncDefinition:
    path = trigger_file(tmp / f"{name}.yml", name, url, **destination)
    (sync,) = parse_syncs(yaml.safe_load(path.read_text()))
    return sync


def expected_events(warehouse: Path, where: str = "true") -> dict[str, tuple[str, str, str]]:
    """event_id -> (type, customer, segment) of every event a consent-gated trigger sends."""
    rows = query(
        warehouse,
        f"""select event_id, event_type, customer_id, segment_name
            from marts.segment_trigger_events
            where customer_id in ({ELIGIBLE}) and {where}""",
    )
    return {r[0]: (r[1], r[2], r[3]) for r in rows}


def pick(wh: Warehouse, eligible: bool) -> tuple[tuple[str, str], tuple[str, str]]:
    """((leaver, card), (enterer, card)) with or without email consent: the leaver a
    recency-segment member with a loyalty card, the enterer a bronze loyalty member
    outside the VIP segment."""
    gate = "in" if eligible else "not in"
    segments = ", ".join(f"'{s}'" for s in LEAVES_ON_PURCHASE)
    leaver = query(
        wh.path,
        f"""select m.customer_id, min(r.source_record_id)
            from marts.segment_memberships m
            join marts.customer_source_records r
              on r.customer_id = m.customer_id and r.source_name = 'loyalty_members'
            where m.segment_name in ({segments}) and m.customer_id {gate} ({ELIGIBLE})
            group by m.customer_id order by m.customer_id limit 1""",
    )
    enterer = query(
        wh.path,
        f"""select m.customer_id, min(r.source_record_id)
            from marts.customer_measures m
            join marts.customer_source_records r
              on r.customer_id = m.customer_id and r.source_name = 'loyalty_members'
            where m.loyalty_tier = 'bronze' and m.customer_id {gate} ({ELIGIBLE})
              and m.customer_id != '{leaver[0][0] if leaver else ""}'
              and m.customer_id not in (
                  select customer_id from marts.segment_memberships
                  where segment_name = '{VIP}')
              and m.customer_id not in (
                  select customer_id from marts.segment_memberships
                  where segment_name in ({segments}))
            group by m.customer_id having count(*) = 1
            order by m.customer_id limit 1""",
    )
    assert leaver and enterer, f"the sample needs a leaver and an enterer (eligible={eligible})"
    return leaver[0], enterer[0]  # type: ignore[return-value]


@dataclass
class Scenario:
    hook: WebhookContractServer
    warehouse: Path
    rebuilt_copy: Path  # the warehouse right after the D+1 build, before the second run
    sync: SyncDefinition
    first: list[dict[str, Any]]
    second: list[dict[str, Any]]
    people: dict[str, str]  # role -> customer id
    before: set[str]  # event ids in the model before the rebuild


@pytest.fixture(scope="module")
def scenario(shared_business: Business, tmp_path_factory: pytest.TempPathFactory) -> Any:
    root = tmp_path_factory.mktemp("triggers")
    env = make_env(root)
    env["CDP_DATA_DIR"] = str(shared_business.data)
    shared_business.copy_warehouse(root)
    shared_business.copy_dbt_target(root / "dbt_target")
    wh = Warehouse(root / "cdp.duckdb", env)
    with pytest.MonkeyPatch.context() as mp, WebhookContractServer(SECRET) as hook:
        mp.setenv(SECRET_ENV, SECRET)
        sync = trigger("journeys", hook.endpoint, root)
        before = {r[0] for r in query(wh.path, "select event_id from marts.segment_trigger_events")}
        assert run_sync(sync, wh.path).status == "succeeded"
        first = list(hook.events)

        (leaver, leaver_card), (enterer, enterer_card) = pick(wh, eligible=True)
        (gated_leaver, gated_leaver_card), (gated_enterer, gated_enterer_card) = pick(
            wh, eligible=False
        )
        add_next_day_changes(wh, gated_leaver_card, gated_enterer_card)
        # the helper's receipt has a fixed transaction id: give the first one its own
        wh.execute(
            "update raw.store_transactions set transaction_id = 'TEST-NEXT-DAY-GATED' "
            "where transaction_id = 'TEST-NEXT-DAY-1'"
        )
        add_next_day_changes(wh, leaver_card, enterer_card)
        next_day = f"{{cdp__as_of_date: '{DAY_1}'}}"
        wh.dbt("build", "--select", "stg_pos__store_transactions+", "--vars", next_day)
        rebuilt_copy = root / "rebuilt" / "cdp.duckdb"
        rebuilt_copy.parent.mkdir()
        shutil.copy(wh.path, rebuilt_copy)

        assert run_sync(sync, wh.path).status == "succeeded"
        second = hook.events[len(first) :]
        yield Scenario(
            hook,
            wh.path,
            rebuilt_copy,
            sync,
            first,
            second,
            {
                "leaver": leaver,
                "enterer": enterer,
                "gated_leaver": gated_leaver,
                "gated_enterer": gated_enterer,
            },
            before,
        )


def test_the_first_run_sends_each_consented_entry_once(scenario: Scenario) -> None:
    want = expected_events(scenario.warehouse, f"change_date < '{DAY_1}'")
    got = {e["id"]: (e["type"], e["customer_id"], e["segment"]) for e in scenario.first}
    assert got == want and len(scenario.first) == len(want) > 0
    assert {e["type"] for e in scenario.first} == {"segment_entered"}
    # people without consent are in the event model, and none of them was sent
    withheld = scenario.before - set(want)
    assert withheld, "the sample has members without email consent"
    assert not withheld & set(got)


def test_a_rebuild_sends_the_enterer_and_the_leaver_once_each(scenario: Scenario) -> None:
    people = scenario.people
    sent = Counter((e["customer_id"], e["type"], e["segment"]) for e in scenario.second)
    assert sent[(people["enterer"], "segment_entered", VIP)] == 1
    left = {
        s for (c, kind, s), n in sent.items() if c == people["leaver"] and kind == "segment_left"
    }
    assert left & set(LEAVES_ON_PURCHASE), "the purchase took the leaver out of a segment"
    assert all(n == 1 for n in sent.values())
    # exactly the D+1 changes of consented people, nothing of D again
    want = expected_events(scenario.warehouse, f"change_date = '{DAY_1}'")
    assert {e["id"] for e in scenario.second} == set(want)
    assert all(n == 1 for n in scenario.hook.delivery_counts("event").values())
    # the event carries the build that saw it, when, and the mapped traits
    (event,) = [
        e for e in scenario.second if e["customer_id"] == people["enterer"] and e["segment"] == VIP
    ]
    row = query(
        scenario.warehouse,
        f"""select t.build_id, t.occurred_at, c.email, c.first_name
            from marts.segment_trigger_events t join marts.customers c using (customer_id)
            where t.event_id = '{event["id"]}'""",
    )[0]
    assert event["build_id"] == row[0]
    assert event["at"] == row[1].strftime("%Y-%m-%dT%H:%M:%S.%fZ")  # six digits, always
    assert event["traits"] == {
        "email": (row[2] or "").strip().lower() or None,
        "first_name": row[3],
    }


def test_a_person_without_consent_is_not_sent(scenario: Scenario) -> None:
    gated = {scenario.people["gated_leaver"], scenario.people["gated_enterer"]}
    in_model = {
        r[0]
        for r in query(
            scenario.warehouse,
            f"select customer_id from marts.segment_trigger_events where change_date = '{DAY_1}'",
        )
    }
    assert gated <= in_model, "both entered or left a segment at D+1"
    sent = {e["customer_id"] for e in scenario.first + scenario.second}
    assert not gated & sent


def test_every_event_is_signed_with_the_secret(scenario: Scenario, tmp_path: Path) -> None:
    """The receiver checks the HMAC; a trigger with another secret is refused (401),
    sends nothing and records nothing."""
    with pytest.MonkeyPatch.context() as mp, WebhookContractServer("another secret") as other:
        mp.setenv(SECRET_ENV, SECRET)
        warehouse = tmp_path / "w" / "cdp.duckdb"
        warehouse.parent.mkdir()
        shutil.copy(scenario.rebuilt_copy, warehouse)
        result = run_sync(trigger("wrong_secret", other.endpoint, tmp_path), warehouse)
        assert result.status == "failed" and "401" in (result.error or "")
        assert other.events == []
        assert query(
            warehouse,
            "select count(*) from reverse_etl.sync_state where sync_name = 'wrong_secret'",
        ) == [(0,)]


# the first phase of the syncs' kill-point chain (server kills and engine checkpoints)
KILLS = PHASES[0]


def test_killed_runs_send_every_event_exactly_once(scenario: Scenario, tmp_path: Path) -> None:
    """`cdp sync` of a trigger, killed by the receiver right after it applied a batch
    and at the engine's checkpoints, then run to the end: every event of the log
    arrived exactly once, and a run after that sends nothing."""
    warehouse = tmp_path / "w" / "cdp.duckdb"
    warehouse.parent.mkdir()
    shutil.copy(scenario.rebuilt_copy, warehouse)
    want = expected_events(warehouse)
    killed = 0
    with WebhookContractServer(SECRET) as hook:
        config = trigger_file(tmp_path / "t.yml", "killed", hook.endpoint, batch_size=5)
        env = subprocess_env(**{SECRET_ENV: SECRET})
        for kill in [*KILLS, None]:
            crash_at = str(kill[1]) if kill and kill[0] == "crash" else None
            proc = subprocess.Popen(
                [*sync_command(crash_at), "--config", str(config), "--warehouse", str(warehouse)],
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            if kill and kill[0] == "writes":
                hook.faults.kill_after_writes(proc.pid, int(kill[1]))  # type: ignore[call-overload]
            out, err = proc.communicate(timeout=120)
            hook.faults.clear()
            assert proc.returncode in ((0,) if kill is None else (0, 137, -9)), out + err
            killed += proc.returncode != 0
        assert killed == len(KILLS), "every run but the last was killed"
        counts = hook.delivery_counts("event")
        assert set(counts) == set(want) and set(counts.values()) == {1}
        assert len(hook.events) == len(want)
        assert query(warehouse, "select count(*) from reverse_etl.sync_outbox") == [(0,)]
        (sync,) = parse_syncs(yaml.safe_load(config.read_text()))
        with pytest.MonkeyPatch.context() as mp:
            mp.setenv(SECRET_ENV, SECRET)
            again = run_sync(sync, warehouse)
        assert again.status == "succeeded" and again.requests == 0


def test_the_dagster_asset_runs_the_trigger_below_the_event_model(
    scenario: Scenario, shared_business: Business, tmp_path: Path
) -> None:
    """triggers/<name> depends on the event model's asset, is not also a syncs/ asset,
    and materialises the trigger: the events arrive at the webhook."""
    from dagster import AssetKey, materialize

    from orchestration.defs.assets.syncs import build_sync_assets
    from orchestration.defs.assets.triggers import build_trigger_assets
    from orchestration.defs.resources import WarehouseResource

    manifest = json.loads((shared_business.dbt_target / "manifest.json").read_text())
    warehouse = tmp_path / "w" / "cdp.duckdb"
    warehouse.parent.mkdir()
    shutil.copy(scenario.rebuilt_copy, warehouse)
    with pytest.MonkeyPatch.context() as mp, WebhookContractServer(SECRET) as hook:
        mp.setenv(SECRET_ENV, SECRET)
        config = trigger_file(tmp_path / "syncs.yml", "from-dagster", hook.endpoint)
        (asset,) = build_trigger_assets(manifest, config)
        assert asset.key == AssetKey(["triggers", "from_dagster"])
        assert asset.asset_deps[asset.key] == {AssetKey(["marts", "segment_trigger_events"])}
        assert build_sync_assets(manifest, config) == []
        result = materialize(
            [asset], resources={"warehouse": WarehouseResource(duckdb_path=str(warehouse))}
        )
        assert result.success
        want = expected_events(warehouse)
        assert {e["id"] for e in hook.events} == set(want)
        (event,) = result.get_asset_materialization_events()
        assert event.materialization.metadata["events_sent"].value == len(want)


def test_an_erased_person_is_erased_at_the_webhook_and_audited(
    scenario: Scenario, tmp_path: Path
) -> None:
    """`cdp privacy erase` of a person the trigger sent events: the access export lists
    their events and the event ids sent, the erasure's audit names the trigger, the next
    run sends the webhook one erase per event id sent (keys are event ids, not customer
    ids: the old diff sent nothing), and the receiver then holds nothing of them."""
    from cdp.privacy.destinations import finish_erasures
    from cdp.privacy.erase import erase_requests, mark_rebuilt
    from cdp.privacy.export import export_person
    from cdp.privacy.subject import ErasureRequest
    from cdp.warehouse import connect_duckdb

    warehouse = tmp_path / "w" / "cdp.duckdb"
    warehouse.parent.mkdir()
    shutil.copy(scenario.rebuilt_copy, warehouse)
    person = scenario.people["enterer"]
    with pytest.MonkeyPatch.context() as mp, WebhookContractServer(SECRET) as hook:
        mp.setenv(SECRET_ENV, SECRET)
        config = trigger_file(tmp_path / "syncs.yml", "erasable", hook.endpoint, batch_size=2)
        (sync,) = parse_syncs(yaml.safe_load(config.read_text()))
        assert run_sync(sync, warehouse).status == "succeeded"
        sent = {e["id"] for e in hook.events if e["customer_id"] == person}
        assert len(sent) >= 1 and len(hook.events) > len(sent)
        email = query(
            warehouse, f"select email from marts.customers where customer_id = '{person}'"
        )
        needles = [person, (email[0][0] or "").strip().lower()]
        assert all(n and n in hook.held_data() for n in needles)

        request = ErasureRequest("customer_id", person, "dpo@example.com", "art. 17")
        con = connect_duckdb(warehouse)
        try:
            document = export_person(con, request)
            assert {e["event_id"] for e in document["segment_membership_events"]} >= sent
            held = document["syncs"]["erasable"]["held"]
            assert {h["key"] for h in held} == sent
            assert {h["payload"]["customer_id"] for h in held} == {person}

            (result,) = erase_requests(con, [request], lambda _: None)
            assert result.syncs_holding == {"erasable": len(sent)}
            # step 5 purged the incremental event model; the rebuild (cdp build marks
            # it so) has nothing of them to add back
            mark_rebuilt(con, [result.erasure_id])
        finally:
            con.close()
        others = len(hook.events) - len(sent)

        again = run_sync(sync, warehouse)
        assert again.status == "succeeded" and again.diff is not None
        assert again.diff.erasures == len(sent) and again.diff.adds == 0
        assert hook.delivery_counts("erase") == dict.fromkeys(sent, 1)
        assert len(hook.events) == others and not {e["id"] for e in hook.events} & sent
        data = hook.held_data()
        assert [n for n in needles if n in data] == []
        assert query(
            warehouse,
            "select count(*) from reverse_etl.sync_state where sync_name = 'erasable' "
            f"and json_extract_string(payload, '$.customer_id') = '{person}'",
        ) == [(0,)]

        con = connect_duckdb(warehouse)
        try:
            (line,) = finish_erasures(con, config)
            status, holding, destinations = con.execute(
                "select status, syncs_holding::varchar, destinations::varchar "
                "from privacy.erasure_log where erasure_id = ?",
                [result.erasure_id],
            ).fetchone()
        finally:
            con.close()
        assert "completed" in line and "erasable" in line
        assert status == "completed" and json.loads(holding) == {"erasable": len(sent)}
        assert json.loads(destinations)["erasable"].startswith('deleted: an "erase" operation')
        requests = hook.request_count
        assert run_sync(sync, warehouse).diff.erasures == 0  # type: ignore[union-attr]
        assert hook.request_count == requests
