"""The sample-data generator: contract with the sources YAML, determinism, truth, mess, signal."""

from __future__ import annotations

import collections
import csv
import hashlib
import json
import re
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
import yaml
from cdp_demo.sample_data import GenerationResult, generate
from cdp_demo.sample_data.locales import PLACEHOLDER_EMAILS
from cdp_demo.sample_data.names import NICKNAMES, is_greek
from cdp_demo.sample_data.people import canonical_email
from cdp_demo.sample_data.tables import PERSON_KEYS, TABLES, Table

from cdp.serve.events import COLUMNS as COLLECTOR_COLUMNS

REPO = Path(__file__).resolve().parent.parent
SOURCES = sorted((REPO / "dbt_project" / "models" / "staging").glob("*/_*__sources.yml"))
PEOPLE = 700
SEED = 7
END = date(2026, 6, 30)


# --- fixtures and readers ------------------------------------------------------------


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> GenerationResult:
    messages: list[str] = []
    result = generate(
        tmp_path_factory.mktemp("run") / "data",
        customers=PEOPLE,
        seed=SEED,
        end_date=END,
        malformed_rate=0.002,
        progress=messages.append,
    )
    assert any("chunk 1/1" in m for m in messages)
    assert any(m.startswith("web_events:") for m in messages)
    return result


