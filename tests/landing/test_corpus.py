"""The hostile-input corpus (corpus.py) lands with no crash, and every record is
accounted for: loaded or rejected at its line, rows in = loaded + rejected."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import duckdb
import pytest

from cdp.landing import IngestResult, ingest
from cdp.landing.engines.duckdb import staging
from tests.landing.corpus import LOADED, MALFORMED, ORDERS_HEADER, Case, cases, order, write_corpus
from tests.test_landing import SOURCES_YAML

CASES = {case.name: case for case in cases()}
CUT_BACK = (
    "malformed CSV quoting: the quoted value this line opens does not close into a "
    "well-formed record; the lines after it are read again without it"
)


def _project(root: Path) -> Path:
    folder = root / "dbt_project" / "models" / "staging" / "shop"
    folder.mkdir(parents=True)
    (folder / "_shop__sources.yml").write_text(SOURCES_YAML)
    return root / "dbt_project"


def _land(root: Path, chosen: list[Case]) -> tuple[IngestResult, Path]:
    input_dir = root / "landing"
    for table in ("orders", "events", "order_lines"):
        (input_dir / table).mkdir(parents=True, exist_ok=True)
    write_corpus(input_dir, chosen)
    warehouse = root / "cdp.duckdb"
    return ingest(input_dir, warehouse, _project(root)), warehouse


def _query(warehouse: Path, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


def _outcomes(warehouse: Path, case: Case) -> dict[int, str]:
    """line -> LOADED or the reject reason, for the case's file, from the warehouse."""
    table = case.table
    loaded = _query(
        warehouse,
        f"select _source_line from raw.{table} where _source_file = ?",
        [case.relative],
    )
    rejected = _query(
        warehouse,
        "select line_number, reason from raw._rejects where source_file = ?",
        [case.relative],
    )
    got: dict[int, str] = {}
    for (line,) in loaded:
        assert line not in got, f"{case.name}: line {line} landed twice"
        got[line] = LOADED
    for line, reason in rejected:
        assert line not in got, f"{case.name}: line {line} both landed and rejected"
        got[line] = reason
    return got


def test_the_whole_corpus_lands_and_every_file_adds_up(tmp_path: Path) -> None:
    """One run over every case: no crash, every file in the manifest or warned about,
    and rows in = rows loaded + rows rejected, counted from the tables themselves."""
    chosen = list(CASES.values())
    result, warehouse = _land(tmp_path, chosen)

    manifest = {
        row[0]: row[1:]
        for row in _query(
            warehouse,
            "select source_file, status, rows_in, rows_loaded, rows_rejected, error "
            "from raw._landed_files",
        )
    }
    warnings = "\n".join(result.all_warnings())
    for case in chosen:
        if case.warning is not None:
            assert case.warning in warnings, case.name
            assert case.relative not in manifest, case.name
            continue
        status, rows_in, rows_loaded, rows_rejected, error = manifest[case.relative]
        if case.error is not None:
            assert (status, error) == ("failed", case.error), case.name
            continue
        assert status == "loaded", (case.name, error)
        got = _outcomes(warehouse, case)
        assert got == case.records, case.name
        loaded = sum(outcome == LOADED for outcome in got.values())
        assert (rows_in, rows_loaded, rows_rejected) == (len(got), loaded, len(got) - loaded)


@pytest.mark.parametrize(
    "name",
    [
        "stray_quote",
        "unterminated_quote_mid_file",
        "quote_at_field_start_closed_badly",
        "crlf_and_lone_cr_mixed",
        "crlf_inside_quotes_of_lf_file",
        "offset_out_of_range",
        "json_trailing_comma_and_nan",
        "nan_in_numeric_csv_fields",
        "long_rejected_line",
        "good_parquet",
    ],
)
def test_every_record_is_loaded_or_rejected_at_its_line(tmp_path: Path, name: str) -> None:
    case = CASES[name]
    _land(tmp_path, [case])
    assert _outcomes(tmp_path / "cdp.duckdb", case) == case.records


def test_a_file_name_that_is_not_utf8_fails_that_file_and_the_run_goes_on(
    tmp_path: Path,
) -> None:
    bad, good = CASES["non_utf8_file_name"], CASES["good_file_after_bad_name"]
    result, warehouse = _land(tmp_path, [bad, good])

    files = {f.path: f for f in result.tables["orders"].files}
    assert files[bad.relative].status == "failed"
    assert files[bad.relative].error == bad.error
    assert files[good.relative].status == "loaded"
    assert _outcomes(warehouse, good) == good.records
    assert "orders/caf\\xff\\xfe.csv: FAILED: the file name is not valid UTF-8" in result.render()


def test_the_quoted_crlf_is_kept_as_one_line_break(tmp_path: Path) -> None:
    _land(tmp_path, [CASES["crlf_inside_quotes_of_lf_file"]])
    assert _query(tmp_path / "cdp.duckdb", "select note from raw.orders order by order_id") == [
        ("ok",),
        ("a\nb",),
        ("ok",),
    ]


def test_a_rejected_record_keeps_its_whole_text(tmp_path: Path) -> None:
    case = CASES["long_rejected_line"]
    _land(tmp_path, [case])
    assert _query(tmp_path / "cdp.duckdb", "select raw_record from raw._rejects") == [
        (case.content.decode().splitlines()[1],)  # type: ignore[union-attr]
    ]


