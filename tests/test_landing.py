"""Raw landing: rejects with line numbers and reasons, idempotency, schema drift, errors.

Every test builds its own small input files and a small dbt project whose
source YAML declares three raw tables (one per file format), so the tests do
not depend on the real project's declarations (one test checks those load).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from cdp.landing import IngestResult, LandingError, ingest, load_registry, raw_table_counts
from cdp.landing.engines.duckdb import sql as landing_sql

REPO = Path(__file__).resolve().parent.parent

SOURCES_YAML = """
version: 2
sources:
  - name: shop
    schema: raw
    tables:
      - name: orders
        meta:
          landing: {format: csv, required: [order_id, ordered_at]}
        columns:
          - {name: order_id, data_type: bigint}
          - {name: email, data_type: varchar}
          - {name: ordered_at, data_type: timestamp}
          - {name: total, data_type: "decimal(12,2)"}
          - {name: is_gift, data_type: boolean}
          - {name: note, data_type: varchar}
      - name: events
        meta:
          landing: {format: jsonl, required: [event_id, occurred_at]}
        columns:
          - {name: event_id, data_type: varchar}
          - {name: type, data_type: varchar}
          - {name: occurred_at, data_type: timestamp}
          - {name: quantity, data_type: integer}
          - {name: properties, data_type: json}
      - name: order_lines
        meta:
          landing: {format: parquet, required: [line_id]}
        columns:
          - {name: line_id, data_type: bigint}
          - {name: quantity, data_type: integer}
          - {name: price, data_type: "decimal(12,2)"}
          - {name: shipped_on, data_type: date}
"""

ORDERS_HEADER = "order_id,email,ordered_at,total,is_gift,note"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A dbt project folder holding only the test's source declarations."""
    folder = tmp_path / "dbt_project" / "models" / "staging" / "shop"
    folder.mkdir(parents=True)
    (folder / "_shop__sources.yml").write_text(SOURCES_YAML)
    return tmp_path / "dbt_project"


@pytest.fixture
def landing(tmp_path: Path) -> Path:
    folder = tmp_path / "landing"
    for table in ("orders", "events", "order_lines"):
        (folder / table).mkdir(parents=True)
    return folder


@pytest.fixture
def warehouse(tmp_path: Path) -> Path:
    return tmp_path / "warehouse" / "cdp.duckdb"


@pytest.fixture
def run(landing: Path, warehouse: Path, project: Path) -> Callable[[], IngestResult]:
    return lambda: ingest(landing, warehouse, project)


def query(warehouse: Path, sql: str) -> list[tuple[Any, ...]]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(sql).fetchall()


def rejects(warehouse: Path, table: str) -> dict[int, str]:
    rows = query(
        warehouse, f"select line_number, reason from raw._rejects where table_name = '{table}'"
    )
    return dict(rows)


def write_parquet(path: Path, columns: dict[str, list[Any]]) -> None:
    pq.write_table(pa.table(columns), path)


# --- CSV ----------------------------------------------------------------------


