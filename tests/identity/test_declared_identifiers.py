"""An identifier type added in YAML only (issue #19, item 3) is matched on,
listed, masked, exported and erased.

A copy of the project gets the FEBRL benchmark source
(benchmarks/identity/febrl_source: its staging model declares soc_sec_id as
the type `national_id` in `meta.cdp_identity`) and one match rule naming
`national_id`, both YAML apart from the source's own SQL files; nothing in
the product's SQL or Python names the type. A copy of the shared business's
warehouse lands five FEBRL records and rebuilds the identity layer on it.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

from cdp.landing.ingest import ingest
from tests.business import Business
from tests.identity.conftest import IDENTITY_SELECTION, REPO, run_dbt

pytestmark = pytest.mark.slow

FEBRL_SOURCE = REPO / "benchmarks" / "identity" / "febrl_source"
SOURCES_YAML = "models/intermediate/identity/sources/_identity_sources__models.yml"
SOURCE_ENTRY = "models/intermediate/identity/sources/_febrl_source_entry.yml.part"
UNIONED = "models/intermediate/identity/int_identity_records_unioned.sql"
RULES_YAML = "models/intermediate/identity/_identity__match_rules.yml"
CDP = Path(sys.executable).parent / "cdp"

COLUMNS = [
    "rec_id",
    "file",
    "given_name",
    "surname",
    "street_number",
    "address_1",
    "address_2",
    "suburb",
    "postcode",
    "state",
    "date_of_birth",
    "soc_sec_id",
]
# rec-1-org and rec-1-dup-0 share only the national id (typed with and without
# a space): different names, address and birth date, so no shipped rule links them.
PEOPLE = """\
rec-1-org,a,quintessa,vandermolen,12,king st,,sydney,2000,nsw,19800101,1234 567
rec-1-dup-0,a,q,van der molen-ross,4,ocean pde,,bondi,2026,nsw,19810213,1234567
rec-2-org,a,bartholomew,okonkwo,7,hill rd,,perth,6000,wa,19700505,7654321
rec-3-org,a,cordelia,ashworth,9,bay st,,hobart,7000,tas,19900909,
rec-4-org,a,desmond,pilkington,3,main st,,darwin,0800,nt,19650707,5550001
"""
RULE = """            - name: same_national_id
              description: Same national id (declared in YAML on stg_febrl__people).
              conditions:
                - {attribute: national_id, comparison: exact}
