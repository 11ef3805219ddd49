"""The `cdp` command as a user meets it: help, errors, and the whole run end to end."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from tests.conftest import REPO, run_cdp

COMMANDS = ["generate", "ingest", "build", "run", "summary", "freshness", "docs"]


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_explains_itself(command: str, cdp_env: dict[str, str]) -> None:
    result = run_cdp([command, "--help"], cdp_env)
    assert result.returncode == 0, result.stderr
    assert f"Usage: cdp {command}" in result.stdout
    # The first line of the help text is a real sentence, not an empty docstring.
    body = result.stdout.split("\n\n")[1].strip()
    assert len(body.split()) >= 5


def test_missing_input_folder_is_one_line_and_writes_nothing(
    cdp_env: dict[str, str], tmp_path: Path
) -> None:
    missing = tmp_path / "no" / "such" / "folder"
    result = run_cdp(["ingest", "--input", str(missing)], cdp_env)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert str(missing) in lines[0]
    assert not Path(cdp_env["CDP_DUCKDB_PATH"]).exists()


def _raw_counts(warehouse: Path) -> dict[str, int]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        tables = [
            name
            for (name,) in con.execute(
                "select table_name from information_schema.tables "
                "where table_schema = 'raw' and table_name not like '\\_%' escape '\\'"
            ).fetchall()
        ]
        return {t: con.execute(f"select count(*) from raw.{t}").fetchone()[0] for t in tables}


def _rejects_by_file(warehouse: Path) -> dict[str, int]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return dict(
            con.execute(
                "select source_file, count(*) from raw._rejects group by source_file"
            ).fetchall()
        )


def _ports_free(first: int, count: int) -> bool:
    for port in range(first, first + count):
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return False
    return True


def _synced(warehouse: Path) -> dict[str, set[str]]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        rows = con.execute("select sync_name, key from reverse_etl.sync_state").fetchall()
    synced: dict[str, set[str]] = {}
    for name, key in rows:
        synced.setdefault(name, set()).add(key)
    return synced


# What a second `cdp run` on the same files may change in the tables it builds: the
# run's own stamps and what the identity layer carries over from the run before.
RERUN_COLUMNS = {
    "intermediate.int_identity_clusters": {"iterations"},  # warm start from the last ids
    "intermediate.int_identity_clusters_strong": {"iterations"},
    "intermediate.int_identity_customer_ids": {
        "previous_customer_id",  # the last run's id: none after the first run
        "assigned_in_run_id",
        "assigned_at",
    },
    "intermediate.int_identity_fs_parameters": {"trained_at"},  # when this run trained
    "marts.customer_change_set__state": {"build_id", "built_at"},
    "marts.segment_membership_changes": {"run_id"},
}


FLOAT_TYPES = {"DOUBLE", "FLOAT", "REAL"}


def _tables_changed(before: Path, after: Path) -> dict[str, int]:
    """Every table of `after` (the sync engine's run history aside) compared row for
    row with the same table in `before`, leaving out RERUN_COLUMNS: table -> rows that
    differ, for the tables that differ or are new."""
    changed: dict[str, int] = {}
    with duckdb.connect(str(after), read_only=True) as con:
        con.execute(f"attach '{before}' as first_run (read_only)")
        catalog = con.execute("select current_database()").fetchone()[0]
        tables = con.execute(
            "select table_schema, table_name from information_schema.tables "
            "where table_catalog = ? and table_type = 'BASE TABLE' "
            "and table_schema <> 'reverse_etl' order by 1, 2",
            [catalog],
        ).fetchall()
        old = {
            (s, t)
            for s, t in con.execute(
                "select table_schema, table_name from information_schema.tables "
                "where table_catalog = 'first_run'"
            ).fetchall()
        }
        for schema, table in tables:
            name = f"{schema}.{table}"
            if (schema, table) not in old:
                changed[name] = -1
                continue
            # Floating-point columns at 12 significant digits: DuckDB's parallel sums
            # and averages add in no fixed order, so their last bits differ run to run
            # (a rerun's Brier score was 0.10352159249210588 against ...595).
            columns = ", ".join(
                f"printf('%.12g', \"{column}\")" if kind in FLOAT_TYPES else f'"{column}"'
                for column, kind in con.execute(
                    "select column_name, data_type from information_schema.columns where "
                    "table_catalog = ? and table_schema = ? and table_name = ? "
                    "order by ordinal_position",
                    [catalog, schema, table],
                ).fetchall()
                if column not in RERUN_COLUMNS.get(name, set())
            )
            differ = 0
            for left, right in ((catalog, "first_run"), ("first_run", catalog)):
                (rows,) = con.execute(
                    f'select count(*) from (select {columns} from {left}."{schema}"."{table}" '
                    f'except all select {columns} from {right}."{schema}"."{table}")'
                ).fetchone()
                differ += rows
            if differ:
                changed[name] = differ
    return changed


DEMO_PORTS = (8701, 8702, 8703)  # the demo destinations' default ports, named in syncs.yml


def _demo_ports_elsewhere(env: dict[str, str], folder: Path) -> None:
    """Point the demo destinations (CDP_DEMO_PORT_BASE) and a copy of syncs.yml at three
    free ports, so that the run neither needs 8701-8703 nor meets another run there."""
    for base in range(40000 + os.getpid() % 20000, 65000, 3):
        if _ports_free(base, 3):
            break
    text = (REPO / "syncs.yml").read_text(encoding="utf-8")
    for offset, port in enumerate(DEMO_PORTS):
        assert f"127.0.0.1:{port}" in text
        text = text.replace(f"127.0.0.1:{port}", f"127.0.0.1:{base + offset}")
    (folder / "syncs.yml").write_text(text, encoding="utf-8")
    env["CDP_SYNCS_PATH"] = str(folder / "syncs.yml")
    env["CDP_DEMO_PORT_BASE"] = str(base)


@pytest.mark.slow
def test_run_end_to_end_twice(cdp_env: dict[str, str], tmp_path: Path) -> None:
    _demo_ports_elsewhere(cdp_env, tmp_path)
    demo_run = ["run", "--customers", "400", "--demo-destinations"]
    # The first run runs every data test on its 400 people, but not dbt's unit
    # tests: they check the SQL on their own inline rows, whatever the data, and
    # the shared business's build (tests/business.py) runs every one of them.
    first = run_cdp(demo_run, cdp_env | {"DBT_EXCLUDE_RESOURCE_TYPES": "unit_test"})
    assert first.returncode == 0, first.stdout[-4000:] + first.stderr[-4000:]
    assert "Raw landing" in first.stdout
    assert "Staging models" in first.stdout

    warehouse = Path(cdp_env["CDP_DUCKDB_PATH"])
    data_dir = Path(cdp_env["CDP_DATA_DIR"])
    manifest = json.loads((data_dir / "manifest.json").read_text())
    counts = _raw_counts(warehouse)
    rejects = _rejects_by_file(warehouse)

    # Every generated row is accounted for: landed or rejected, per table,
    # and the rejected ones are exactly the rows the generator broke on purpose.
    written: dict[str, int] = {}
    malformed: dict[str, int] = {}
    for entry in manifest["files"]:
        written[entry["table"]] = written.get(entry["table"], 0) + entry["rows"]
        if entry["malformed"]:
            malformed[entry["path"]] = len(entry["malformed"])
    for table, rows in written.items():
        table_rejects = sum(n for path, n in rejects.items() if path.split("/")[0] == table)
        assert counts[table] + table_rejects == rows, table
    assert sum(malformed.values()) > 0
    # Manifest paths are relative to the data folder, reject paths to the landing folder.
    assert {f"landing/{path}" for path in rejects} == set(malformed)

    # The example syncs in syncs.yml reached the demo destinations, and only with
    # consent: every customer the destinations acknowledged may get marketing
    # email and sits in the segment the sync reads.
    assert "== sync" in first.stdout and "Rows synced" in first.stdout
    synced = _synced(warehouse)
    assert set(synced) == {
        "email_retention_offer",
        "email_reactivation",
        "email_vip_events",
        "segment_journeys",  # the trigger: keys are event ids <date>:<segment>:<customer>:<change>
    }
    with duckdb.connect(str(warehouse), read_only=True) as con:
        eligible = {
            c
            for (c,) in con.execute(
                "select customer_id from marts.customer_consent_eligibility "
                "where is_email_marketing_eligible"
            ).fetchall()
        }
        churn_risk = {
            c
            for (c,) in con.execute(
                "select customer_id from marts.segment_high_value_churn_risk"
            ).fetchall()
        }
    assert sum(map(len, synced.values())) > 0
    for name, keys in synced.items():
        customers = {k.split(":")[2] for k in keys} if name == "segment_journeys" else keys
        assert customers <= eligible
    assert synced["email_retention_offer"] <= churn_risk

    # The second run lands nothing new (same raw row counts), builds the same tables
    # and sends nothing. It leaves out dbt's tests (unit and data tests, about
    # four fifths of a build's dbt nodes): the first run ran every one of them on
    # the same SQL, and every table the second run builds is compared with the
    # first run's row for row below, so its rows pass the same data tests.
    first_run = tmp_path / "first_run" / warehouse.name
    first_run.parent.mkdir()
    shutil.copy(warehouse, first_run)
    second = run_cdp(demo_run, cdp_env | {"DBT_EXCLUDE_RESOURCE_TYPES": "unit_test test"})
    assert second.returncode == 0, second.stdout[-4000:] + second.stderr[-4000:]
    assert " START test " not in second.stdout, "the second run ran dbt's tests"
    assert _tables_changed(first_run, warehouse) == {}
    assert _raw_counts(warehouse) == counts
    assert _rejects_by_file(warehouse) == rejects
    assert _synced(warehouse) == synced
    # every sync and trigger of syncs.yml ran and sent nothing
    assert len(synced) == 4
    assert second.stdout.count(" 0 rows sent in 0 requests") == len(synced), second.stdout[-3000:]


def test_sync_defaults_to_the_home_warehouse_and_syncs_file(tmp_path: Path) -> None:
    """`cdp sync --plan` with no path options and no path variables reads
    <home>/syncs.yml and <home>/warehouse/cdp.duckdb."""
    home = tmp_path / "home"
    (home / "warehouse").mkdir(parents=True)
    with duckdb.connect(str(home / "warehouse" / "cdp.duckdb")) as con:
        con.execute("create schema marts")
        con.execute(
            "create table marts.audience as select 1 as customer_id, 'a@b.example' as email"
        )
    (home / "syncs.yml").write_text(
        "syncs:\n"
        "  - name: to_hook\n"
        "    source: marts.audience\n"
        "    primary_key: customer_id\n"
        "    mode: upsert\n"
        "    destination: {type: webhook, url: 'http://127.0.0.1:9/x', "
        "signing_secret_env: CDP_TEST_UNUSED_SECRET}\n"
        "    fields: {email: {source: email, type: email}}\n",
        encoding="utf-8",
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("CDP_")}
    env["CDP_HOME"] = str(home)
    result = run_cdp(["sync", "--plan"], env)
    assert result.returncode == 0, result.stderr
    assert "sync to_hook (upsert -> webhook) from marts.audience: 1 source rows" in result.stdout
    assert "  add              1  e.g. keys 1" in result.stdout


# -- the demo package (demo/, cdp_demo) stays out of the product --------------------------

DEMO_SECRET_NAMES = {
    "CDP_DEMO_MAILCHIMP_API_KEY",
    "CDP_DEMO_HUBSPOT_TOKEN",
    "CDP_DEMO_WEBHOOK_SECRET",
}

PRODUCT_LOAD = """
import json, os, sys
from pathlib import Path
from cdp.cli import main
from orchestration.defs.assets.syncs import build_sync_assets

main(["sync", "--help"], standalone_mode=False)  # the group callback runs, then the help
assets = build_sync_assets({}, Path(sys.argv[1]))  # what Dagster does at load
print(json.dumps({
    "assets": len(assets),
    "secrets": sorted(k for k in os.environ if k in sys.argv[2].split(",")),
    "demo_modules": sorted(m for m in sys.modules if m.split(".")[0] == "cdp_demo"),
}))
"""


def _python(code: str, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )


def test_product_commands_and_dagster_load_set_no_demo_secrets(cdp_env: dict[str, str]) -> None:
    env = {k: v for k, v in cdp_env.items() if k not in DEMO_SECRET_NAMES}
    result = _python(PRODUCT_LOAD, str(REPO / "syncs.yml"), ",".join(DEMO_SECRET_NAMES), env=env)
    assert result.returncode == 0, result.stderr
    loaded = json.loads(result.stdout.strip().splitlines()[-1])
    assert loaded["assets"] == 3  # the example syncs are defined...
    assert loaded["secrets"] == []  # ...without putting the demo's secrets anywhere
    assert loaded["demo_modules"] == []


def test_demo_destinations_print_env_exports_the_demo_secrets(cdp_env: dict[str, str]) -> None:
    env = {k: v for k, v in cdp_env.items() if k not in DEMO_SECRET_NAMES}
    env["CDP_DEMO_WEBHOOK_SECRET"] = "mine, with 'quotes'"  # a value already set is kept
    result = run_cdp(["demo-destinations", "--print-env"], env)
    assert result.returncode == 0, result.stderr
    # What `make dev` does with it: eval in a shell, then start a process that syncs.
    shell = subprocess.run(
        ["sh", "-c", 'eval "$1"; env', "sh", result.stdout],
        env={"PATH": os.environ["PATH"]},
        capture_output=True,
        text=True,
        check=True,
    )
    exported = dict(line.split("=", 1) for line in shell.stdout.splitlines() if "=" in line)
    assert set(exported) >= DEMO_SECRET_NAMES
    assert exported["CDP_DEMO_WEBHOOK_SECRET"] == "mine, with 'quotes'"
    assert exported["CDP_DEMO_HUBSPOT_TOKEN"].startswith("pat-na1-")


WITHOUT_DEMO = """
import sys
sys.modules["cdp_demo"] = None  # as if demo/ were not installed
from cdp.cli import main
main(sys.argv[1:])
"""


@pytest.mark.parametrize(
    "args",
    [
        ["generate", "--customers", "10"],
        ["run", "--customers", "10", "--demo-destinations"],
        ["demo-destinations"],
    ],
)
def test_demo_commands_without_the_demo_package_name_the_install(
    args: list[str], cdp_env: dict[str, str]
) -> None:
    result = _python(WITHOUT_DEMO, *args, env=cdp_env)
    assert result.returncode == 2, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "pip install -e ./demo" in lines[0]
    assert not Path(cdp_env["CDP_DATA_DIR"]).exists()