def test_csv_rejects_every_kind_of_bad_row_with_line_and_reason(
    run: Callable[[], IngestResult], landing: Path, warehouse: Path
) -> None:
    lines = [
        ORDERS_HEADER,  # 1
        "1,a@x.com,2024-01-01T10:00:00Z,10.50,true,ok",  # 2 good
        "",  # 3 blank: not a row
        '2,b@x.com,2024-01-01 10:00:00,1,no,"two',  # 4 good, quoted value over two lines
        'lines, with a comma"',  # 5
        "3,c@x.com,2024-01-01,abc,yes,",  # 6 total is not a decimal
        '4,d@x.com,2024-01-01,1,"bro"ken,',  # 7 broken quoting
        "5,e@x.com,2024-01-01,1,true",  # 8 a column missing
        "6,f@x.com,2024-01-01,1,true,,extra",  # 9 one column too many
        ",g@x.com,2024-01-01,1,true,",  # 10 required order_id empty
        "8,h@x.com,2024-01-01,1,maybe,",  # 11 not a boolean
        "9,i@x.com,2024-01-01,1,false,ok",  # 12 good
        '10,j@x.com,2024-01-01,1,true,"trunc',  # 13 truncated last line, no newline
    ]
    (landing / "orders" / "orders.csv").write_text("\n".join(lines))

    result = run()

    table = result.tables["orders"]
    assert (table.rows_in, table.rows_loaded, table.rows_rejected) == (10, 3, 7)
    assert table.rows_in == table.rows_loaded + table.rows_rejected
    assert query(warehouse, "select order_id, _source_line from raw.orders order by 1") == [
        (1, 2),
        (2, 4),
        (9, 12),
    ]
    assert query(warehouse, "select note from raw.orders where order_id = 2") == [
        ("two\nlines, with a comma",)
    ]
    reasons = rejects(warehouse, "orders")
    assert sorted(reasons) == [6, 7, 8, 9, 10, 11, 13]
    assert reasons[6] == "column 'total': \"abc\" is not a valid decimal(12,2)"
    assert reasons[7].startswith("malformed CSV quoting")
    assert reasons[8] == "missing columns: expected 6 fields, found 5"
    assert reasons[9] == "too many columns: expected 6 fields, found 7"
    assert reasons[10] == "required column 'order_id' is empty"
    assert reasons[11] == "column 'is_gift': \"maybe\" is not a valid boolean"
    assert reasons[13].startswith("unterminated quoted value")
    raw = query(warehouse, "select raw_record from raw._rejects where line_number = 6")
    assert raw == [("3,c@x.com,2024-01-01,abc,yes,",)]
    manifest = query(
        warehouse, "select status, rows_in, rows_loaded, rows_rejected from raw._landed_files"
    )
    assert manifest == [("loaded", 10, 3, 7)]


def test_csv_with_bom_and_crlf_loads_and_casts_values(
    run: Callable[[], IngestResult], landing: Path, warehouse: Path
) -> None:
    rows = [
        ORDERS_HEADER,
        "1,a@x.com,2024-03-01T10:00:00+02:00,19.99,TRUE,",
        "2, b@x.com ,2024-03-01 10:00:00.250Z,5,0,x",
        "3,,2024-03-01T10:00:00,-1.5,Yes,",
    ]
    (landing / "orders" / "bom.csv").write_bytes(b"\xef\xbb\xbf" + "\r\n".join(rows).encode())

    result = run()

    assert result.tables["orders"].rows_rejected == 0
    got = query(
        warehouse,
        "select order_id, email, strftime(ordered_at, '%Y-%m-%d %H:%M:%S.%f'), total::varchar,"
        " is_gift, note, _source_file, _source_line from raw.orders order by order_id",
    )
    assert got == [
        (1, "a@x.com", "2024-03-01 08:00:00.000000", "19.99", True, None, "orders/bom.csv", 2),
        (2, " b@x.com ", "2024-03-01 10:00:00.250000", "5.00", False, "x", "orders/bom.csv", 3),
        (3, None, "2024-03-01 10:00:00.000000", "-1.50", True, None, "orders/bom.csv", 4),
    ]


def test_new_column_is_added_as_varchar_and_a_file_without_it_still_loads(
    run: Callable[[], IngestResult], landing: Path, warehouse: Path
) -> None:
    (landing / "orders" / "a.csv").write_text(
        f"{ORDERS_HEADER},Coupon Code\n1,a@x.com,2024-01-01,1,true,,SPRING\n"
    )
    (landing / "orders" / "b.csv").write_text("order_id,ordered_at\n2,2024-01-02\n")

    result = run()

    table = result.tables["orders"]
    assert (table.rows_loaded, table.rows_rejected) == (2, 0)
    assert query(warehouse, "select order_id, coupon_code from raw.orders order by 1") == [
        (1, "SPRING"),
        (2, None),
    ]
    column_type = query(
        warehouse,
        "select data_type from information_schema.columns "
        "where table_name = 'orders' and column_name = 'coupon_code'",
    )
    assert column_type == [("VARCHAR",)]
    warnings = "\n".join(table.all_warnings())
    assert "undeclared column 'Coupon Code' added to raw.orders.coupon_code" in warnings
    assert "b.csv: declared column(s) not in the file, loaded as null: 'email'" in warnings


