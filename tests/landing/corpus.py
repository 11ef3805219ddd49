"""The hostile-input corpus: one small file per case of issue #21's landing section.

Each case says what must become of every record of its file: `loaded`, or the
exact reject reason, keyed by the 1-based physical line where the record
starts; or, for a file that cannot be landed at all, the manifest's `error`.
The files are written by `write_corpus` into an input folder laid out as
`tests/test_landing.py`'s declarations expect (orders: CSV, events: JSON
lines, order_lines: Parquet), so the corpus is small, readable and exact.
"""

from __future__ import annotations

import io
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

ORDERS_HEADER = "order_id,email,ordered_at,total,is_gift,note"
LOADED = "loaded"
QUOTED_CRLF = '"a\r\nb"'


def order(i: int, note: str = "ok") -> str:
    return f"{i},p{i}@x.com,2024-01-01T10:00:00Z,1.50,true,{note}"


def event(i: int, **extra: object) -> str:
    return json.dumps({"event_id": f"e{i}", "occurred_at": "2024-01-01T00:00:00Z", **extra})


@dataclass(frozen=True)
class Case:
    """One input file and what landing must make of it."""

    name: str  # the case, for test ids
    table: str
    file_name: bytes  # as bytes: a name need not be valid UTF-8
    content: bytes | None  # None: a FIFO, not a regular file
    records: dict[int, str] = field(default_factory=dict)  # line -> LOADED or reason
    error: str | None = None  # the manifest error of a file that cannot be landed
    warning: str | None = None  # for a file that is not read at all: the warning about it

    @property
    def relative(self) -> str:
        """The file as the manifest names it."""
        text = self.file_name.decode("utf-8", "backslashreplace")
        return f"{self.table}/{text}"


def _stray_quote() -> Case:
    lines = [ORDERS_HEADER] + [order(i) for i in range(1, 62)]
    lines[2] = order(2, note='compl"eted')
    records = {n: LOADED for n in range(2, 63)}
    records[3] = (
        "malformed CSV quoting: a quote inside an unquoted value or text after a closing quote"
    )
    return Case(
        "stray_quote", "orders", b"stray_quote.csv", ("\n".join(lines) + "\n").encode(), records
    )


def _unterminated_quote_mid_file() -> Case:
    lines = [ORDERS_HEADER, order(1), order(2, note='"never closed'), order(3), order(4)]
    return Case(
        "unterminated_quote_mid_file",
        "orders",
        b"unterminated.csv",
        ("\n".join(lines) + "\n").encode(),
        {
            2: LOADED,
            3: "unterminated quoted value: no closing quote before the end of the file",
            4: LOADED,
            5: LOADED,
        },
    )


MALFORMED = "malformed CSV quoting: a quote inside an unquoted value or text after a closing quote"


def _literal_quote_at_field_start() -> Case:
    lines = [
        ORDERS_HEADER,
        order(1),
        order(2, note='"oops'),  # opens a quoted value the next lines close badly
        order(3),
        order(4, note='say "hi"'),
        order(5),
    ]
    return Case(
        "quote_at_field_start_closed_badly",
        "orders",
        b"literal_quote.csv",
        ("\n".join(lines) + "\n").encode(),
        {
            2: LOADED,
            3: "malformed CSV quoting: the quoted value this line opens does not close into "
            "a well-formed record; the lines after it are read again without it",
            4: LOADED,
            5: MALFORMED,
            6: LOADED,
        },
    )


def _wide_json_line() -> Case:
    keys = {f"k{i:04}": i for i in range(1000)}
    return Case(
        "json_1000_keys",
        "events",
        b"wide.jsonl",
        "\n".join([event(1), event(2, **keys), event(3, k0000=1)]).encode() + b"\n",
        {
            1: LOADED,
            2: "980 key(s) beyond the limit of 20 new columns per file, the first 'k0020': "
            "declare them in _shop__sources.yml or raise CDP_LANDING_MAX_NEW_COLUMNS_PER_FILE",
            3: LOADED,
        },
    )


def _parquet_bytes(columns: dict[str, list[object]]) -> bytes:
    out = io.BytesIO()
    pq.write_table(pa.table(columns), out)
    return out.getvalue()