@pytest.fixture(scope="module")
def manifest(run: GenerationResult) -> dict[str, Any]:
    return json.loads(run.manifest_path.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def broken(manifest: dict[str, Any]) -> dict[str, dict[int, dict[str, Any]]]:
    """Recorded malformed rows: path -> line -> entry."""
    return {f["path"]: {m["line"]: m for m in f["malformed"]} for f in manifest["files"]}


def physical_lines(path: Path) -> list[str]:
    text = path.read_bytes().decode("utf-8")
    if text.startswith("\ufeff"):
        text = text[1:]
    newline = "\r\n" if "\r\n" in text else "\n"
    assert text.endswith(newline)
    return text[: -len(newline)].split(newline)


def parse_csv_line(line: str, strict: bool = False) -> list[str]:
    return next(csv.reader([line], strict=strict))


def rows(run: GenerationResult, table: str, broken: dict) -> Iterator[dict[str, Any]]:
    """Every well-formed row of a table across its files, as dicts of raw values."""
    spec = TABLES[table]
    for f in run.files:
        if f.table != table:
            continue
        path = run.out_dir / f.path
        bad = broken.get(f.path, {})
        if spec.format == "parquet":
            yield from pq.read_table(path).to_pylist()
        elif spec.format == "csv":
            lines = physical_lines(path)
            for number, line in enumerate(lines[1:], start=2):
                if number not in bad:
                    yield dict(zip(spec.column_names, parse_csv_line(line), strict=True))
        else:
            for number, line in enumerate(physical_lines(path), start=1):
                if number not in bad:
                    yield json.loads(line)


def truth(run: GenerationResult) -> list[dict[str, str]]:
    with (run.ground_truth_dir / "record_persons.csv").open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def persons(run: GenerationResult) -> dict[str, dict[str, str]]:
    with (run.ground_truth_dir / "persons.csv").open(encoding="utf-8") as fh:
        return {row["person_id"]: row for row in csv.DictReader(fh)}


def owner(run: GenerationResult) -> dict[tuple[str, str], str]:
    return {(t["source_table"], t["source_record_id"]): t["person_id"] for t in truth(run)}


def text_fits(value: str, data_type: str) -> bool:
    """Whether a CSV/JSON text value casts to the declared type."""
    try:
        if data_type in ("bigint", "integer"):
            return re.fullmatch(r"-?\d+", value) is not None
        if data_type.startswith("decimal"):
            return re.fullmatch(r"-?\d+\.\d{2}", value) is not None
        if data_type == "timestamp":
            datetime.strptime(value, "%Y-%m-%dT%H:%M:%S")
            return len(value) == 19
        if data_type == "date":
            date.fromisoformat(value)
            return re.fullmatch(r"\d{4}-\d{2}-\d{2}", value) is not None
        if data_type == "boolean":
            return value in ("true", "false")
    except (ValueError, TypeError):
        return False
    return isinstance(value, str)


def digits(value: str) -> str:
    return re.sub(r"\D", "", value)


# --- the contract with the sources YAML ----------------------------------------------


def test_tables_match_the_sources_yaml() -> None:
    declared: dict[str, dict[str, Any]] = {}
    for path in SOURCES:
        for source in yaml.safe_load(path.read_text(encoding="utf-8"))["sources"]:
            if source.get("schema") != "raw":
                continue  # e.g. predictions: written by the scoring step, not landed
            for table in source["tables"]:
                declared[table["name"]] = table
    assert set(declared) == set(TABLES)
    for name, spec in TABLES.items():
        yaml_table = declared[name]
        landing = yaml_table["meta"]["landing"]
        assert spec.format == landing["format"], name
        assert tuple(landing["required"]) == spec.required, name
        declared_columns = [(c["name"], c["data_type"]) for c in yaml_table["columns"]]
        generated = [(c.name, c.data_type) for c in spec.columns]
        if name == "web_events":
            # The collector (`cdp serve`) also fills columns the exported files do not
            # carry; they follow the files' columns, and it writes every declared one.
            assert declared_columns[: len(generated)] == generated, name
            assert {n for n, _ in declared_columns} == set(COLLECTOR_COLUMNS), name
        else:
            assert declared_columns == generated, name


def test_files_are_named_and_split_as_specified(run: GenerationResult) -> None:
    by_table = collections.defaultdict(list)
    for f in run.files:
        path = Path(f.path)
        assert path.parts[0] == "landing" and path.parts[1] == f.table
        assert path.name.startswith(f"{f.table}__") and path.suffix == f".{TABLES[f.table].format}"
        by_table[f.table].append(path.stem.split("__", 1)[1])
    assert set(by_table) == set(TABLES)
    for name, parts in by_table.items():
        if TABLES[name].layout == "monthly":
            assert len(parts) >= 30 and all(re.fullmatch(r"\d{4}-\d{2}", p) for p in parts)
        else:
            assert "initial" in parts
            assert sum(p.startswith("delta-") for p in parts) >= 1


def test_every_file_has_the_declared_columns(run: GenerationResult, broken: dict) -> None:
    for f in run.files:
        spec = TABLES[f.table]
        path = run.out_dir / f.path
        if spec.format == "csv":
            assert parse_csv_line(physical_lines(path)[0]) == list(spec.column_names)
        elif spec.format == "parquet":
            schema = pq.read_schema(path)
            assert schema.names == list(spec.column_names)
            expected = {
                "varchar": "string",
                "bigint": "int64",
                "integer": "int32",
                "boolean": "bool",
                "timestamp": "timestamp[us]",
                "date": "date32[day]",
                "decimal(12,2)": "decimal128(12, 2)",
            }
            assert [str(t) for t in schema.types] == [expected[c.data_type] for c in spec.columns]
        else:
            bad = broken.get(f.path, {})
            for number, line in enumerate(physical_lines(path), start=1):
                if number not in bad:
                    assert list(json.loads(line)) == list(spec.column_names)


@pytest.mark.parametrize("table", sorted(TABLES))
def test_values_cast_and_required_columns_are_filled(
    run: GenerationResult, broken: dict, table: str
) -> None:
    spec = TABLES[table]
    count = 0
    for row in rows(run, table, broken):
        count += 1
        for column in spec.columns:
            value = row[column.name]
            if column.name in spec.required:
                assert value not in (None, ""), (table, column.name, row)
            if value in (None, "") or spec.format == "parquet":
                continue
            if column.data_type == "json":
                assert isinstance(value, dict), (table, column.name, value)
            else:
                assert isinstance(value, str) and text_fits(value, column.data_type), (
                    table,
                    column.name,
                    value,
                )
                assert "\n" not in value and "\r" not in value
    assert count > 0


# --- determinism, manifest, malformed rows -------------------------------------------


def _hashes(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_same_seed_gives_identical_files_and_another_seed_does_not(tmp_path: Path) -> None:
    def run_with(seed: int, folder: str) -> dict[str, str]:
        result = generate(tmp_path / folder, customers=300, seed=seed, malformed_rate=0.01)
        return _hashes(result.out_dir)

    first = run_with(5, "first")
    assert run_with(5, "again") == first
    other = run_with(6, "other")
    shared = set(first) & set(other)
    assert len(shared) > 50
    assert all(first[p] != other[p] for p in shared if "landing" in p)


def test_rerun_into_the_same_folder_replaces_the_files(tmp_path: Path) -> None:
    first = generate(tmp_path / "data", customers=150, seed=3)
    before = _hashes(first.out_dir)
    generate(tmp_path / "data", customers=150, seed=3)
    assert _hashes(first.out_dir) == before


def test_manifest_counts_equal_the_rows_in_the_files(
    run: GenerationResult, manifest: dict[str, Any]
) -> None:
    assert manifest["seed"] == SEED and manifest["customers"] == PEOPLE
    assert manifest["end_date"] == END.isoformat() and manifest["generator_version"]
    for entry in manifest["files"]:
        path = run.out_dir / entry["path"]
        if entry["format"] == "parquet":
            actual = pq.ParquetFile(path).metadata.num_rows
        elif entry["format"] == "csv":
            actual = len(physical_lines(path)) - 1
        else:
            actual = len(physical_lines(path))
        assert actual == entry["rows"], entry["path"]
    totals = collections.Counter()
    for entry in manifest["files"]:
        totals[entry["table"]] += entry["rows"]
    assert dict(totals) == manifest["tables"] == dict(run.table_rows)
    assert run.malformed_count == sum(len(e["malformed"]) for e in manifest["files"])
    assert sorted(run.paths) == sorted(run.out_dir / e["path"] for e in manifest["files"])
    assert f"{PEOPLE:,} people" in run.describe()


def test_recorded_malformed_lines_really_are_malformed(
    run: GenerationResult, manifest: dict[str, Any]
) -> None:
    kinds = collections.Counter()
    for entry in manifest["files"]:
        if not entry["malformed"]:
            continue
        assert entry["format"] in ("csv", "jsonl")
        spec: Table = TABLES[entry["table"]]
        lines = physical_lines(run.out_dir / entry["path"])
        for bad in entry["malformed"]:
            kinds[bad["kind"]] += 1
            line = lines[bad["line"] - 1]
            if entry["format"] == "jsonl":
                if bad["kind"] == "invalid_json":
                    with pytest.raises(json.JSONDecodeError):
                        json.loads(line)
                else:
                    value = json.loads(line)[bad["column"]]
                    column = spec.columns[spec.column_names.index(bad["column"])]
                    assert not text_fits(value, column.data_type)
                continue
            if bad["kind"] == "broken_quote":
                with pytest.raises(csv.Error):
                    parse_csv_line(line, strict=True)
                continue
            fields = parse_csv_line(line)
            if bad["kind"] == "missing_column":
                assert len(fields) < len(spec.columns)
            elif bad["kind"] == "extra_column":
                assert len(fields) > len(spec.columns)
            else:
                assert len(fields) == len(spec.columns)
                column = spec.columns[spec.column_names.index(bad["column"])]
                assert not text_fits(
                    fields[spec.column_names.index(bad["column"])], column.data_type
                )
    assert {"broken_quote", "wrong_type", "missing_column", "extra_column", "invalid_json"} <= set(
        kinds
    )


def test_malformed_rate_zero_writes_no_broken_rows(tmp_path: Path) -> None:
    result = generate(tmp_path / "clean", customers=200, seed=11, malformed_rate=0)
    assert result.malformed_count == 0


def test_activity_scales_events_and_keeps_the_people(tmp_path: Path) -> None:
    full = generate(tmp_path / "full", customers=400, seed=13, activity=1.0)
    quiet = generate(tmp_path / "quiet", customers=400, seed=13, activity=0.2)
    persons = "ground_truth/persons.csv"
    assert (quiet.out_dir / persons).read_bytes() == (full.out_dir / persons).read_bytes()
    for table in ("web_events", "email_events", "shop_orders", "store_transactions"):
        assert 0 < quiet.table_rows[table] < 0.4 * full.table_rows[table], table
    full_manifest = json.loads(full.manifest_path.read_text(encoding="utf-8"))
    quiet_manifest = json.loads(quiet.manifest_path.read_text(encoding="utf-8"))
    assert "activity" not in full_manifest
    assert quiet_manifest["activity"] == 0.2
    with pytest.raises(ValueError, match="activity"):
        generate(tmp_path / "none", customers=10, activity=0)


def test_one_crm_file_comes_from_excel(run: GenerationResult) -> None:
    crm = [run.out_dir / f.path for f in run.files if f.table == "crm_contacts"]
    excel = [p for p in crm if p.read_bytes().startswith(b"\xef\xbb\xbf")]
    assert len(excel) == 1
    data = excel[0].read_bytes()
    assert data.count(b"\r\n") == data.count(b"\n")
    assert all(b"\r\n" not in p.read_bytes() for p in crm if p not in excel)


# --- ground truth --------------------------------------------------------------------


def test_ground_truth_covers_every_person_record(
    run: GenerationResult, broken: dict, manifest: dict[str, Any]
) -> None:
    known = collections.defaultdict(set)
    for t in truth(run):
        known[t["source_table"]].add(t["source_record_id"])
    assert set(known) == set(PERSON_KEYS)
    people = persons(run)
    assert len(people) == PEOPLE
    assert {t["person_id"] for t in truth(run)} <= set(people)
    broken_rows = collections.Counter()
    for entry in manifest["files"]:
        broken_rows[entry["table"]] += len(entry["malformed"])
    for table, key in PERSON_KEYS.items():
        seen = {str(row[key]) for row in rows(run, table, broken) if row[key] not in (None, "")}
        assert seen <= known[table], table
        # A record whose only row was broken on purpose may be missing from the readable rows.
        assert len(known[table] - seen) <= broken_rows[table], table


def test_raw_files_carry_no_ground_truth_ids(run: GenerationResult) -> None:
    people = persons(run)
    pattern = re.compile(r"\b[PH]\d{8}\b")
    some_person, some_household = (
        next(iter(people.values()))["person_id"],
        next(iter(people.values()))["household_id"],
    )
    assert pattern.fullmatch(some_person) and pattern.fullmatch(some_household)
    for f in run.files:
        path = run.out_dir / f.path
        if f.format == "parquet":
            text = json.dumps(pq.read_table(path).to_pylist(), default=str)
        else:
            text = path.read_text(encoding="utf-8-sig")
        assert not pattern.search(text), f.path


# --- messiness -----------------------------------------------------------------------


def _phones_by_person(run: GenerationResult, broken: dict) -> dict[str, set[str]]:
    who = owner(run)
    out: dict[str, set[str]] = collections.defaultdict(set)
    fields = {
        "shop_customers": ("customer_id", ("phone",)),
        "crm_contacts": ("contact_id", ("phone", "mobile_phone")),
        "loyalty_members": ("loyalty_number", ("phone",)),
        "email_subscribers": ("subscriber_id", ("phone",)),
        "support_tickets": ("ticket_id", ("requester_phone",)),
    }
    for table, (key, columns) in fields.items():
        for row in rows(run, table, broken):
            person = who.get((table, str(row[key])))
            for column in columns:
                if person and row[column]:
                    out[person].add(row[column])
    return out


def test_one_true_number_is_written_many_ways(run: GenerationResult, broken: dict) -> None:
    people = persons(run)
    best = 0
    shapes = set()
    for person, phones in _phones_by_person(run, broken).items():
        true = digits(people[person]["phone_e164"])
        same = {p for p in phones if len(digits(p)) >= 7 and true.endswith(digits(p)[-7:])}
        best = max(best, len(same))
        shapes |= {re.sub(r"\d", "9", p) for p in same}
    assert best >= 4
    assert len(shapes) >= 12


def test_emails_have_case_gmail_variants_and_shared_placeholders(
    run: GenerationResult, broken: dict
) -> None:
    who = owner(run)
    people = persons(run)
    columns = {
        "shop_customers": ("customer_id", "email"),
        "crm_contacts": ("contact_id", "email"),
        "loyalty_members": ("loyalty_number", "email"),
        "email_subscribers": ("subscriber_id", "email_address"),
        "support_tickets": ("ticket_id", "requester_email"),
        "shop_orders": ("order_id", "email"),
    }
    persons_by_email = collections.defaultdict(set)
    raw_emails = []
    for table, (key, column) in columns.items():
        for row in rows(run, table, broken):
            if row[column]:
                raw_emails.append((row[column], who[(table, str(row[key]))]))
                persons_by_email[row[column].strip().lower()].add(who[(table, str(row[key]))])
    plus_tagged = [e for e, _ in raw_emails if re.search(r"\+[a-z0-9]+@", e.lower())]
    assert plus_tagged
    dotted = [
        e
        for e, p in raw_emails
        if e.lower().endswith("@gmail.com")
        and e.lower() != people[p]["email"]
        and canonical_email(e) == canonical_email(people[p]["email"])
        and "+" not in e
    ]
    assert dotted, "no gmail dot variant of a true address"
    assert any(e != e.strip() for e, _ in raw_emails)
    assert any(e != e.lower() for e, _ in raw_emails)
    assert any("@" not in e or e.endswith(".") for e, _ in raw_emails)
    shared = [e for e, ps in persons_by_email.items() if len(ps) >= 3]
    assert shared and all(e in {x.lower() for x in PLACEHOLDER_EMAILS} for e in shared)
    by_email = collections.defaultdict(list)
    for p in people.values():
        by_email[p["email"]].append(p)
    households = [ps for ps in by_email.values() if len(ps) > 1]
    assert households and all(len({p["household_id"] for p in ps}) == 1 for ps in households)


def test_names_are_international_and_messy(run: GenerationResult, broken: dict) -> None:
    people = persons(run)
    who = owner(run)
    assert any(is_greek(p["first_name"]) for p in people.values())
    assert any(ch in p["last_name"] for p in people.values() for ch in "łśżŁŚŻ")
    assert any(ch in p["first_name"] + p["last_name"] for p in people.values() for ch in "øåæØÅÆ")
    nicknames = typos_or_case = greek_latin = 0
    for table, key in (("shop_customers", "customer_id"), ("crm_contacts", "contact_id")):
        for row in rows(run, table, broken):
            true = people[who[(table, str(row[key]))]]
            first = (row["first_name"] or "").strip()
            if first in NICKNAMES.get(true["first_name"], ()):
                if is_greek(true["first_name"]):
                    greek_latin += 1
                else:
                    nicknames += 1
            elif first and first != true["first_name"]:
                typos_or_case += 1
    assert nicknames and typos_or_case and greek_latin


def test_systems_hold_duplicates_and_updates(run: GenerationResult, broken: dict) -> None:
    per_person = collections.defaultdict(lambda: collections.defaultdict(set))
    for t in truth(run):
        per_person[t["source_table"]][t["person_id"]].add(t["source_record_id"])
    for table in ("shop_customers", "crm_contacts"):
        assert any(len(ids) > 1 for ids in per_person[table].values()), table
    for table, key, stamp in (
        ("shop_customers", "customer_id", "updated_at"),
        ("crm_contacts", "contact_id", "last_modified_at"),
        ("loyalty_members", "loyalty_number", "updated_at"),
        ("email_subscribers", "subscriber_id", "updated_at"),
    ):
        versions = collections.defaultdict(set)
        for row in rows(run, table, broken):
            versions[row[key]].add(row[stamp])
        assert any(len(v) > 1 for v in versions.values()), table


def test_crm_types_countries_and_birthdates_freely(run: GenerationResult, broken: dict) -> None:
    crm = list(rows(run, "crm_contacts", broken))
    assert len({r["mailing_country"] for r in crm}) >= 12
    shapes = {re.sub(r"\d", "9", re.sub(r"[A-Za-z]{3}", "Mon", r["birthdate"])) for r in crm}
    assert {"9999-99-99", "99/99/9999", "99.99.9999"} <= shapes


def test_placeholder_contact_details_are_never_the_only_link(
    run: GenerationResult, broken: dict
) -> None:
    placeholders = {e.lower() for e in PLACEHOLDER_EMAILS}
    for table in ("crm_contacts", "loyalty_members"):
        with_placeholder = [
            r for r in rows(run, table, broken) if (r["email"] or "").lower() in placeholders
        ]
        assert with_placeholder, table
        assert all(r["last_name"] and r["first_name"] for r in with_placeholder)


# --- behaviour -----------------------------------------------------------------------


def test_churned_people_stop_buying(run: GenerationResult, broken: dict) -> None:
    people = persons(run)
    who = owner(run)
    churned = {p: v["churn_date"] for p, v in people.items() if v["churn_date"]}
    assert churned
    for row in rows(run, "shop_orders", broken):
        person = who[("shop_orders", row["order_id"])]
        if person in churned:
            assert row["ordered_at"][:10] <= churned[person]


def test_engaged_people_open_more_email(run: GenerationResult, broken: dict) -> None:
    people = persons(run)
    who = owner(run)
    opens = collections.Counter()
    for row in rows(run, "email_events", broken):
        if row["event_type"] == "open":
            opens[who[("email_subscribers", row["subscriber_id"])]] += 1
    subscribed = sorted(
        {who[("email_subscribers", r["subscriber_id"])] for r in rows(run, "email_events", broken)},
        key=lambda p: float(people[p]["email_engagement"]),
    )
    quarter = len(subscribed) // 4
    low = sum(opens[p] for p in subscribed[:quarter])
    high = sum(opens[p] for p in subscribed[-quarter:])
    assert high > 2 * low


def test_unsubscribes_match_consent_revocations(run: GenerationResult, broken: dict) -> None:
    unsubscribes = {
        (r["subscriber_id"], r["occurred_at"])
        for r in rows(run, "email_events", broken)
        if r["event_type"] == "unsubscribe"
    }
    revocations = {
        (r["source_record_id"], r["occurred_at"])
        for r in rows(run, "consent_events", broken)
        if r["method"] == "unsubscribe_link" and r["status"] == "revoked"
    }
    assert unsubscribes
    # A few rows on either side may have been broken on purpose.
    assert len(unsubscribes & revocations) >= 0.9 * len(unsubscribes)
    double_opt_in = [
        r for r in rows(run, "consent_events", broken) if r["method"] == "double_opt_in"
    ]
    assert any(r["confirmed_at"] for r in double_opt_in)


def test_web_visitors_identify_and_stay_anonymous(run: GenerationResult, broken: dict) -> None:
    who = owner(run)
    users = collections.defaultdict(set)
    identify = []
    for row in rows(run, "web_events", broken):
        users[row["anonymous_id"]].add(row["user_id"])
        if row["type"] == "identify":
            identify.append(row)
    assert any(r["user_id"] and r["traits"]["email"] for r in identify)
    for row in identify:
        if row["user_id"]:
            assert (
                who[("shop_customers", row["user_id"])] == who[("web_events", row["anonymous_id"])]
            )
    assert any(ids == {None} for ids in users.values())
    assert any(None in ids and len(ids) > 1 for ids in users.values())
    devices = collections.Counter(who[("web_events", a)] for a in users)
    assert max(devices.values()) >= 2
    events = collections.Counter(r["event"] for r in rows(run, "web_events", broken))
    assert events["Product Added"] > events["Order Completed"] > 0


def test_orders_stores_and_returns_are_consistent(run: GenerationResult, broken: dict) -> None:
    statuses = collections.Counter()
    for row in rows(run, "shop_orders", broken):
        statuses[row["status"]] += 1
        subtotal, shipping, tax, total = (
            float(row[k]) for k in ("subtotal", "shipping", "tax", "total")
        )
        assert abs(subtotal + shipping + tax - total) < 0.005
    assert {"completed", "cancelled", "returned", "partially_returned"} <= set(statuses)
    currencies = {row["currency"] for row in rows(run, "shop_orders", broken)}
    assert {"EUR", "GBP", "USD", "PLN"} <= currencies
    members = {t["source_record_id"] for t in truth(run) if t["source_table"] == "loyalty_members"}
    tx = list(rows(run, "store_transactions", broken))
    scanned = [t["loyalty_number"] for t in tx if t["loyalty_number"]]
    assert scanned and set(scanned) <= members
    assert any(not t["loyalty_number"] for t in tx)
    returns = [t for t in tx if t["is_return"]]
    assert returns and all(t["total_amount"] < 0 for t in returns)