def test_missing_required_column_rejects_every_row_naming_it(
    run: Callable[[], IngestResult], landing: Path, warehouse: Path
) -> None:
    (landing / "orders" / "no_date.csv").write_text("order_id,email\n1,a@x.com\n2,b@x.com\n")

    result = run()

    table = result.tables["orders"]
    assert (table.rows_in, table.rows_loaded, table.rows_rejected) == (2, 0, 2)
    assert set(rejects(warehouse, "orders").values()) == {
        "required column 'ordered_at' missing from the file"
    }


# --- JSON lines and Parquet -----------------------------------------------------


def test_jsonl_rejects_invalid_lines_non_objects_and_wrong_types(
    run: Callable[[], IngestResult], landing: Path, warehouse: Path
) -> None:
    good = {"event_id": "e1", "type": "view", "occurred_at": "2024-01-01T00:00:00Z"}
    lines = [
        json.dumps({**good, "quantity": 2, "properties": {"sku": "A"}, "source": "app"}),  # 1
        "{not json",  # 2
        "",  # 3 blank: not a row
        "[1, 2]",  # 4
        json.dumps({**good, "event_id": "e5", "occurred_at": 1700000000}),  # 5
        json.dumps({**good, "event_id": "e6", "quantity": "two"}),  # 6
        json.dumps({**good, "event_id": "e7", "type": {"nested": True}}),  # 7
        json.dumps({"type": "view", "occurred_at": "2024-01-01"}),  # 8 no event_id
        json.dumps({**good, "event_id": "e9", "quantity": "3"}),  # 9 good
    ]
    (landing / "events" / "events.jsonl").write_bytes(
        b"\xef\xbb\xbf" + "\r\n".join(lines).encode() + b"\r\n"
    )

    result = run()

    table = result.tables["events"]
    assert (table.rows_in, table.rows_loaded, table.rows_rejected) == (8, 2, 6)
    assert rejects(warehouse, "events") == {
        2: "invalid JSON",
        4: "not a JSON object: found an array",
        5: "column 'occurred_at': \"1700000000\" is not a valid timestamp",
        6: "column 'quantity': \"two\" is not a valid integer",
        7: "column 'type': expected a single value, found a JSON object",
        8: "required column 'event_id' is empty",
    }
    assert query(
        warehouse,
        "select event_id, quantity, properties ->> '$.sku', source, _source_line "
        "from raw.events order by _source_line",
    ) == [("e1", 2, "A", "app", 1), ("e9", 3, None, None, 9)]


def test_parquet_value_that_does_not_cast_is_rejected_with_the_row_as_json(
    run: Callable[[], IngestResult], landing: Path, warehouse: Path
) -> None:
    write_parquet(
        landing / "order_lines" / "lines.parquet",
        {
            "line_id": [1, 2, 3],
            "quantity": ["1", "lots", "3"],
            "price": [1.5, 2.0, 3.25],
            "shipped_on": ["2024-01-01", "2024-01-02", "not a date"],
        },
    )

    result = run()

    table = result.tables["order_lines"]
    assert (table.rows_in, table.rows_loaded, table.rows_rejected) == (3, 1, 2)
    assert query(warehouse, "select line_id, quantity, price::varchar from raw.order_lines") == [
        (1, 1, "1.50")
    ]
    got = query(warehouse, "select line_number, reason, raw_record from raw._rejects order by 1")
    assert got[0][:2] == (2, "column 'quantity': \"lots\" is not a valid integer")
    assert json.loads(got[0][2])["quantity"] == "lots"
    assert got[1][:2] == (3, "column 'shipped_on': \"not a date\" is not a valid date")


