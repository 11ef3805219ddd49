"""Segment's libraries against `cdp serve`: the events arrive, land, and link
an anonymous session to the person who then identifies.

The fast tests check arrival (the rows the collector landed); the slow one
sends for two known customers of the shared business, lands the files with
`cdp ingest` into a copy of its warehouse, runs `cdp build`, and finds each
library's anonymous id among the identifiers of the right customer."""

from __future__ import annotations

import uuid
from pathlib import Path

import duckdb
import pytest

from tests.business import Business
from tests.engines.engine_builds import base_env, run_cdp
from tests.serve.clients import browser_session, python_session, wait_for_events
from tests.serve.conftest import APP_KEY, WRITE_KEY, Collector, landed_rows


def _rows_of(collector: Collector, anonymous_id: str) -> list[dict]:
    return [r for r in landed_rows(collector.landing_dir) if r["anonymous_id"] == anonymous_id]


def test_analytics_python_events_arrive(collector: Collector) -> None:
    anonymous_id = f"py-{uuid.uuid4()}"
    traits = {"email": "py@example.com", "firstName": "Python"}
    errors = python_session(collector, APP_KEY, traits, anonymous_id)
    assert errors == []
    wait_for_events(collector, 3)
    collector.stop()
    rows = _rows_of(collector, anonymous_id)
    assert sorted(r["type"] for r in rows) == ["identify", "page", "track"]
    assert {r["source_name"] for r in rows} == {"app"}
    identify = next(r for r in rows if r["type"] == "identify")
    assert identify["traits"] == {"email": "py@example.com", "firstName": "Python"}
    assert identify["context"]["library"]["name"] == "analytics-python"
    assert all(r["sent_at"] for r in rows)  # the library's batch sentAt was read


def test_analytics_js_in_chromium_events_arrive(collector: Collector) -> None:
    traits = {"email": "js@example.com", "firstName": "Browser"}
    anonymous_id = browser_session(collector, WRITE_KEY, traits)
    wait_for_events(collector, 3)
    collector.stop()
    rows = _rows_of(collector, anonymous_id)
    assert sorted(r["type"] for r in rows) == ["identify", "page", "track"]
    assert {r["source_name"] for r in rows} == {"website"}
    page = next(r for r in rows if r["type"] == "page")
    assert page["name"] == "Home"
    assert page["context"]["page"]["url"].endswith("/shop")
    assert page["context"]["userAgent"]
    identify = next(r for r in rows if r["type"] == "identify")
    assert identify["traits"]["email"] == "js@example.com"


def _two_customers(warehouse: Path) -> list[tuple[str, str]]:
    """(customer_id, email) of two customers with one email each."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(
            """
            select customer_id, min(identifier_value)
            from marts.customer_identifiers
            where identifier_type = 'email'
            group by customer_id
            having count(*) = 1
            order by customer_id
            limit 2
            """
        ).fetchall()


@pytest.mark.slow
def test_clients_link_anonymous_sessions_to_the_person(
    shared_business: Business, tmp_path: Path
) -> None:
    data = shared_business.copy_data(tmp_path / "data")
    work = tmp_path / "work"
    shared_business.copy_warehouse(work)
    shared_business.copy_dbt_target(work / "dbt_target")
    (_, python_email), (_, js_email) = _two_customers(work / "cdp.duckdb")

    collector = Collector(data).start()
    try:
        python_anonymous = f"py-{uuid.uuid4()}"
        # Only the email: a first name other than the customer's would (rightly)
        # make the identity rules treat the address as shared by two people.
        traits = {"email": python_email.upper()}
        assert python_session(collector, APP_KEY, traits, python_anonymous) == []
        js_anonymous = browser_session(collector, WRITE_KEY, {"email": js_email})
        wait_for_events(collector, 6)
    finally:
        collector.stop()

    env = base_env(work, data, "duckdb")
    landed = run_cdp(["ingest"], env)
    assert landed.returncode == 0, landed.stderr
    # Only what the identifiers need (staging and identity), not measures,
    # predictions and segments: the suite's time. And without dbt's unit tests:
    # they test the same SQL on their own fixed rows, and the shared business's
    # build ran them all (25 -> 18 s of wall for this build, 22 -> 16 s of CPU).
    built = run_cdp(
        ["build", "--select", "+customer_identifiers", "--exclude", "resource_type:unit_test"],
        env,
        timeout=1800,
    )
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-2000:]
    with duckdb.connect(str(work / "cdp.duckdb"), read_only=True) as con:
        owners = dict(
            con.execute(
                """
                select identifier_value, customer_id
                from marts.customer_identifiers
                where (identifier_type = 'anonymous_id' and identifier_value in (?, ?))
                    or (identifier_type = 'email' and identifier_value in (?, ?))
                """,
                [python_anonymous, js_anonymous, python_email, js_email],
            ).fetchall()
        )
        sources = con.execute(
            "select source_name, count(*) from raw.web_events"
            " where anonymous_id in (?, ?) group by 1 order by 1",
            [python_anonymous, js_anonymous],
        ).fetchall()
    assert sources == [("app", 3), ("website", 3)]
    # Each anonymous session belongs to the customer holding the email it identified with.
    assert python_anonymous in owners and js_anonymous in owners, owners
    assert owners[python_anonymous] == owners[python_email]
    assert owners[js_anonymous] == owners[js_email]
    assert owners[python_email] != owners[js_email]
