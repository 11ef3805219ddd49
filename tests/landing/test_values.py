"""Casting single values with the landing SQL: the shapes each type accepts."""

from __future__ import annotations

import json

import duckdb
import pytest

from cdp.landing.engines.duckdb.casting import cast_text
from cdp.landing.registry import DataType


def _cast(text: str, data_type: str) -> object:
    with duckdb.connect() as con:
        con.execute("set TimeZone = 'UTC'")
        row = con.execute(f"select {cast_text('$1', DataType.parse(data_type))}", [text]).fetchone()
    return row[0] if row else None


@pytest.mark.parametrize(
    "text",
    [
        "2024-01-01T10:00:00+25:00",  # no such offset
        "2024-01-01T10:00:00-14:30",
        "2024-01-01T24:00:00",
        "2024-01-01T10:60:00",
        "2024-01-01T10:00:00 UTC",
        "2024-01-01T10",
        "2024-02-30",
    ],
)
def test_timestamps_out_of_shape_or_range_are_not_valid(text: str) -> None:
    assert _cast(text, "timestamp") is None


@pytest.mark.parametrize(
    ("text", "utc"),
    [
        ("2024-01-01T10:00:00+14:00", "2023-12-31 20:00:00"),
        ("2024-01-01 10:00:00-0930", "2024-01-01 19:30:00"),
        ("2024-01-01T10:00:00.123456789Z", "2024-01-01 10:00:00.123456"),
        ("2024-01-01", "2024-01-01 00:00:00"),
    ],
)
def test_timestamps_in_shape_are_converted_to_utc(text: str, utc: str) -> None:
    assert str(_cast(text, "timestamp")) == utc


@pytest.mark.parametrize("text", ["NaN", "Infinity", "-inf", '{"a": NaN}', "[1,]", '{"a": 1,}'])
def test_json_values_must_be_strict_json(text: str) -> None:
    assert _cast(text, "json") is None


@pytest.mark.parametrize("text", ['{"nan": "inf, NaN,]"}', "[1e5, -0.5, true, null]", '"info"'])
def test_strict_json_keeps_what_only_looks_lenient(text: str) -> None:
    cast = _cast(text, "json")
    assert isinstance(cast, str)
    assert json.loads(cast) == json.loads(text)


@pytest.mark.parametrize(("text", "data_type"), [("NaN", "decimal(12,2)"), ("inf", "bigint")])
def test_nan_and_infinity_are_not_numbers(text: str, data_type: str) -> None:
    assert _cast(text, data_type) is None
