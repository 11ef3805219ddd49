"""The postgres destination against a real PostgreSQL 15 server (tests/pg_server.py).

Writes are counted by an audit trigger on the target table (one row per applied
INSERT, UPDATE or DELETE, committed with the transaction), the way contract
servers count deliveries. Each test gets a database of its own.
"""

from __future__ import annotations

import subprocess
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from retl_support import people, query, subprocess_env, sync_command, write_source

from reverse_etl.batch import Batch, Mode, Phase, Row
from reverse_etl.config import SyncDefinition, parse_syncs
from reverse_etl.destinations import build_destination
from reverse_etl.engine.runner import run_sync
from reverse_etl.errors import AuthError, ConfigError, DestinationError
from tests.pg_server import PostgresServer, running_postgres

psycopg2 = pytest.importorskip("psycopg2")

SYNC = "audience_sync"
DSN_ENV = "RETL_TEST_PG_DSN"
FAST_RETRY = {
    "max_attempts": 3,
    "initial_backoff_seconds": 0.01,
    "max_backoff_seconds": 0.05,
    "connect_timeout_seconds": 2.0,
    "read_timeout_seconds": 10.0,
}
AUDIT = """
create table public.audit (op text not null, key text not null);
create function public.audit_row() returns trigger language plpgsql as $$
begin
  insert into public.audit values (tg_op, coalesce(new.key, old.key));
  return null;
end $$;
create table public.audience (
  key text primary key, email text, first_name text, _synced_at timestamptz,
  _cdp_batch_id text);
create trigger audience_audit after insert or update or delete on public.audience
  for each row execute function public.audit_row();
"""


@pytest.fixture(scope="module")
def server() -> Iterator[PostgresServer]:
    with running_postgres() as pg:
        yield pg


def dsn_of(server: PostgresServer, database: str, **extra: str) -> str:
    parts = {"host": server.host, "port": str(server.port), "user": server.user, "dbname": database}
    parts.update(extra)
    return " ".join(f"{k}={v}" for k, v in parts.items())


def create_database(server: PostgresServer, name: str, audited: bool = True) -> str:
    con = psycopg2.connect(dsn_of(server, server.database))
    con.autocommit = True
    with con.cursor() as cur:
        cur.execute(f'drop database if exists "{name}"')
        cur.execute(f'create database "{name}"')
    con.close()
    if audited:
        execute(dsn_of(server, name), AUDIT)
    return dsn_of(server, name)


def execute(dsn: str, statement: str, params: Any = None) -> list[tuple[Any, ...]]:
    con = psycopg2.connect(dsn)
    con.autocommit = True
    try:
        with con.cursor() as cur:
            cur.execute(statement, params)
            return cur.fetchall() if cur.description else []
    finally:
        con.close()


@pytest.fixture
def dsn(server: PostgresServer, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch):
    name = "retl_" + request.node.name.removeprefix("test_")[:40].replace("[", "_").rstrip("]")
    value = create_database(server, name.replace("-", "_"))
    monkeypatch.setenv(DSN_ENV, value)
    return value


def sync_dict(mode: str = "audience", **destination: Any) -> dict[str, Any]:
    return {
        "name": SYNC,
        "source": "marts.audience",
        "primary_key": "customer_id",
        "mode": mode,
        "destination": {
            "type": "postgres",
            "dsn_env": DSN_ENV,
            "table": "audience",
            "retry": FAST_RETRY,
            **destination,
        },
        "fields": {"email": {"source": "email", "type": "email"}, "first_name": "first_name"},
    }


def make_sync(mode: str = "audience", **destination: Any) -> SyncDefinition:
    return parse_syncs([sync_dict(mode, **destination)])[0]


def table(dsn: str, name: str = "public.audience") -> dict[str, tuple[str, str]]:
    rows = execute(dsn, f"select key, email, first_name from {name}")
    return {k: (e, f) for k, e, f in rows}


def writes(dsn: str) -> Counter[tuple[str, str]]:
    return Counter((op, key) for op, key in execute(dsn, "select op, key from public.audit"))


def expected(rows: list[tuple[int, str, str]]) -> dict[str, tuple[str, str]]:
    return {str(i): (email, first) for i, email, first in rows}


