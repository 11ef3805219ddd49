"""The privacy gate: consent per purpose and the global suppression list, at send time."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import pytest
from retl_support import Harness, harness_for, people, query, write_source

from reverse_etl.config import SyncDefinition, parse_syncs
from reverse_etl.engine.plan import plan_sync
from reverse_etl.engine.runner import run_sync
from reverse_etl.errors import ConfigError

PRIVACY = {
    "consent": {
        "relation": "marts.consents",
        "purposes": {"email_marketing": {"column": "email_ok"}},
    },
    "suppression": {"relation": "marts.do_not_contact"},
}


def write_consents(warehouse: Path, consents: dict[int, bool | None], suppressed=()) -> None:  # type: ignore[no-untyped-def]
    con = duckdb.connect(str(warehouse))
    try:
        con.execute(
            "create or replace table marts.consents (customer_id integer, email_ok boolean)"
        )
        con.executemany("insert into marts.consents values (?, ?)", list(consents.items()))
        con.execute("create or replace table marts.do_not_contact (customer_id integer)")
        for customer in suppressed:
            con.execute("insert into marts.do_not_contact values (?)", [customer])
    finally:
        con.close()


def gated_sync(h: Harness, privacy: dict[str, Any] = PRIVACY, **overrides: Any) -> SyncDefinition:
    sync = h.sync_dict(consent_purpose="email_marketing", **overrides)
    return parse_syncs({"privacy": privacy, "syncs": [sync]})[0]


# 1-5 granted, 6-7 refused, 8 NULL, 9-10 no row at all.
CONSENTS: dict[int, bool | None] = {
    1: True,
    2: True,
    3: True,
    4: True,
    5: True,
    6: False,
    7: False,
    8: None,
}


@pytest.mark.parametrize("kind", ["mailchimp", "webhook"])
def test_only_consented_customers_are_sent_and_revoking_removes_them(kind: str, tmp_path: Path):
    warehouse = tmp_path / "w.duckdb"
    rows = people(10)
    write_source(warehouse, rows)
    write_consents(warehouse, CONSENTS)
    with harness_for(kind) as h:
        sync = gated_sync(h)
        plan = plan_sync(sync, warehouse).render()
        assert "withheld (no email_marketing consent): 2" in plan
        assert "withheld (unknown email_marketing consent): 3" in plan

        first = run_sync(sync, warehouse)
        assert first.status == "succeeded", first.error
        assert first.rows_added == 5
        assert h.audience() == h.expected_audience(rows[:5])
        never = {h.ident(r) for r in rows[5:]}
        assert not never & {ident for _, ident in h.writes()}

        # Customer 2 revokes: removed on the next run, through the normal remove path.
        write_consents(warehouse, {**CONSENTS, 2: False})
        second = run_sync(sync, warehouse)
        assert (second.rows_added, second.rows_removed) == (0, 1)
        assert h.audience() == h.expected_audience([rows[0], *rows[2:5]])
        # ...and never re-added while revoked, even when their data changes.
        write_source(warehouse, [(2, r[1], "Changed") if r[0] == 2 else r for r in rows])
        third = run_sync(sync, warehouse)
        assert (third.requests, third.rows_sent) == (0, 0)
        assert h.expected_audience([rows[1]]).keys().isdisjoint(h.audience())

        # Granting again brings them back with their current data.
        write_consents(warehouse, CONSENTS)
        fourth = run_sync(sync, warehouse)
        assert fourth.rows_added == 1
        assert h.expected_audience([(2, rows[1][1], "Changed")]).items() <= h.audience().items()


def test_unknown_consent_can_be_allowed_per_purpose(tmp_path: Path):
    warehouse = tmp_path / "w.duckdb"
    write_source(warehouse, people(10))
    write_consents(warehouse, CONSENTS)
    privacy = {
        "consent": {
            "relation": "marts.consents",
            "purposes": {"email_marketing": {"column": "email_ok", "unknown": "allow"}},
        }
    }
    with harness_for("webhook") as h:
        result = run_sync(gated_sync(h, privacy), warehouse)
        assert result.status == "succeeded", result.error
        sent = sorted(int(k) for k in h.server.members)  # type: ignore[attr-defined]
        assert sent == [1, 2, 3, 4, 5, 8, 9, 10]  # an explicit refusal still wins


def test_suppressed_customers_are_withheld_from_every_sync_and_removed(tmp_path: Path):
    warehouse = tmp_path / "w.duckdb"
    rows = people(6)
    write_source(warehouse, rows)
    write_consents(warehouse, dict.fromkeys(range(1, 7), True), suppressed=[4])
    with harness_for("hubspot") as h:
        # No consent purpose: only the suppression list applies.
        sync = parse_syncs({"privacy": PRIVACY, "syncs": [h.sync_dict()]})[0]
        assert run_sync(sync, warehouse).rows_added == 5
        assert h.audience() == h.expected_audience([r for r in rows if r[0] != 4])

        write_consents(warehouse, dict.fromkeys(range(1, 7), True), suppressed=[4, 5])
        assert "withheld (suppressed): 2" in plan_sync(sync, warehouse).render()
        result = run_sync(sync, warehouse)
        assert (result.rows_added, result.rows_removed) == (0, 1)
        assert h.audience() == h.expected_audience(rows[:3] + rows[5:])
        runs = query(warehouse, "select count(*) from reverse_etl.sync_rejections")
        assert runs == [(0,)]  # withheld is not rejected: nothing to retry


def test_privacy_configuration_errors_name_the_field(tmp_path: Path):
    with harness_for("webhook") as h:
        with pytest.raises(ConfigError) as unknown_purpose:
            parse_syncs([h.sync_dict(consent_purpose="sms")])
        assert "consent_purpose: 'sms' is not a purpose of privacy.consent.purposes" in str(
            unknown_purpose.value
        )
        with pytest.raises(ConfigError) as per_sync:
            parse_syncs([{**h.sync_dict(), "privacy": PRIVACY}])
        assert "privacy: set it once at the top of the file" in str(per_sync.value)
        bad = {"consent": {"purposes": {"email_marketing": {"column": "x", "unknown": "maybe"}}}}
        with pytest.raises(ConfigError) as bad_policy:
            parse_syncs({"privacy": bad, "syncs": [h.sync_dict()]})
        assert "privacy.consent.purposes.email_marketing.unknown" in str(bad_policy.value)

        # A consent relation that does not exist fails the run, naming it; nothing is sent.
        warehouse = tmp_path / "w.duckdb"
        write_source(warehouse, people(3))
        result = run_sync(gated_sync(h), warehouse)
        assert result.status == "failed"
        assert (
            "privacy.suppression.relation: marts.do_not_contact does not exist in the warehouse"
            in (result.error or "")
        )
        assert "privacy.consent.relation: marts.consents does not exist" in (result.error or "")
        assert h.server.request_count == 0
