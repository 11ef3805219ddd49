"""Read what the serving store holds from the warehouse, on any engine (cdp/warehouse).

`read_build` returns one `StoreRows` per customer asked for (all customers, or
the ones a change set names): the golden traits, identifiers, current segment
memberships and their history, consent state, scores, the last N activities
and the explain data. Only the portable `Warehouse` calls are used (SQL in
DuckDB's dialect, translated by SQLGlot), so DuckDB, PostgreSQL and Spark all
work; a relation the build does not have (no predictions yet) is left empty.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from cdp.serve.store.protocol import PII, SCORES, TRAITS
from cdp.warehouse import Warehouse

# Golden columns of marts.customers that identify a person (withheld without `pii`).
PII_TRAITS = frozenset(
    {
        "first_name",
        "last_name",
        "birth_date",
        "email",
        "phone_e164",
        "address_line_1",
        "postal_code",
        "city",
        "emails",
        "phones",
    }
)
CHUNK = 500  # customer ids per `in (...)` list


def json_value(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, list | tuple):
        return [json_value(v) for v in value]
    if hasattr(value, "tolist"):  # numpy arrays from some drivers
        return json_value(value.tolist())
    return value


def normalise(id_type: str, value: str) -> str:
    """An identifier as the warehouse stores it: emails lower-cased, phones as +digits."""
    value = value.strip()
    if id_type == "email":
        return value.lower()
    if id_type == "phone":
        digits = re.sub(r"[^\d+]", "", value)
        if digits.startswith("00"):
            digits = "+" + digits[2:]
        return digits
    return value


@dataclass
class StoreRows:
    """Everything the store keeps about one customer."""

    customer_id: str
    traits: dict[str, Any] = field(default_factory=dict)
    scores: dict[str, Any] = field(default_factory=dict)
    identifiers: list[tuple[str, str, str | None]] = field(default_factory=list)
    segments: list[tuple[str, str | None]] = field(default_factory=list)
    segment_changes: list[tuple[str, str, str]] = field(default_factory=list)
    consent: list[dict[str, Any]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    records: list[dict[str, Any]] = field(default_factory=list)
    links: list[dict[str, Any]] = field(default_factory=list)

    def field_groups(self) -> dict[str, str]:
        groups = {name: PII if name in PII_TRAITS else TRAITS for name in self.traits}
        groups.update({name: SCORES for name in self.scores})
        return groups

    def search_text(self) -> str:
        t = self.traits
        parts = [
            self.customer_id,
            t.get("first_name"),
            t.get("last_name"),
            t.get("email"),
            t.get("phone_e164"),
        ]
        parts += [value for kind, value, _ in self.identifiers if kind in ("email", "phone")]
        return " ".join(str(p).lower() for p in parts if p)


def _chunks(ids: Sequence[str]) -> Iterator[Sequence[str]]:
    for start in range(0, len(ids), CHUNK):
        yield ids[start : start + CHUNK]


class _Reader:
    def __init__(self, wh: Warehouse, customer_ids: Sequence[str] | None) -> None:
        self.wh = wh
        self.ids = customer_ids
        self.present = wh.relations()

    def has(self, schema: str, name: str) -> bool:
        return (schema, name) in self.present

    def rows(self, select: str, key: str = "customer_id") -> Iterator[dict[str, Any]]:
        """`select ... where <key> in (ids)` for the customers asked for, as dicts."""
        if self.ids is None:
            names, found = self.wh.fetch(select.replace("{where}", ""))
            yield from (dict(zip(names, row, strict=True)) for row in found)
            return
        for chunk in _chunks(self.ids):
            marks = ", ".join("?" for _ in chunk)
            where = f" where {key} in ({marks})"
            names, found = self.wh.fetch(select.replace("{where}", where), list(chunk))
            yield from (dict(zip(names, row, strict=True)) for row in found)


def read_build(
    wh: Warehouse, customer_ids: Iterable[str] | None, activity_limit: int
) -> dict[str, StoreRows]:
    """The store rows of `customer_ids` (None: every customer) from the built warehouse."""
    ids = None if customer_ids is None else sorted(set(customer_ids))
    r = _Reader(wh, ids)
    out: dict[str, StoreRows] = {}
    for row in r.rows("select * from marts.customers{where}"):
        cid = str(row.pop("customer_id"))
        out[cid] = StoreRows(cid, traits={k: json_value(v) for k, v in row.items()})

    def each(rows: Iterable[dict[str, Any]]) -> Iterator[tuple[StoreRows, dict[str, Any]]]:
        for row in rows:
            found = out.get(str(row["customer_id"]))
            if found is not None:
                yield found, row

    sources: dict[str, set[str]] = defaultdict(set)
    if r.has("intermediate", "int_identity_records_prepared"):
        for row in r.rows(
            "select c.customer_id, c.source_name, c.source_record_id, c.record_key, "
            "p.first_name, p.last_name, p.email, p.phone_e164 "
            "from marts.customer_source_records as c "
            "join intermediate.int_identity_records_prepared as p on p.record_key = c.record_key"
            "{where} order by c.source_name, c.source_record_id",
            key="c.customer_id",
        ):
            rows = out.get(str(row["customer_id"]))
            if rows is None:
                continue
            rows.records.append({k: json_value(v) for k, v in row.items() if k != "customer_id"})
            for kind, value in (("email", row["email"]), ("phone", row["phone_e164"])):
                if value:
                    sources[f"{rows.customer_id}\0{kind}\0{value}"].add(str(row["source_name"]))
    for rows, row in each(
        r.rows(
            "select customer_id, identifier_type, identifier_value "
            "from marts.customer_identifiers{where} order by identifier_type, identifier_value"
        )
    ):
        kind, value = str(row["identifier_type"]), str(row["identifier_value"])
        held = sources.get(f"{rows.customer_id}\0{kind}\0{value}")
        rows.identifiers.append((kind, value, ", ".join(sorted(held)) if held else None))
    for rows, row in each(
        r.rows(
            "select customer_id, left_record_key, right_record_key, rule_name, rule_order, score "
            "from marts.identity_edges{where} "
            "order by rule_order, left_record_key, right_record_key"
        )
    ):
        rows.links.append({k: json_value(v) for k, v in row.items() if k != "customer_id"})
    if r.has("marts", "segment_membership_history"):
        for rows, row in each(
            r.rows(
                "select customer_id, segment_name, valid_from, valid_to, is_current "
                "from marts.segment_membership_history{where} order by valid_from, segment_name"
            )
        ):
            segment = str(row["segment_name"])
            entered = json_value(row["valid_from"])
            rows.segment_changes.append((segment, "entered", entered))
            if row["valid_to"] is not None:
                rows.segment_changes.append((segment, "left", json_value(row["valid_to"])))
            if row["is_current"]:
                rows.segments.append((segment, entered))
    if r.has("marts", "customer_consent_state"):
        for rows, row in each(
            r.rows(
                "select customer_id, channel, purpose, consent_status, is_granted, decided_at "
                "from marts.customer_consent_state{where} order by channel, purpose"
            )
        ):
            rows.consent.append({k: json_value(v) for k, v in row.items() if k != "customer_id"})
    if r.has("marts", "customer_predictions"):
        for rows, row in each(r.rows("select * from marts.customer_predictions{where}")):
            rows.scores = {k: json_value(v) for k, v in row.items() if k != "customer_id"}
    if r.has("marts", "customer_activities"):
        for rows, row in each(
            r.rows(
                "select customer_id, activity_id, activity_type, occurred_at, source_name, "
                "activity_detail, amount_reporting from ("
                "select *, row_number() over (partition by customer_id "
                "order by occurred_at desc, activity_id desc) as newest "
                "from marts.customer_activities{where}) as a "
                f"where newest <= {int(activity_limit)} "
                "order by customer_id, occurred_at desc, activity_id desc"
            )
        ):
            rows.events.append({k: json_value(v) for k, v in row.items() if k != "customer_id"})
    return out


def warehouse_builds(wh: Warehouse) -> list[str]:
    """The build ids of marts.customer_change_set, newest first (empty: none recorded)."""
    if not wh.has_relation("marts", "customer_change_set"):
        return []
    found = wh.rows(
        "select build_id, max(built_at) as latest from marts.customer_change_set "
        "group by build_id order by latest desc"
    )
    return [str(row[0]) for row in found]


def changed_customers(wh: Warehouse, build_id: str) -> list[str]:
    """The customers build `build_id` changed (its change set), erased ones excluded."""
    found = wh.rows(
        "select distinct customer_id from marts.customer_change_set "
        "where build_id = ? and customer_id is not null",
        [build_id],
    )
    return [str(row[0]) for row in found]


def dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), default=str)