def test_state_equals_source_through_adds_updates_removes(dsn: str, tmp_path: Path):
    warehouse = tmp_path / "w.duckdb"
    rows = people(30)
    write_source(warehouse, rows)
    sync = make_sync(batch_size=7)

    first = run_sync(sync, warehouse)
    assert first.status == "succeeded", first.error
    assert table(dsn) == expected(rows)
    assert writes(dsn) == Counter(("INSERT", str(r[0])) for r in rows)
    assert execute(dsn, "select count(*) from public._cdp_sync_batches") == [(5,)]

    changed = [(i, e, f"Renamed{i}") if i % 5 == 0 else (i, e, f) for i, e, f in rows]
    changed = [r for r in changed if r[0] % 6 != 0] + people(4, start=100)
    changed = [(3, "moved3@example.com", "First3") if r[0] == 3 else r for r in changed]
    write_source(warehouse, changed)
    before = writes(dsn)
    second = run_sync(sync, warehouse)
    assert second.status == "succeeded", second.error
    assert table(dsn) == expected(changed)
    updated = {str(r[0]) for r in changed if r[2].startswith("Renamed")} | {"3"}
    assert writes(dsn) - before == Counter(
        [("DELETE", str(r[0])) for r in rows if r[0] % 6 == 0]
        + [("INSERT", str(i)) for i in range(100, 104)]
        + [("UPDATE", k) for k in updated]
    )
    batch_ids = execute(dsn, "select distinct _cdp_batch_id from public.audience")
    ledger = {b for (b,) in execute(dsn, "select batch_id from public._cdp_sync_batches")}
    assert {b for (b,) in batch_ids} <= ledger

    # Nothing changed: no connection, no statement.
    count = execute(dsn, "select count(*) from public._cdp_sync_batches")
    third = run_sync(sync, warehouse)
    assert third.status == "succeeded"
    assert (third.requests, third.rows_sent) == (0, 0)
    assert execute(dsn, "select count(*) from public._cdp_sync_batches") == count


def test_creates_schema_table_and_ledger(dsn: str, tmp_path: Path):
    warehouse = tmp_path / "w.duckdb"
    write_source(warehouse, people(3))
    sync = make_sync("upsert", schema="crm", table="vip", key_column="customer_id")
    assert run_sync(sync, warehouse).status == "succeeded"
    columns = execute(
        dsn,
        """select column_name, data_type from information_schema.columns
           where table_schema = 'crm' and table_name = 'vip' order by ordinal_position""",
    )
    assert columns == [
        ("customer_id", "text"),
        ("email", "text"),
        ("first_name", "text"),
        ("_synced_at", "timestamp with time zone"),
        ("_cdp_batch_id", "text"),
    ]
    assert execute(dsn, "select count(*) from crm._cdp_sync_batches") == [(1,)]
    # A field added to the sync becomes a new column.
    raw = sync_dict("upsert", schema="crm", table="vip", key_column="customer_id")
    raw["fields"]["given_name"] = "first_name"
    assert run_sync(parse_syncs([raw])[0], warehouse).status == "succeeded"
    assert execute(dsn, "select count(*) from crm.vip where given_name is not null") == [(3,)]


def test_modes(dsn: str, tmp_path: Path):
    warehouse = tmp_path / "w.duckdb"
    rows = people(6)
    later = [(i, e, f"New{i}") for i, e, _ in rows if i != 6]
    for mode, want in (
        ("upsert", {**expected(rows), **expected(later)}),  # 6 left the model: kept
        ("insert-only", expected(rows)),  # neither updated nor removed
        ("mirror", expected(later)),
    ):
        write_source(warehouse, rows)
        assert run_sync(make_sync(mode), warehouse).status == "succeeded"
        write_source(warehouse, later)
        assert run_sync(make_sync(mode), warehouse).status == "succeeded"
        assert table(dsn) == want, mode
        execute(dsn, "truncate public.audience")
        query(warehouse, "delete from reverse_etl.sync_state")  # next mode starts afresh

    # update-only: existing keys are updated, the others rejected (retryably).
    execute(dsn, "insert into public.audience (key, email, first_name) values ('1', 'x', 'y')")
    result = run_sync(make_sync("update-only"), warehouse)
    assert result.status == "succeeded" and result.rows_rejected == 4
    assert table(dsn) == {"1": ("person1@example.com", "New1")}
    reasons = query(warehouse, "select distinct reason, terminal from reverse_etl.sync_rejections")
    assert reasons[0][0].startswith("update-only: no row with key = ") and not reasons[0][1]