"""


@dataclass(frozen=True)
class Declared:
    home: Path  # CDP_HOME: the project copy, profiles.yml, syncs.yml
    work: Path  # dbt target and logs of the identity rebuild
    warehouse: Path
    landing: Path

    def copy_warehouse(self, folder: Path) -> Path:
        folder.mkdir(parents=True)
        return Path(shutil.copy(self.warehouse, folder / self.warehouse.name))


def project_with_febrl(home: Path) -> Path:
    """dbt_project/ plus the FEBRL source files and the national_id rule."""
    project = home / "dbt_project"
    shutil.copytree(
        REPO / "dbt_project",
        project,
        ignore=shutil.ignore_patterns("target", "logs", "dbt_packages"),
    )
    for path in FEBRL_SOURCE.rglob("*"):
        if path.is_file() and not path.name.endswith(".part"):
            target = project / path.relative_to(FEBRL_SOURCE)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, target)
    sources = project / SOURCES_YAML
    entry = (FEBRL_SOURCE / SOURCE_ENTRY).read_text()
    sources.write_text(
        sources.read_text().replace("\nunit_tests:", "\n" + entry + "\nunit_tests:", 1)
    )
    unioned = project / UNIONED
    line = "-- depends_on: {{ ref('int_identity_source__febrl_people') }}\n"
    unioned.write_text(line + unioned.read_text())
    rules = project / RULES_YAML
    anchor = "            - name: email_and_first_name\n"
    assert anchor in rules.read_text()
    rules.write_text(rules.read_text().replace(anchor, RULE + anchor, 1))
    return project


def write_people(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(",".join(COLUMNS) + "\n" + PEOPLE)


@pytest.fixture(scope="module")
def declared(shared_business: Business, tmp_path_factory: pytest.TempPathFactory) -> Declared:
    root = tmp_path_factory.mktemp("declared")
    home = root / "home"
    project = project_with_febrl(home)
    for name in ("profiles.yml", "syncs.yml"):
        shutil.copy(REPO / name, home / name)
    warehouse = shared_business.copy_warehouse(root / "warehouse")
    landing = root / "data" / "landing"
    write_people(landing / "febrl_people" / "people.csv")
    ingest(input_dir=landing, warehouse_path=warehouse, dbt_project_dir=project)
    work = root / "work"
    selection = ["path:models/staging/febrl", *IDENTITY_SELECTION[1:]]
    # The probabilistic models do not read declared types; they keep the shared build's tables.
    probabilistic = ["int_identity_fs_*"]
    probabilistic += ["int_identity_pairs_probabilistic"]
    args = ["run", "--select", *selection, "--exclude", *probabilistic]
    done = run_dbt(work, warehouse, args, project=project)
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]
    return Declared(home, work, warehouse, landing)


def query(
    warehouse: Path, sql: str, params: list[object] | None = None
) -> list[tuple[object, ...]]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


def customer_of(warehouse: Path, record_id: str) -> str:
    rows = query(
        warehouse,
        "select customer_id from marts.customer_source_records "
        "where source_name = 'febrl_people' and source_record_id = ?",
        [record_id],
    )
    assert len(rows) == 1, rows
    return str(rows[0][0])


def test_a_type_declared_in_yaml_is_matched_on_and_listed(declared: Declared) -> None:
    warehouse = declared.warehouse
    assert query(
        warehouse,
        "select source_record_id, identifier_value, source_model, source_column, is_pii "
        "from intermediate.int_identity_identifiers_declared order by 1",
    ) == [
        ("rec-1-dup-0", "1234567", "stg_febrl__people", "soc_sec_id", True),
        ("rec-1-org", "1234567", "stg_febrl__people", "soc_sec_id", True),
        ("rec-2-org", "7654321", "stg_febrl__people", "soc_sec_id", True),
        ("rec-4-org", "5550001", "stg_febrl__people", "soc_sec_id", True),
    ]
    # The preparation carries it as a column the rules read; the empty one stays null.
    assert query(
        warehouse,
        "select record_key, national_id from intermediate.int_identity_records_prepared "
        "where source_name = 'febrl_people' order by 1",
    ) == [
        ("febrl_people:rec-1-dup-0", "1234567"),
        ("febrl_people:rec-1-org", "1234567"),
        ("febrl_people:rec-2-org", "7654321"),
        ("febrl_people:rec-3-org", None),
        ("febrl_people:rec-4-org", "5550001"),
    ]
    assert query(
        warehouse,
        "select left_record_key, right_record_key, rule_name from marts.identity_edges "
        "where left_source_name = 'febrl_people' or right_source_name = 'febrl_people'",
    ) == [("febrl_people:rec-1-dup-0", "febrl_people:rec-1-org", "same_national_id")]
    linked = customer_of(warehouse, "rec-1-org")
    assert customer_of(warehouse, "rec-1-dup-0") == linked
    assert customer_of(warehouse, "rec-2-org") != linked
    assert query(
        warehouse,
        "select customer_id, identifier_value, record_count from marts.customer_identifiers "
        "where identifier_type = 'national_id' order by identifier_value",
    ) == [
        (linked, "1234567", 2),
        (customer_of(warehouse, "rec-4-org"), "5550001", 1),
        (customer_of(warehouse, "rec-2-org"), "7654321", 1),
    ]


def test_a_pii_type_declared_in_yaml_is_masked(declared: Declared, tmp_path: Path) -> None:
    warehouse = declared.copy_warehouse(tmp_path / "warehouse")
    done = run_dbt(
        tmp_path / "work",
        warehouse,
        ["run", "--select", "customer_identifiers", "--vars", "{cdp__mask_pii: true}"],
        project=declared.home / "dbt_project",
    )
    assert done.returncode == 0, done.stdout[-4000:]
    values = query(
        warehouse,
        "select identifier_value from marts.customer_identifiers "
        "where identifier_type = 'national_id' order by 1",
    )
    expected = sorted(
        "masked-" + hashlib.md5(value.encode()).hexdigest()[:12]
        for value in ("1234567", "7654321", "5550001")
    )
    assert [v for (v,) in values] == expected


def _cdp(declared: Declared, warehouse: Path, data: Path, *args: str) -> str:
    env = {
        **os.environ,
        "CDP_HOME": str(declared.home),
        "CDP_DUCKDB_PATH": str(warehouse),
        "CDP_DATA_DIR": str(data),
        "CDP_TARGET": "duckdb",
        "DBT_TARGET_PATH": str(declared.work / "target"),  # the manifest with the declaration
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }
    env.pop("CDP_DBT_MANIFEST", None)
    done = subprocess.run(
        [str(CDP), *args], env=env, capture_output=True, text=True, timeout=600, check=False
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
    return done.stdout


def test_a_source_declared_in_yaml_is_exported_and_erased(
    declared: Declared, tmp_path: Path
) -> None:
    warehouse = declared.copy_warehouse(tmp_path / "warehouse")
    data = tmp_path / "data"
    shutil.copytree(declared.landing, data / "landing")
    customer = customer_of(warehouse, "rec-1-org")
    out = tmp_path / "export.json"

    _cdp(
        declared, warehouse, data, "privacy", "export", "--customer-id", customer, "--out", str(out)
    )
    exported = json.loads(out.read_text())
    assert {
        (row["identifier_type"], row["identifier_value"]) for row in exported["identifiers"]
    } == {("national_id", "1234567")}
    assert sorted(row["rec_id"] for row in exported["raw_rows"]["febrl_people"]) == [
        "rec-1-dup-0",
        "rec-1-org",
    ]

    _cdp(
        declared,
        warehouse,
        data,
        "privacy",
        "erase",
        "--customer-id",
        customer,
        "--no-build",
        "--no-sync",
    )
    assert query(warehouse, "select rec_id from raw.febrl_people order by 1") == [
        ("rec-2-org",),
        ("rec-3-org",),
        ("rec-4-org",),
    ]
    assert query(
        warehouse,
        "select count(*) from marts.customer_identifiers where identifier_value = '1234567'",
    ) == [(0,)]

    # Restored from the archive: the table and its landing record emptied, the
    # original file lands again; the erased records stay out.
    with duckdb.connect(str(warehouse)) as con:
        con.execute("delete from raw.febrl_people")
        con.execute("delete from raw._landed_files where table_name = 'febrl_people'")
    landed = _cdp(declared, warehouse, data, "ingest")
    assert "2 row(s) of erased people not landed" in landed, landed
    assert query(warehouse, "select rec_id from raw.febrl_people order by 1") == [
        ("rec-2-org",),
        ("rec-3-org",),
        ("rec-4-org",),
    ]


def test_a_malformed_declaration_stops_the_build_naming_the_field(tmp_path: Path) -> None:
    project = project_with_febrl(tmp_path / "home")
    models = project / "models/staging/febrl/_febrl__models.yml"
    text = models.read_text()
    assert "type: national_id" in text
    models.write_text(text.replace("type: national_id", "type: National ID"))
    done = run_dbt(
        tmp_path / "work",
        tmp_path / "scratch.duckdb",
        ["compile", "--select", "int_identity_identifiers_declared"],
        project=project,
    )
    assert done.returncode != 0
    assert (
        "identity declaration of model 'stg_febrl__people', field 'identifiers[0].type': "
        "snake_case name required, got 'National ID'"
    ) in done.stdout
