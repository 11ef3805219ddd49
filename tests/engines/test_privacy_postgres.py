"""`cdp privacy` on a real PostgreSQL 15 target (docs/privacy.md, docs/engines.md).

The module works in a copy of the shared PostgreSQL build (`postgres_build`,
conftest.py; tests/pg_server.copy_database), synced to a webhook contract
server (mirror) and a CSV file drop (audience). In file order:

1. erase -> sync -> finish (the audit record's rows, keys and hashes equal
   those of the same erasure on a copy of the DuckDB build): then a scan of
   every text and JSON column of every table in the database, and of
   everything both destinations hold, finds
   none of the person's email, phone or name; `finish --compact` vacuums;
2. re-landing every original file lands none of the person's rows (the
   PostgreSQL loader checks the tombstones);
3. an erasure whose connection is killed between two of its statements leaves
   nothing behind (one transaction), says so in one line, and the next run
   finishes it;
4. wrong credentials: one line, no secret (Spark: tests/engines/test_privacy_spark.py).
"""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.business import Business
from tests.engines.conftest import PostgresServer
from tests.engines.engine_builds import CDP, REPO, EngineBuild, run_cdp
from tests.pg_server import copy_database

pytestmark = pytest.mark.slow

DATABASE = "cdp_privacy"
WEBHOOK_SECRET = "whsec-pg-privacy"
SYNCS_YML = """
syncs:
  - name: all_to_webhook
    source: marts.customers
    primary_key: customer_id
    mode: mirror
    destination:
      type: webhook
      url: {webhook_url}
      signing_secret_env: CDP_TEST_WEBHOOK_SECRET
    fields:
      email: {{source: email, type: email}}
      phone: phone_e164
      first_name: first_name
      last_name: last_name
  - name: all_to_files
    source: marts.customers
    primary_key: customer_id
    mode: audience
    destination:
      type: file
      directory: {files_dir}
      format: csv
    fields:
      email: {{source: email, type: email}}
      phone: phone_e164
      last_name: last_name
"""