def _batch(batch_id: str = "a" * 32, first: str = "First") -> Batch:
    rows = tuple(
        Row(str(i), {"email": e, "first_name": f"{first}{i}"}, "h") for i, e, _ in people(3)
    )
    return Batch(batch_id, SYNC, Mode.AUDIENCE, Phase.ADD, rows)


def test_ledger_makes_a_batch_apply_once(dsn: str):
    sync = make_sync()
    destination = build_destination(sync.destination, sync.context)
    try:
        batch = _batch()
        assert destination.reconcile(batch).unapplied == {"1", "2", "3"}
        assert set(destination.deliver(batch).acknowledged) == {"1", "2", "3"}
        known = destination.reconcile(batch)
        assert set(known.acknowledged) == {"1", "2", "3"} and not known.unapplied
        # The same batch id again writes nothing, even with other content.
        again = destination.deliver(_batch(first="Other"))
        assert set(again.acknowledged) == {"1", "2", "3"}
        assert writes(dsn) == Counter(("INSERT", k) for k in ("1", "2", "3"))
        assert table(dsn)["1"] == ("person1@example.com", "First1")
    finally:
        destination.close()


def test_nul_characters_are_rejected_per_row(dsn: str, tmp_path: Path):
    warehouse = tmp_path / "w.duckdb"
    write_source(warehouse, [*people(2), (3, "person3@example.com", "bad\x00name")])
    result = run_sync(make_sync(), warehouse)
    assert result.status == "succeeded" and result.rows_rejected == 1
    assert set(table(dsn)) == {"1", "2"}
    reason = query(warehouse, "select reason, terminal from reverse_etl.sync_rejections")
    assert reason == [
        ("first_name: contains a NUL character, which PostgreSQL text cannot store", True)
    ]
    ledger = execute(dsn, "select rejected from public._cdp_sync_batches")
    assert list(ledger[0][0]) == ["3"]


# -- credentials, reachability, privileges --------------------------------------------------


@pytest.fixture
def secured_role(server: PostgresServer, dsn: str) -> str:
    """A role that must log in with a password (scram-sha-256 over TCP), no privileges."""
    role, password = "retl_secure", "right-Passw0rd-123"
    admin = dsn_of(server, server.database)
    if not execute(admin, "select 1 from pg_roles where rolname = %s", (role,)):
        execute(admin, f"create role {role} login password '{password}'")
        (hba_file,) = execute(admin, "show hba_file")[0]
        hba = Path(hba_file)
        hba.write_text(f"host all {role} 127.0.0.1/32 scram-sha-256\n" + hba.read_text())
        execute(admin, "select pg_reload_conf()")
        deadline = time.monotonic() + 10
        while True:  # the postmaster re-reads pg_hba.conf asynchronously
            try:
                psycopg2.connect(dsn_of(server, server.database, user=role, password="x")).close()
            except psycopg2.OperationalError:
                break
            assert time.monotonic() < deadline, "pg_hba.conf was not reloaded"
            time.sleep(0.1)
    return password


def test_wrong_password_fails_fast_naming_the_field_not_the_secret(
    server: PostgresServer, dsn: str, secured_role: str, tmp_path: Path, monkeypatch
):
    database = dsn.split("dbname=")[1]
    wrong = "wrong-Passw0rd-9f8e7d"
    monkeypatch.setenv(DSN_ENV, dsn_of(server, database, user="retl_secure", password=wrong))
    warehouse = tmp_path / "w.duckdb"
    write_source(warehouse, people(3))
    started = time.monotonic()
    result = run_sync(make_sync(), warehouse)
    assert time.monotonic() - started < 5
    message = result.error or ""
    assert result.status == "failed"
    assert "postgres destination of sync 'audience_sync': credentials rejected" in message
    assert f"destination.dsn_env (environment variable {DSN_ENV})" in message
    assert "password authentication failed" in message
    assert wrong not in message and secured_role not in message
    assert query(warehouse, "select count(*) from reverse_etl.sync_outbox") == [(0,)]

    sync = make_sync()
    destination = build_destination(sync.destination, sync.context)
    with pytest.raises(AuthError) as raised:
        destination.check()
    assert "destination.dsn_env" in str(raised.value) and wrong not in str(raised.value)
    assert wrong not in repr(destination) and wrong not in repr(sync)