# --- idempotency and atomicity ---------------------------------------------------


def test_loading_twice_adds_nothing(
    run: Callable[[], IngestResult], landing: Path, warehouse: Path
) -> None:
    (landing / "orders" / "a.csv").write_text(f"{ORDERS_HEADER}\n1,a,2024-01-01,1,1,\nx,b,,,,\n")
    first = run()
    counts = raw_table_counts(warehouse)
    (landing / "orders" / "a.csv").touch()

    second = run()

    assert first.tables["orders"].files_loaded == 1
    assert (second.tables["orders"].files_loaded, second.tables["orders"].files_skipped) == (0, 1)
    assert raw_table_counts(warehouse) == counts
    assert counts["orders"] == (1, 1)
    assert query(warehouse, "select count(*) from raw._landed_files") == [(1,)]


def test_new_file_is_loaded_incrementally_and_a_renamed_copy_is_skipped(
    run: Callable[[], IngestResult], landing: Path, warehouse: Path
) -> None:
    first_file = landing / "orders" / "day1.csv"
    first_file.write_text(f"{ORDERS_HEADER}\n1,a,2024-01-01,1,1,\n")
    run()
    (landing / "orders" / "day2.csv").write_text(f"{ORDERS_HEADER}\n2,b,2024-01-02,1,1,\n")
    first_file.rename(landing / "orders" / "day1_renamed.csv")

    result = run()

    files = {f.path: f for f in result.tables["orders"].files}
    assert files["orders/day2.csv"].status == "loaded"
    assert files["orders/day1_renamed.csv"].status == "skipped"
    assert files["orders/day1_renamed.csv"].same_as == "orders/day1.csv"
    assert query(warehouse, "select order_id, _source_file from raw.orders order by 1") == [
        (1, "orders/day1.csv"),
        (2, "orders/day2.csv"),
    ]


def test_file_names_are_not_taken_as_glob_patterns(
    run: Callable[[], IngestResult], landing: Path, warehouse: Path
) -> None:
    (landing / "orders" / "day[1].csv").write_text(f"{ORDERS_HEADER}\n1,a,2024-01-01,1,1,\n")
    (landing / "orders" / "day1.csv").write_text(f"{ORDERS_HEADER}\n2,b,2024-01-01,1,1,\n")
    write_parquet(landing / "order_lines" / "*.parquet", {"line_id": [7]})

    run()

    assert query(warehouse, "select order_id, _source_file from raw.orders order by 1") == [
        (1, "orders/day[1].csv"),
        (2, "orders/day1.csv"),
    ]
    assert query(warehouse, "select line_id from raw.order_lines") == [(7,)]