def cases() -> list[Case]:
    """Every case of the corpus."""
    good_parquet = _parquet_bytes({"line_id": [1, 2], "quantity": [1, 2]})
    return [
        Case(
            "non_utf8_file_name",
            "orders",
            b"caf\xff\xfe.csv",
            f"{ORDERS_HEADER}\n{order(1)}\n".encode(),
            error="the file name is not valid UTF-8: rename orders/caf\\xff\\xfe.csv to a "
            "UTF-8 name, then run cdp ingest again",
        ),
        Case(
            "good_file_after_bad_name",
            "orders",
            b"zz_after.csv",
            f"{ORDERS_HEADER}\n{order(1)}\n".encode(),
            {2: LOADED},
        ),
        _stray_quote(),
        _unterminated_quote_mid_file(),
        _literal_quote_at_field_start(),
        Case(
            "crlf_and_lone_cr_mixed",
            "orders",
            b"mixed_breaks.csv",
            f"{ORDERS_HEADER}\r\n{order(1)}\r{order(2)}\n{order(3)}\r\n{order(4)}".encode(),
            {2: LOADED, 3: LOADED, 4: LOADED, 5: LOADED},
        ),
        Case(
            "crlf_inside_quotes_of_lf_file",
            "orders",
            b"crlf_in_quotes.csv",
            (
                f"{ORDERS_HEADER}\n{order(1)}\n{order(2, note=QUOTED_CRLF)}\n{order(3)}\n"
                "3x,,2024-01-01,,,\n"
            ).encode(),
            {2: LOADED, 3: LOADED, 5: LOADED, 6: "column 'order_id': \"3x\" is not a valid bigint"},
        ),
        Case(
            "offset_out_of_range",
            "orders",
            b"offsets.csv",
            f"{ORDERS_HEADER}\n1,a,2024-01-01T10:00:00+25:00,1,true,\n"
            f"2,a,2024-01-01T10:00:00+14:00,1,true,\n3,a,2024-01-01T25:00:00,1,true,\n".encode(),
            {
                2: "column 'ordered_at': \"2024-01-01T10:00:00+25:00\" is not a valid timestamp",
                3: LOADED,
                4: "column 'ordered_at': \"2024-01-01T25:00:00\" is not a valid timestamp",
            },
        ),
        Case(
            "json_trailing_comma_and_nan",
            "events",
            b"lenient.jsonl",
            "\n".join(
                [
                    '{"event_id": "e1", "occurred_at": "2024-01-01",}',
                    '{"event_id": "e2", "occurred_at": "2024-01-01", "quantity": NaN}',
                    '{"event_id": "e3", "occurred_at": "2024-01-01", "type": Infinity}',
                    '{"event_id": "e4", "occurred_at": "2024-01-01", "properties": [1,]}',
                    '{"event_id": "e5", "occurred_at": "2024-01-01", "type": "NaN, inf,}"}',
                    event(6, quantity=3),
                ]
            ).encode(),
            {
                1: "invalid JSON",
                2: "invalid JSON",
                3: "invalid JSON",
                4: "invalid JSON",
                5: LOADED,
                6: LOADED,
            },
        ),
        Case(
            "nan_in_numeric_csv_fields",
            "orders",
            b"nan.csv",
            f"{ORDERS_HEADER}\n1,a,2024-01-01,NaN,true,\nNaN,a,2024-01-01,1,true,\n".encode(),
            {
                2: "column 'total': \"NaN\" is not a valid decimal(12,2)",
                3: "column 'order_id': \"NaN\" is not a valid bigint",
            },
        ),
        _wide_json_line(),
        Case(
            "all_rows_fail_with_odd_header",
            "orders",
            b"all_fail.csv",
            b"order_id,ordered_at,Odd Header\nx,,1\ny,,2\n",
            {
                2: "column 'order_id': \"x\" is not a valid bigint; "
                "required column 'ordered_at' is empty",
                3: "column 'order_id': \"y\" is not a valid bigint; "
                "required column 'ordered_at' is empty",
            },
        ),
        Case(
            "fifo_named_csv",
            "orders",
            b"pipe.csv",
            None,
            warning="ignored orders/pipe.csv: not a regular file (a FIFO); put the data in a "
            "regular file to land it",
        ),
        Case(
            "broken_parquet",
            "order_lines",
            b"broken.parquet",
            good_parquet[: len(good_parquet) // 2] + b"PAR1",
            error="not a readable Parquet file (it may be truncated or not Parquet at all): "
            "export it again from its source, then run cdp ingest again",
        ),
        Case(
            "tiny_parquet",
            "order_lines",
            b"tiny.parquet",
            b"PAR1garbage",
            error="not a readable Parquet file (it may be truncated or not Parquet at all): "
            "export it again from its source, then run cdp ingest again",
        ),
        Case("good_parquet", "order_lines", b"good.parquet", good_parquet, {1: LOADED, 2: LOADED}),
        Case(
            "long_rejected_line",
            "orders",
            b"long.csv",
            f"{ORDERS_HEADER}\nx,a,2024-01-01,1,true,{'y' * 5000}\n".encode(),
            {2: "column 'order_id': \"x\" is not a valid bigint"},
        ),
    ]


def write_corpus(input_dir: Path, chosen: list[Case]) -> None:
    """Write the chosen cases' files (and FIFOs) into the input folder."""
    for case in chosen:
        folder = input_dir / case.table
        folder.mkdir(parents=True, exist_ok=True)
        path = os.path.join(os.fsencode(folder), case.file_name)
        if case.content is None:
            os.mkfifo(path)
        else:
            with open(path, "wb") as handle:
                handle.write(case.content)