def test_check_verifies_privileges(server: PostgresServer, dsn: str, secured_role: str):
    database = dsn.split("dbname=")[1]
    sync = make_sync()
    build_destination(sync.destination, sync.context).check()  # the superuser may do anything

    os_env = dsn_of(server, database, user="retl_secure", password=secured_role)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(DSN_ENV, os_env)
        destination = build_destination(sync.destination, sync.context)
        with pytest.raises(DestinationError) as raised:
            destination.check()
        message = str(raised.value)
        assert message.startswith("postgres destination of sync 'audience_sync': table:")
        assert "user retl_secure has no INSERT privilege on public.audience" in message
        assert "public._cdp_sync_batches does not exist and user retl_secure may not" in message

        execute(dsn, "grant select, insert, update, delete on public.audience to retl_secure")
        execute(dsn, "grant create on schema public to retl_secure")
        destination.check()


def test_bad_dsn_and_unreachable_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    sync = make_sync()
    secret = "hunter2-very-secret"
    monkeypatch.setenv(DSN_ENV, f"postgresql:/broken:{secret}@@host")
    with pytest.raises(ConfigError) as raised:
        build_destination(sync.destination, sync.context)
    assert "destination.dsn_env" in str(raised.value) and secret not in str(raised.value)

    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # nothing listens here once closed
    monkeypatch.setenv(DSN_ENV, f"host=127.0.0.1 port={port} user=x password={secret} dbname=x")
    destination = build_destination(sync.destination, sync.context)
    with pytest.raises(DestinationError) as raised:
        destination.check()
    message = str(raised.value)
    assert f"cannot connect to 127.0.0.1:{port}/x" in message and secret not in message
    assert destination.request_count == FAST_RETRY["max_attempts"]  # bounded retries


# -- kill points ----------------------------------------------------------------------------

KILLS: list[list[str]] = [
    ["outbox_written:2", "acknowledged:1", "reconciled:1", "acknowledged:3", "committed:2"],
    ["acknowledged:1", "reconciled:1", "outbox_written:1", "committed:1", "acknowledged:2"],
]


def phase_rows() -> list[list[tuple[int, str, str]]]:
    initial = people(40)
    changed = [(i, e, f"Renamed{i}") if i % 4 == 0 else (i, e, f) for i, e, f in initial]
    changed = [r for r in changed if r[0] % 5 != 0] + people(6, start=200)
    changed = [(7, "moved7@example.com", "First7") if r[0] == 7 else r for r in changed]
    return [initial, changed]


