"""Deliberately broken rows, so the loader's reject path has something to catch.

Each function takes one serialised row and returns a corrupted line plus the
column it broke (None when the whole row is broken). Nothing here produces a
line break, so physical line numbers stay exact.
"""

from __future__ import annotations

import json
import random

from cdp_demo.sample_data.tables import (
    BIGINT,
    BOOLEAN,
    DATE,
    DECIMAL,
    INTEGER,
    TIMESTAMP,
    TYPED,
    VARCHAR,
    Table,
)

CSV_KINDS = ("broken_quote", "wrong_type", "missing_column", "extra_column")
JSONL_KINDS = ("invalid_json", "wrong_type")

BAD_VALUES: dict[str, tuple[str, ...]] = {
    BIGINT: ("twelve", "12a", "#REF!"),
    INTEGER: ("twelve", "3.5.1"),
    DECIMAL: ("twelve", "12,50", "€12.00"),
    TIMESTAMP: ("2026-13-45T10:00:00", "yesterday", "31/02/2026 25:61"),
    DATE: ("1984-02-30", "30/02/1984", "someday"),
    BOOLEAN: ("maybe", "perhaps"),
}


def csv_field(value: str) -> str:
    """A field quoted the way csv.QUOTE_MINIMAL does."""
    if any(ch in value for ch in ',"\r\n'):
        return '"' + value.replace('"', '""') + '"'
    return value


def corrupt_csv(
    fields: list[str], table: Table, kind: str, r: random.Random
) -> tuple[str, str, str | None]:
    """(line, kind, column) for a CSV row broken in the requested way.

    broken_quote  a field opens and closes a quote mid-value: "Smi"th
    wrong_type    a typed column holds text that cannot cast ("twelve", "2026-13-45...")
    missing_column / extra_column  one field too few / too many
    Falls back to wrong_type when a row has no field fit for a broken quote.
    """
    names = table.column_names
    out = [csv_field(v) for v in fields]
    if kind == "broken_quote":
        candidates = [
            k
            for k, c in enumerate(table.columns)
            if c.data_type == VARCHAR and len(fields[k]) >= 2 and csv_field(fields[k]) == fields[k]
        ]
        if candidates:
            k = r.choice(candidates)
            value = fields[k]
            cut = r.randrange(1, len(value))
            out[k] = f'"{value[:cut]}"{value[cut:]}'
            return ",".join(out), kind, names[k]
        kind = "wrong_type"
    if kind == "wrong_type":
        typed = [k for k, c in enumerate(table.columns) if c.data_type in TYPED]
        k = r.choice(typed)
        out[k] = csv_field(r.choice(BAD_VALUES[table.columns[k].data_type]))
        return ",".join(out), kind, names[k]
    if kind == "missing_column":
        del out[r.randrange(len(out))]
        return ",".join(out), kind, None
    if kind == "extra_column":
        out.insert(r.randrange(len(out) + 1), csv_field(r.choice(("EXTRA", "1", "n/a", "x,y"))))
        return ",".join(out), kind, None
    raise ValueError(f"unknown csv malformation: {kind}")


def corrupt_jsonl(
    line: str, table: Table, kind: str, r: random.Random
) -> tuple[str, str, str | None]:
    """(line, kind, column) for a JSON line broken in the requested way.

    invalid_json  the line is cut short, as by an interrupted write
    wrong_type    a timestamp holds text that cannot cast
    """
    if kind == "invalid_json":
        return line[: max(1, len(line) * 2 // 3)], kind, None
    if kind == "wrong_type":
        obj = json.loads(line)
        typed = [c for c in table.columns if c.data_type in TYPED]
        column = r.choice(typed)
        obj[column.name] = r.choice(BAD_VALUES[column.data_type])
        return json.dumps(obj, ensure_ascii=False, separators=(",", ":")), kind, column.name
    raise ValueError(f"unknown jsonl malformation: {kind}")
