"""The demo end to end on a real PostgreSQL 15: ingest, build, the example syncs of
syncs.yml to the demo's contract servers, summary (what `make demo-postgres` runs).

The ingest and build are the engines package's one PostgreSQL build
(`postgres_build` in conftest.py: `cdp ingest` and `cdp build` of the shared business
in database `cdp`, which test_cross_engine.py compares with DuckDB); this module then
runs the demo's remaining steps on a copy of it (database `cdp_demo_run`,
tests/pg_server.copy_database) with the `cdp` command: `cdp sync` of every sync in
syncs.yml to the demo destinations (started here on free ports from 29000, with a
copy of syncs.yml pointing at them), and `cdp summary`. The copy keeps the syncs'
state out of `cdp`, which test_cross_engine.py's summary comparison and
test_privacy_postgres.py's copy read, whatever order the modules run in. The
throwaway-server half of `make demo-postgres` (cdp_demo/postgres.py) is checked by
test_demo_postgres_server below.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.engines.conftest import PostgresServer
from tests.engines.engine_builds import REPO, EngineBuild, run_cdp
from tests.pg_server import copy_database

pytestmark = pytest.mark.slow

DEMO_PORTS = (8701, 8702, 8703)  # the ports syncs.yml names
PORT_BASE = 29000  # this module's ports (docs/testing.md: a free port per test)
SYNCS = ("email_retention_offer", "email_reactivation", "email_vip_events", "segment_journeys")


def _free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


@dataclass
class DemoRun:
    server: PostgresServer
    sync: Any  # CompletedProcess of `cdp sync`
    summary: Any  # CompletedProcess of `cdp summary`
    destinations: dict[str, Any]

    def rows(self, query: str) -> list[tuple[Any, ...]]:
        import psycopg2

        con = psycopg2.connect(**self.server.connect_kwargs())
        try:
            with con, con.cursor() as cursor:
                cursor.execute(query)
                found: list[tuple[Any, ...]] = cursor.fetchall()
        finally:
            con.close()
        return found

    def synced(self, name: str) -> set[str]:
        rows = self.rows(f"select key from reverse_etl.sync_state where sync_name = '{name}'")
        return {str(key) for (key,) in rows}


@pytest.fixture(scope="module")
def demo_run(
    postgres_build: EngineBuild,
    postgres_server: PostgresServer,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[DemoRun]:
    from cdp_demo.destinations import DEMO_SECRETS, demo_destinations

    base = next(p for p in range(PORT_BASE, PORT_BASE + 300, 3) if all(map(_free, range(p, p + 3))))
    folder = tmp_path_factory.mktemp("demo_postgres")
    text = (REPO / "syncs.yml").read_text(encoding="utf-8")
    for offset, port in enumerate(DEMO_PORTS):
        assert f"127.0.0.1:{port}" in text
        text = text.replace(f"127.0.0.1:{port}", f"127.0.0.1:{base + offset}")
    (folder / "syncs.yml").write_text(text, encoding="utf-8")
    # its own copy of the shared build: the syncs' state stays out of the other modules'
    copied = copy_database(postgres_server, "cdp_demo_run")
    env = (
        postgres_build.env
        | copied.env()
        | DEMO_SECRETS
        | {"CDP_SYNCS_PATH": str(folder / "syncs.yml")}
    )
    saved = os.environ.get("CDP_DEMO_PORT_BASE")
    os.environ["CDP_DEMO_PORT_BASE"] = str(base)
    try:
        with demo_destinations() as servers:
            synced = run_cdp(["sync"], env)
            summary = run_cdp(["summary"], env)
            yield DemoRun(copied, synced, summary, servers)
    finally:
        if saved is None:
            os.environ.pop("CDP_DEMO_PORT_BASE", None)
        else:
            os.environ["CDP_DEMO_PORT_BASE"] = saved


def test_the_build_succeeded_on_postgres(postgres_build: EngineBuild) -> None:
    assert postgres_build.build_ok, "\n".join(postgres_build.failed_nodes[:10])


def test_every_demo_sync_ran_on_postgres(demo_run: DemoRun) -> None:
    output = demo_run.sync.stdout + demo_run.sync.stderr
    assert demo_run.sync.returncode == 0, output[-4000:]
    runs = dict(
        demo_run.rows(
            "select sync_name, string_agg(status, ',') from reverse_etl.sync_runs group by 1"
        )
    )
    assert runs == dict.fromkeys(SYNCS, "succeeded")


def _ids(run: DemoRun, relation: str) -> set[str]:
    return {str(c) for (c,) in run.rows(f"select customer_id from {relation}")}


def test_the_destinations_hold_the_consented_segment_members(demo_run: DemoRun) -> None:
    """What each contract server holds is what the sync state in PostgreSQL says was
    acknowledged, and only customers of the segment who may get marketing email."""
    eligible = {
        c
        for (c,) in demo_run.rows(
            "select customer_id from marts.customer_consent_eligibility "
            "where is_email_marketing_eligible"
        )
    }
    churn_risk = {
        c for (c,) in demo_run.rows("select customer_id from marts.segment_high_value_churn_risk")
    }
    lapsed = {c for (c,) in demo_run.rows("select customer_id from marts.segment_lapsed_buyers")}
    retention = demo_run.synced("email_retention_offer")
    reactivation = demo_run.synced("email_reactivation")
    vip = demo_run.synced("email_vip_events")
    assert retention <= churn_risk & eligible
    assert reactivation <= lapsed & eligible
    assert vip <= eligible and vip
    assert sum(map(len, (retention, reactivation, vip))) > 0
    mailchimp, hubspot, webhook = (
        demo_run.destinations[n] for n in ("mailchimp", "hubspot", "webhook")
    )
    tagged = mailchimp.tagged_emails("Retention offer")
    with hubspot.lock:
        listed = set(hubspot.lists["101"])
    with webhook.lock:
        hooked = set(webhook.members)
    assert len(tagged) == len(retention)
    assert len(listed) == len(reactivation)
    assert vip <= hooked


def test_the_summary_reads_postgres(demo_run: DemoRun) -> None:
    out = demo_run.summary.stdout
    assert demo_run.summary.returncode == 0, out + demo_run.summary.stderr
    assert "Customers (golden profiles)" in out
    assert "Rows synced" in out
    synced_lines = out[out.index("Rows synced") :].splitlines()[1:]
    counts = {
        line.split(":")[0].strip(): line.split(":")[1].strip()
        for line in synced_lines
        if ":" in line
    }
    sent = dict(
        demo_run.rows("select sync_name, sum(rows_sent) from reverse_etl.sync_runs group by 1")
    )
    assert counts == {name: f"{int(rows):,}" for name, rows in sent.items()}, out
    assert int(sent["email_vip_events"]) >= len(demo_run.synced("email_vip_events")) > 0


def test_demo_postgres_server(tmp_path: Path) -> None:
    """`make demo-postgres`'s own server: a throwaway PostgreSQL that takes a connection
    with the settings it hands over, and is stopped and removed afterwards."""
    import psycopg2
    from cdp_demo.postgres import throwaway_server

    from tests.pg_server import skip_unless_available

    skip_unless_available()
    said: list[str] = []
    with throwaway_server(said.append) as settings:
        con = psycopg2.connect(
            host=settings["CDP_PG_HOST"],
            port=int(settings["CDP_PG_PORT"]),
            user=settings["CDP_PG_USER"],
            dbname=settings["CDP_PG_DATABASE"],
        )
        with con, con.cursor() as cursor:
            cursor.execute("show lc_collate")
            (collate,) = cursor.fetchone() or ("",)
        con.close()
        root = Path(said[0].rsplit(" in ", 1)[1])
        assert root.is_dir()
    assert collate == "C"
    assert not root.exists()
    assert said[-1].startswith("stopped the throwaway PostgreSQL")
    with pytest.raises(psycopg2.OperationalError):
        psycopg2.connect(
            host=settings["CDP_PG_HOST"],
            port=int(settings["CDP_PG_PORT"]),
            user="cdp",
            dbname="cdp",
            connect_timeout=3,
        )