def test_a_file_that_fails_midway_leaves_nothing_behind(
    run: Callable[[], IngestResult],
    landing: Path,
    warehouse: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    (landing / "orders" / "a.csv").write_text(f"{ORDERS_HEADER}\n1,a,2024-01-01,1,1,\nx,,,,,\n")

    def broken() -> str:  # runs after the rows and rejects were inserted
        return "select * from a_table_that_does_not_exist"

    monkeypatch.setattr(landing_sql, "staged_counts", broken)
    failed = run()
    monkeypatch.undo()

    assert failed.tables["orders"].files_failed == 1
    assert raw_table_counts(warehouse)["orders"] == (0, 0)
    assert query(warehouse, "select status from raw._landed_files") == [("failed",)]

    retried = run()

    assert retried.tables["orders"].files_loaded == 1
    assert raw_table_counts(warehouse)["orders"] == (1, 1)


def test_non_utf8_file_is_recorded_as_failed_and_the_run_goes_on(
    run: Callable[[], IngestResult], landing: Path, warehouse: Path
) -> None:
    (landing / "orders" / "latin1.csv").write_bytes(
        f"{ORDERS_HEADER}\n1,caf\xe9@x.com,2024-01-01,1,1,\n".encode("latin-1")
    )
    (landing / "orders" / "ok.csv").write_text(f"{ORDERS_HEADER}\n2,b,2024-01-01,1,1,\n")

    result = run()

    files = {f.path: f for f in result.tables["orders"].files}
    assert files["orders/latin1.csv"].status == "failed"
    error = (
        "not valid UTF-8 (first bad byte on line 2): export it as UTF-8 (or convert it, "
        "e.g. iconv -f latin1 -t utf-8), then run cdp ingest again"
    )
    assert files["orders/latin1.csv"].error == error
    assert files["orders/ok.csv"].status == "loaded"
    assert query(warehouse, "select source_file, status, error from raw._landed_files") == [
        ("orders/latin1.csv", "failed", error),
        ("orders/ok.csv", "loaded", None),
    ]


# --- input errors, declarations, summary ---------------------------------------------


def test_missing_input_folder_raises_naming_it_and_creates_no_warehouse(
    tmp_path: Path, warehouse: Path, project: Path
) -> None:
    missing = tmp_path / "nowhere"
    with pytest.raises(LandingError, match=f"^input folder not found: {missing}$"):
        ingest(missing, warehouse, project)
    a_file = tmp_path / "a_file.csv"
    a_file.write_text("x")
    with pytest.raises(LandingError, match=f"^input path is not a folder: {a_file}$"):
        ingest(a_file, warehouse, project)
    assert not warehouse.exists()
    assert not warehouse.parent.exists()


def test_malformed_declaration_names_file_and_table(tmp_path: Path, project: Path) -> None:
    sources = project / "models" / "staging" / "shop" / "_shop__sources.yml"
    sources.write_text(SOURCES_YAML.replace('"decimal(12,2)"}', "float}", 1))
    with pytest.raises(LandingError) as caught:
        load_registry(project)
    message = str(caught.value)
    assert str(sources) in message
    assert "table orders" in message
    assert "unknown data_type 'float'" in message
    assert "\n" not in message


def test_the_projects_own_declarations_load() -> None:
    registry = load_registry(REPO / "dbt_project")
    assert registry.tables, "no raw tables declared"
    for spec in registry:
        assert spec.columns and set(spec.required) <= {c.name for c in spec.columns}


def test_summary_names_tables_counts_and_warnings(
    run: Callable[[], IngestResult], landing: Path
) -> None:
    (landing / "orders" / "a.csv").write_text(f"{ORDERS_HEADER}\n1,a,2024-01-01,1,1,\nx,,,,,\n")
    (landing / "unknown_table").mkdir()

    text = run().render()

    assert "orders" in text.splitlines()[2]
    assert "no files for: events, order_lines" in text
    assert "ignored sub-folder unknown_table/" in text
    assert "select * from raw._rejects" in text


@pytest.mark.parametrize(
    ("record", "fields"),
    [
        ("a,,b", ["a", "", "b"]),
        (",", ["", ""]),
        ('"x,y",z', ["x,y", "z"]),
        ('a,"b""c"', ["a", 'b"c']),
        ('a,"""",b', ["a", '"', "b"]),
        ('"",""', ["", ""]),
        ('"two\nlines",2', ["two\nlines", "2"]),
        ('"has\x1fthe separator",x', ["has\x1fthe separator", "x"]),
        ('4,"bro"ken', None),
        ('ab"c,d', None),
    ],
)
def test_csv_record_splitting(record: str, fields: list[str] | None) -> None:
    with duckdb.connect() as con:
        got = con.execute(f"select {landing_sql.csv_fields('$1')}", [record]).fetchone()
    assert got == (fields,)