@dataclass
class PgPrivacy:
    root: Path
    env: dict[str, str]
    server: PostgresServer
    webhook: Any
    files_dir: Path

    def connect(self) -> Any:
        import psycopg2

        return psycopg2.connect(**self.server.connect_kwargs())

    def query(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        con = self.connect()
        try:
            with con.cursor() as cur:
                cur.execute(sql, params or None)
                found = cur.fetchall() if cur.description else []
            con.commit()
            return found
        finally:
            con.close()

    def cdp(self, *args: str, ok: bool = True) -> subprocess.CompletedProcess[str]:
        done = run_cdp(list(args), self.env)
        if ok:
            assert done.returncode == 0, f"cdp {' '.join(args)}:\n{done.stdout}{done.stderr}"
        return done

    def destinations(self) -> str:
        files = "\n".join(p.read_text() for p in sorted(self.files_dir.rglob("*")) if p.is_file())
        return f"{self.webhook.held_data()}\n{files}"


@pytest.fixture(scope="module")
def pg(
    postgres_build: EngineBuild,
    postgres_server: PostgresServer,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[PgPrivacy]:
    from cdp_demo.contract_servers import WebhookContractServer

    assert postgres_build.built, "PostgreSQL built no model:\n" + postgres_build.build_output
    copied = copy_database(postgres_server, DATABASE)
    root = tmp_path_factory.mktemp("pg_privacy")
    shutil.copytree(postgres_build.env["CDP_DATA_DIR"], root / "data")
    files_dir = root / "drop"
    files_dir.mkdir()
    with WebhookContractServer(WEBHOOK_SECRET) as webhook:
        (root / "syncs.yml").write_text(
            SYNCS_YML.format(webhook_url=webhook.endpoint, files_dir=files_dir), encoding="utf-8"
        )
        env = postgres_build.env | {
            "CDP_PG_DATABASE": DATABASE,
            "CDP_DATA_DIR": str(root / "data"),
            "CDP_DUCKDB_PATH": str(root / "unused.duckdb"),
            "CDP_SYNCS_PATH": str(root / "syncs.yml"),
            "DBT_TARGET_PATH": str(root / "dbt_target"),
            "DBT_LOG_PATH": str(root / "dbt_logs"),
            # the erasure's rebuild: dbt's unit tests check SQL on inline rows, not
            # this data, and run in the shared build
            "DBT_EXCLUDE_RESOURCE_TYPES": "unit_test",
            "CDP_TEST_WEBHOOK_SECRET": WEBHOOK_SECRET,
        }
        business = PgPrivacy(root, env, copied, webhook, files_dir)
        business.cdp("sync")
        yield business


def _people(pg: PgPrivacy) -> list[dict[str, Any]]:
    """Generated persons whose email, phone and last name nobody else has, each with
    every ground-truth record on one customer that holds nobody else's records, most
    records first."""
    truth = pg.root / "data" / "ground_truth"
    with (truth / "persons.csv").open(encoding="utf-8") as f:
        persons = {row["person_id"]: row for row in csv.DictReader(f)}
    records: dict[str, list[tuple[str, str]]] = {}
    with (truth / "record_persons.csv").open(encoding="utf-8") as f:
        for row in csv.DictReader(f):
            records.setdefault(row["person_id"], []).append(
                (row["source_table"], row["source_record_id"])
            )
    owner = {rec: pid for pid, recs in records.items() for rec in recs}
    counts: dict[str, int] = {}
    for p in persons.values():
        for value in (p["email"].lower(), p["phone_e164"], p["last_name"].lower()):
            counts[value] = counts.get(value, 0) + 1
        for value in (p["previous_email"].lower(), p["previous_phone_e164"]):
            counts[value] = counts.get(value, 0) + 2
    members: dict[str, set[tuple[str, str]]] = {}
    by_record: dict[tuple[str, str], str] = {}
    for customer, source, record in pg.query(
        "select customer_id, source_name, source_record_id from marts.customer_source_records"
    ):
        members.setdefault(str(customer), set()).add((str(source), str(record)))
        by_record[(str(source), str(record))] = str(customer)
    found = []
    for person_id, recs in sorted(records.items(), key=lambda item: -len(item[1])):
        p = persons[person_id]
        values = (p["email"].lower(), p["phone_e164"], p["last_name"].lower())
        if not all(values) or any(counts[v] != 1 for v in values) or len(recs) < 3:
            continue
        customers = {by_record.get(r) for r in recs}
        if len(customers) != 1 or None in customers:
            continue
        (customer,) = customers
        assert customer is not None
        if any(owner.get(r) != person_id for r in members[customer]):
            continue
        found.append(
            {
                "customer_id": customer,
                "email": p["email"].lower(),
                "phone": p["phone_e164"],
                "last_name": p["last_name"],
            }
        )
    assert len(found) >= 2, "too few generated persons fit: change SEED in tests/business.py"
    return found


@pytest.fixture(scope="module")
def people(pg: PgPrivacy) -> list[dict[str, Any]]:
    return _people(pg)


def _needles(person: dict[str, Any]) -> list[str]:
    return [person["email"], person["phone"], person["phone"].lstrip("+"), person["last_name"]]


def _traces(pg: PgPrivacy, needles: list[str], schemas: tuple[str, ...] = ()) -> list[str]:
    """'schema.table.column: needle' wherever a text, JSON or array column of a table
    of the database holds a needle (case-insensitive); one query per table."""
    where = "and c.table_schema in %s" if schemas else ""
    columns = pg.query(
        "select c.table_schema, c.table_name, c.column_name "
        "from information_schema.columns c join information_schema.tables t "
        "using (table_schema, table_name) "
        "where t.table_type = 'BASE TABLE' "
        "and c.table_schema not in ('pg_catalog', 'information_schema') "
        "and c.data_type in ('text', 'character varying', 'json', 'jsonb', 'ARRAY') "
        f"{where} order by 1, 2, 3",
        (schemas,) if schemas else (),
    )
    by_table: dict[tuple[str, str], list[str]] = {}
    for schema, table, column in columns:
        by_table.setdefault((str(schema), str(table)), []).append(str(column))
    hits = []
    for (schema, table), names in by_table.items():
        pairs = [(column, needle) for column in names for needle in needles]
        counts = ", ".join(
            f'count(*) filter (where strpos(lower(cast("{column}" as text)), %s) > 0)'
            for column, _ in pairs
        )
        (row,) = pg.query(
            f'select {counts} from "{schema}"."{table}"',
            tuple(needle.lower() for _, needle in pairs),
        )
        hits += [
            f"{schema}.{table}.{column}: {needle}"
            for (column, needle), count in zip(pairs, row, strict=True)
            if count
        ]
    return hits


LOGGED = "rows_deleted, customer_hashes, identifier_hashes, request_hash"


def _erased_on_duckdb(business: Business, pg: PgPrivacy, email: str) -> dict[str, Any]:
    """The same erasure in a copy of the DuckDB build (--no-build): its audit record."""
    import duckdb

    warehouse = business.copy_warehouse(pg.root / "duckdb")
    env = business.build.env | {
        "CDP_DUCKDB_PATH": str(warehouse),
        "CDP_DATA_DIR": str(pg.root / "data"),
        "CDP_SYNCS_PATH": str(pg.root / "no-syncs.yml"),
    }
    done = run_cdp(["privacy", "erase", "--email", email, "--no-build"], env)
    assert done.returncode == 0, done.stdout + done.stderr
    with duckdb.connect(str(warehouse), read_only=True) as con:
        row = con.execute(
            f"select {', '.join(f'cast({c.strip()} as varchar)' for c in LOGGED.split(','))} "
            "from privacy.erasure_log"
        ).fetchone()
    assert row is not None
    return _logged(row)


def _logged(row: tuple[Any, ...]) -> dict[str, Any]:
    rows_deleted, customers, identifiers, request = row
    return {
        "raw": {
            t: n
            for t, n in json.loads(rows_deleted).items()
            if not t.startswith("derived.") and t != "access_exports"
        },
        "customer_hashes": json.loads(customers),
        "identifier_hashes": json.loads(identifiers),
        "request_hash": request,
    }


def test_erase_sync_finish_leaves_nothing_in_postgres_or_destinations(
    pg: PgPrivacy, people: list[dict[str, Any]], shared_business: Business
) -> None:
    person = people[0]
    needles = _needles(person)
    on_duckdb = _erased_on_duckdb(shared_business, pg, person["email"])
    assert sum(on_duckdb["raw"].values()) > 0
    assert person["customer_id"] in pg.webhook.members
    before = _traces(pg, needles)
    assert any(hit.startswith("raw.") for hit in before), before
    assert any(hit.startswith("marts.") for hit in before), before
    assert person["email"] in pg.destinations().lower()

    erased = pg.cdp("privacy", "erase", "--email", person["email"])
    assert (
        "syncs holding them (removes on the next sync): all_to_files (1), all_to_webhook (1)"
        in (erased.stdout)
    ), erased.stdout
    assert "completed" in erased.stdout, erased.stdout
    pg.cdp("sync")
    finished = pg.cdp("privacy", "finish", "--compact")
    assert "VACUUM (FULL) of" in finished.stdout, finished.stdout

    assert _traces(pg, needles) == []
    held = pg.destinations().lower()
    assert [n for n in needles if n.lower() in held] == []
    assert person["customer_id"] not in pg.webhook.members
    ((status, destinations),) = pg.query(
        "select status, cast(destinations as text) from privacy.erasure_log"
    )
    assert status == "completed"
    assert set(json.loads(destinations)) == {"all_to_files", "all_to_webhook"}
    # The same rows, keys and hashes as the same erasure on DuckDB.
    (row,) = pg.query(
        f"select {', '.join(f'cast({c.strip()} as text)' for c in LOGGED.split(','))} "
        "from privacy.erasure_log"
    )
    assert _logged(row) == on_duckdb
    gone = pg.cdp("privacy", "export", "--email", person["email"], "--out", "-", ok=False)
    assert gone.returncode == 2
    assert gone.stderr.strip() == "error: no customer found for the given email"


def test_relanding_every_file_does_not_bring_the_person_back(
    pg: PgPrivacy, people: list[dict[str, Any]]
) -> None:
    pg.query("delete from raw._landed_files")
    landed = pg.cdp("ingest")
    assert "row(s) of erased people not landed" in landed.stdout, landed.stdout
    (skipped,) = pg.query("select sum(rows_skipped) from privacy.erasure_skips")
    assert skipped[0] > 0
    assert _traces(pg, _needles(people[0]), ("raw", "privacy")) == []


def _raw_rows_of(pg: PgPrivacy, email: str) -> dict[str, list[tuple[str, int]]]:
    done = pg.cdp("privacy", "export", "--email", email, "--out", "-")
    document = json.loads(done.stdout)
    return {
        table: [(r["_source_file"], int(r["_source_line"])) for r in rows]
        for table, rows in document["raw_rows"].items()
        if rows
    }


def _still_there(pg: PgPrivacy, rows: dict[str, list[tuple[str, int]]]) -> int:
    total = 0
    for table, keys in rows.items():
        for source_file, line in keys:
            (row,) = pg.query(
                f'select count(*) from raw."{table}" where _source_file = %s and _source_line = %s',
                (source_file, line),
            )
            total += int(row[0])
    return total


def test_erasure_killed_between_statements_leaves_nothing_and_the_next_run_finishes(
    pg: PgPrivacy, people: list[dict[str, Any]]
) -> None:
    person = people[1]
    rows = _raw_rows_of(pg, person["email"])
    held = _still_there(pg, rows)
    assert held > 0
    logged = pg.query("select count(*) from privacy.erasure_log")[0][0]
    stones = pg.query("select count(*) from privacy.erasure_tombstones")[0][0]

    command = [str(CDP), "privacy", "erase", "--email", person["email"], "--no-build"]
    process = subprocess.Popen(
        command, env=pg.env, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    killed = False
    deadline = time.monotonic() + 120
    while process.poll() is None and time.monotonic() < deadline and not killed:
        # the erasure's session, once it has deleted from a raw table (the statement
        # running, or done and the transaction open)
        killed = bool(
            pg.query(
                "select pg_terminate_backend(pid) from pg_stat_activity "
                "where application_name = 'cdp-privacy' and xact_start is not null "
                "and query ilike 'delete from raw.%%'"
            )
        )
        time.sleep(0.02)
    stdout, stderr = process.communicate(timeout=120)
    assert killed, f"the erasure ended before it could be killed:\n{stdout}{stderr}"
    assert process.returncode == 2, stdout + stderr
    assert len(stderr.strip().splitlines()) == 1, stderr
    assert "lost the connection to the postgres target" in stderr, stderr
    assert "Traceback" not in stderr
    # One transaction: nothing of it was committed.
    assert _still_there(pg, rows) == held
    assert pg.query("select count(*) from privacy.erasure_log")[0][0] == logged
    assert pg.query("select count(*) from privacy.erasure_tombstones")[0][0] == stones

    again = pg.cdp("privacy", "erase", "--email", person["email"], "--no-build")
    assert "rebuild skipped" in again.stdout
    assert _still_there(pg, rows) == 0
    assert _traces(pg, _needles(person), ("raw",)) == []
    ((status,),) = pg.query("select status from privacy.erasure_log where status <> 'completed'")
    assert status == "awaiting_rebuild"


def test_wrong_credentials_are_one_line(pg: PgPrivacy) -> None:
    secret = "s3cr3t-pg-privacy"
    wrong = run_cdp(
        ["privacy", "log"], pg.env | {"CDP_PG_USER": "nobody", "CDP_PG_PASSWORD": secret}
    )
    assert wrong.returncode == 2
    lines = wrong.stderr.strip().splitlines()
    assert len(lines) == 1, wrong.stderr
    assert lines[0].startswith("error: cannot connect to the postgres target postgresql://nobody@")
    assert "CDP_PG_USER" in lines[0]
    assert secret not in wrong.stdout + wrong.stderr