def run_cli(config: Path, warehouse: Path, crash_at: str | None) -> int:
    done = subprocess.run(
        [*sync_command(crash_at), "--config", str(config), "--warehouse", str(warehouse)],
        env=subprocess_env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode in ((0, 137) if crash_at else (0,)), done.stdout + done.stderr
    return done.returncode


def test_killed_runs_write_every_row_exactly_once(
    server: PostgresServer, dsn: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    ref_dsn = create_database(server, "retl_kill_reference")
    warehouse, ref_warehouse = tmp_path / "w.duckdb", tmp_path / "ref.duckdb"
    config = tmp_path / "syncs.yaml"
    config.write_text(yaml.safe_dump({"syncs": [sync_dict(batch_size=4)]}))
    killed = 0
    for kills, rows in zip(KILLS, phase_rows(), strict=True):
        write_source(warehouse, rows)
        write_source(ref_warehouse, rows)
        with monkeypatch.context() as mp:
            mp.setenv(DSN_ENV, ref_dsn)
            assert run_sync(make_sync(batch_size=4), ref_warehouse).status == "succeeded"
        for crash_at in kills:
            killed += run_cli(config, warehouse, crash_at) != 0
        run_cli(config, warehouse, None)

        assert writes(dsn) == writes(ref_dsn), "applied writes differ from the reference"
        assert table(dsn) == expected(rows)
        assert query(warehouse, "select count(*) from reverse_etl.sync_outbox") == [(0,)]
        state = {k for (k,) in query(warehouse, "select key from reverse_etl.sync_state")}
        assert state == {str(r[0]) for r in rows}
    assert killed >= 9, f"only {killed} runs were actually killed"
    assert max(writes(ref_dsn).values()) <= 2
    assert run_sync(make_sync(batch_size=4), warehouse).requests == 0


def test_process_killed_inside_the_transaction_applies_nothing(
    server: PostgresServer, dsn: str, tmp_path: Path
):
    """SIGKILL while the batch's transaction is open (a trigger holds it in pg_sleep):
    the server rolls it back, and the next run writes each row exactly once."""
    execute(
        dsn,
        """create function public.stall() returns trigger language plpgsql as $$
           begin
             if new.key = '3' and not exists (select 1 from public.stalled) then
               perform pg_sleep(30);
             end if;
             return null;
           end $$;
           create table public.stalled (at timestamptz);
           create trigger audience_stall after insert on public.audience
             for each row execute function public.stall();""",
    )
    warehouse = tmp_path / "w.duckdb"
    write_source(warehouse, people(6))
    config = tmp_path / "syncs.yaml"
    config.write_text(yaml.safe_dump({"syncs": [sync_dict(batch_size=4)]}))
    proc = subprocess.Popen(
        [*sync_command(), "--config", str(config), "--warehouse", str(warehouse)],
        env=subprocess_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 60
        while not execute(dsn, "select 1 from pg_stat_activity where wait_event = 'PgSleep'"):
            assert proc.poll() is None and time.monotonic() < deadline, "never stalled"
            time.sleep(0.05)
        proc.kill()
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    execute(dsn, "insert into public.stalled values (now())")
    deadline = time.monotonic() + 30  # the server notices the dead client after the sleep
    while execute(dsn, "select 1 from pg_stat_activity where wait_event = 'PgSleep'"):
        execute(
            dsn,
            "select pg_terminate_backend(pid) from pg_stat_activity where wait_event = 'PgSleep'",
        )
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert table(dsn) == {} and writes(dsn) == Counter()
    assert execute(dsn, "select count(*) from public._cdp_sync_batches") == [(0,)]
    assert query(warehouse, "select count(*) from reverse_etl.sync_outbox") == [(1,)]

    run_cli(config, warehouse, None)
    assert table(dsn) == expected(people(6))
    assert writes(dsn) == Counter(("INSERT", str(i)) for i in range(1, 7))


@pytest.mark.parametrize("mode", ["audience", "upsert", "insert-only"])
def test_erased_person_is_deleted_in_every_mode(dsn: str, tmp_path: Path, mode: str):
    """An erased person's key leaving the model deletes their row even in modes that
    never delete (upsert forgets, insert-only ignores): docs/privacy.md, Destinations."""
    from test_retl_erasure import record_erasure

    warehouse = tmp_path / "wh.duckdb"
    rows = people(10)
    write_source(warehouse, rows)
    sync = make_sync(mode)
    assert run_sync(sync, warehouse).status == "succeeded"
    assert "5" in table(dsn)

    record_erasure(warehouse, 5)
    write_source(warehouse, [r for r in rows if r[0] not in (5, 6)])
    result = run_sync(sync, warehouse)
    assert result.status == "succeeded", result.error
    assert result.diff is not None and result.diff.erasures == 1
    held = table(dsn)
    assert "5" not in held
    assert ("6" in held) == (mode != "audience")  # a plain leaver follows the mode
    dump = str(execute(dsn, "select * from public.audience")) + str(
        execute(dsn, "select * from public._cdp_sync_batches")
    )
    assert "person5@example.com" not in dump and "First5'" not in dump
    assert writes(dsn)[("DELETE", "5")] == 1