def _undeclared_columns(warehouse: Path, table: str) -> list[str]:
    declared = {
        "orders": {"order_id", "email", "ordered_at", "total", "is_gift", "note"},
        "events": {"event_id", "type", "occurred_at", "quantity", "properties"},
    }[table]
    rows = _query(
        warehouse,
        "select column_name from information_schema.columns where table_name = ? "
        "order by ordinal_position",
        [table],
    )
    return [n for (n,) in rows if n not in declared and not n.startswith("_")]


def test_new_columns_are_capped_per_file_and_the_excess_rejected(tmp_path: Path) -> None:
    case = CASES["json_1000_keys"]
    result, warehouse = _land(tmp_path, [case])

    assert _outcomes(warehouse, case) == case.records
    assert _undeclared_columns(warehouse, "events") == [f"k{i:04}" for i in range(20)]
    assert _query(warehouse, "select k0000 from raw.events where _source_line = 3") == [("1",)]
    warnings = "\n".join(result.all_warnings())
    assert "980 key(s) beyond the limit of 20 new columns per file" in warnings


def test_new_columns_are_capped_per_table(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CDP_LANDING_MAX_NEW_COLUMNS_PER_TABLE", "3")
    header = "order_id,ordered_at"
    first = Case(
        "a", "orders", b"a.csv", f"{header},x1,x2\n1,2024-01-01,a,b\n".encode(), {2: LOADED}
    )
    second = Case(
        "b",
        "orders",
        b"b.csv",
        f"{header},x2,x3,x4\n2,2024-01-01,b,c,\n3,2024-01-01,b,c,d\n".encode(),
        {
            2: LOADED,
            3: "1 column(s) beyond the limit of 3 new columns per table, the first 'x4': "
            "declare them in _shop__sources.yml or raise CDP_LANDING_MAX_NEW_COLUMNS_PER_TABLE",
        },
    )
    _land(tmp_path, [first, second])

    warehouse = tmp_path / "cdp.duckdb"
    assert _undeclared_columns(warehouse, "orders") == ["x1", "x2", "x3"]
    assert _outcomes(warehouse, first) == first.records
    assert _outcomes(warehouse, second) == second.records


def test_a_file_whose_rows_all_fail_adds_no_column(tmp_path: Path) -> None:
    case = CASES["all_rows_fail_with_odd_header"]
    result, warehouse = _land(tmp_path, [case])

    assert _outcomes(warehouse, case) == case.records
    assert _undeclared_columns(warehouse, "orders") == []
    warnings = "\n".join(result.all_warnings())
    assert "no row landed, so raw.orders gets no new column: 'Odd Header'" in warnings


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this system")
def test_a_fifo_is_not_read_and_the_warning_says_why(tmp_path: Path) -> None:
    case = CASES["fifo_named_csv"]
    result, warehouse = _land(tmp_path, [case, CASES["good_file_after_bad_name"]])

    assert case.warning in result.all_warnings()[0]
    assert _query(warehouse, "select source_file, status from raw._landed_files") == [
        ("orders/zz_after.csv", "loaded")
    ]


@pytest.mark.parametrize("name", ["broken_parquet", "tiny_parquet"])
def test_a_broken_parquet_file_fails_with_what_to_do_and_no_absolute_path(
    tmp_path: Path, name: str
) -> None:
    case = CASES[name]
    result, _ = _land(tmp_path, [case])

    (failed,) = result.tables["order_lines"].files
    assert failed.error == case.error
    assert str(tmp_path) not in result.render()


def test_lines_that_each_open_a_quote_are_each_rejected_alone(tmp_path: Path) -> None:
    body = [f'{i},a,2024-01-01,1,true,"x' for i in range(1, 31)] + ["31,a,2024-01-01,1,true,ok"]
    case = Case("opening", "orders", b"opening.csv", "\n".join([ORDERS_HEADER, *body]).encode())
    _land(tmp_path, [case])

    got = _outcomes(tmp_path / "cdp.duckdb", case)
    assert sorted(got) == list(range(2, 33))
    assert got[32] == LOADED
    assert {got[n] for n in range(2, 31)} == {CUT_BACK}
    assert got[31] == "unterminated quoted value: no closing quote before the end of the file"
    raw = _query(tmp_path / "cdp.duckdb", "select raw_record from raw._rejects")
    assert all("\n" not in text for (text,) in raw)


def test_after_the_last_round_every_line_is_a_record_of_its_own(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(staging, "MAX_OPEN_QUOTE_ROUNDS", 1)
    lines = [ORDERS_HEADER, order(1, '"a'), order(2), order(3, '"b'), order(4, 'c"')]
    case = Case("rounds", "orders", b"rounds.csv", "\n".join(lines).encode())
    _land(tmp_path, [case])

    # Without the cap, lines 4 and 5 would be one record (a value over two lines).
    assert _outcomes(tmp_path / "cdp.duckdb", case) == {
        2: CUT_BACK,
        3: LOADED,
        4: CUT_BACK,
        5: MALFORMED,
    }
