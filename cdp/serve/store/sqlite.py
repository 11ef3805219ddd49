"""The embedded serving store: one SQLite file in WAL mode (stdlib sqlite3, no server).

Atomic switch: a refresh writes in ONE write transaction (delete the rows it
replaces, insert the new ones, set `meta.build_id`) and commits. In WAL mode a
reader's transaction keeps the snapshot it began with, and every read method
runs in one read transaction, so a reader sees the old build or the new one,
never both. A refresh that fails half-way rolls back: the store keeps the last
good build. A full refresh replaces every customer; an incremental one only
the customers the build's change set names.

The file missing -> StoreUnavailable; a reader reopens when the file is back
(or a refresh recreated it). The collector's identity overlay and erasures
write small transactions in place.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from cdp.serve.store.extract import StoreRows, dumps, normalise
from cdp.serve.store.protocol import (
    ConsentState,
    Event,
    Explain,
    Identifier,
    Link,
    Profile,
    ProfileSummary,
    SegmentChange,
    SegmentMembership,
    SourceRecord,
    StoreUnavailable,
)

SCHEMA = """
create table if not exists meta (key text primary key, value text);
create table if not exists profiles (
    customer_id text primary key, build_id text not null, doc text not null,
    explain text not null, search_text text not null);
create table if not exists identifiers (
    id_type text not null, value text not null, customer_id text not null, source text,
    primary key (id_type, value, customer_id)) without rowid;
create index if not exists identifiers_value on identifiers (value);
create index if not exists identifiers_customer on identifiers (customer_id);
create table if not exists events (
    customer_id text not null, seq integer not null, doc text not null,
    primary key (customer_id, seq)) without rowid;
create table if not exists segment_changes (
    customer_id text not null, seq integer not null, segment text not null,
    change text not null, at text not null, primary key (customer_id, seq)) without rowid;
create table if not exists overlay (
    id_type text not null, value text not null, customer_id text not null, seen_at real,
    primary key (id_type, value)) without rowid;
"""
TABLES = ("profiles", "identifiers", "events", "segment_changes")


class SQLiteStore:
    """ProfileStore over one SQLite file; safe to share between threads (one connection each)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._local = threading.local()

    # --- connections ---------------------------------------------------------

    def _open(self, create: bool) -> sqlite3.Connection:
        if not create and not self.path.exists():
            raise StoreUnavailable(_missing(self.path))
        self.path.parent.mkdir(parents=True, exist_ok=True)
        con = sqlite3.connect(self.path, isolation_level=None, timeout=30, check_same_thread=False)
        con.execute("pragma journal_mode=wal")
        con.execute("pragma synchronous=normal")
        if create:
            con.executescript(SCHEMA)
        return con

    def _reader(self) -> sqlite3.Connection:
        try:
            stat = os.stat(self.path)
        except FileNotFoundError:
            self._drop_reader()
            raise StoreUnavailable(_missing(self.path)) from None
        held = getattr(self._local, "con", None)
        if held is not None and self._local.inode == (stat.st_dev, stat.st_ino):
            return held
        self._drop_reader()
        try:
            con = self._open(create=False)
            con.execute("select 1 from meta limit 1")
        except sqlite3.Error as exc:
            raise StoreUnavailable(f"serving store {self.path} cannot be read: {exc}") from None
        self._local.con = con
        self._local.inode = (stat.st_dev, stat.st_ino)
        return con

    def _drop_reader(self) -> None:
        held = getattr(self._local, "con", None)
        if held is not None:
            held.close()
        self._local.con = None

    @contextmanager
    def _read(self) -> Iterator[sqlite3.Connection]:
        con = self._reader()
        try:
            con.execute("begin")
        except sqlite3.Error as exc:
            self._drop_reader()
            raise StoreUnavailable(f"serving store {self.path} cannot be read: {exc}") from None
        try:
            yield con
        finally:
            con.execute("commit")

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        con = self._open(create=True)
        try:
            con.execute("begin immediate")
            try:
                yield con
            except BaseException:
                con.execute("rollback")
                raise
            con.execute("commit")
        finally:
            con.close()

    # --- read API (ProfileStore) ---------------------------------------------

    def build_id(self) -> str | None:
        with self._read() as con:
            return _build(con)

    def resolve(self, id_type: str, value: str) -> str | None:
        with self._read() as con:
            return _resolve(con, id_type, value)

    def profile(self, customer_id: str) -> Profile | None:
        with self._read() as con:
            row = con.execute(
                "select build_id, doc from profiles where customer_id = ?", [customer_id]
            ).fetchone()
            if row is None:
                return None
            ids = con.execute(
                "select id_type, value, source from identifiers where customer_id = ? "
                "union all select id_type, value, null from overlay where customer_id = ? "
                "order by 1, 2",
                [customer_id, customer_id],
            ).fetchall()
            events = con.execute(
                "select doc from events where customer_id = ? order by seq limit 10",
                [customer_id],
            ).fetchall()
            build = _build(con) or row[0]
        ids_ = [Identifier(t, v, src) for t, v, src in ids]
        return profile_doc(
            customer_id, build, json.loads(row[1]), ids_, [_event(json.loads(e[0])) for e in events]
        )

    def events(
        self, customer_id: str, limit: int, cursor: str | None = None
    ) -> tuple[list[Event], str | None]:
        start = int(cursor) if cursor and cursor.isdigit() else 0
        with self._read() as con:
            rows = con.execute(
                "select seq, doc from events where customer_id = ? and seq >= ? "
                "order by seq limit ?",
                [customer_id, start, limit + 1],
            ).fetchall()
        more = str(rows[limit][0]) if len(rows) > limit else None
        return [_event(json.loads(doc)) for _, doc in rows[:limit]], more

    def search(self, text: str, limit: int = 20) -> list[ProfileSummary]:
        needle = text.strip().lower()
        if not needle:
            return []
        escaped = needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        with self._read() as con:
            rows = con.execute(
                "select customer_id, doc from profiles where search_text like ? escape '\\' "
                "order by customer_id limit ?",
                [f"%{escaped}%", limit],
            ).fetchall()
        out = []
        for cid, doc in rows:
            out.append(_summary(cid, json.loads(doc)["traits"]))
        return out

    def explain(self, customer_id: str) -> Explain | None:
        with self._read() as con:
            row = con.execute(
                "select build_id, explain from profiles where customer_id = ?", [customer_id]
            ).fetchone()
            build = _build(con)
        if row is None:
            return None
        return _explain(customer_id, build or row[0], json.loads(row[1]))

    def segment_history(self, customer_id: str) -> list[SegmentChange]:
        with self._read() as con:
            rows = con.execute(
                "select segment, change, at from segment_changes where customer_id = ? "
                "order by at, seq",
                [customer_id],
            ).fetchall()
        return [SegmentChange(s, c, at) for s, c, at in rows]

    def holders(self, id_type: str, value: str) -> list[str]:
        """Every customer holding the identifier (an erasure removes them all)."""
        if not self.path.exists():
            return []
        with self._read() as con:
            if id_type == "customer_id":
                return [value.strip()]
            rows = con.execute(
                "select customer_id from identifiers where id_type = ? and value = ? "
                "union select customer_id from overlay where id_type = ? and value = ?",
                [id_type, normalise(id_type, value)] * 2,
            ).fetchall()
        return sorted(str(r[0]) for r in rows)

    # --- writes ----------------------------------------------------------------

    def write_build(
        self, build_id: str, rows: Iterable[StoreRows], replace: Iterable[str] | None
    ) -> int:
        """Switch the store to `build_id` in one transaction.

        replace None: a full refresh (every customer replaced); otherwise only the
        customers in `replace` are deleted and `rows` written (an incremental one)."""
        written = 0
        with self._write() as con:
            if replace is None:
                for table in TABLES:
                    con.execute(f"delete from {table}")
            else:
                ids = [(cid,) for cid in set(replace)]
                for table in TABLES:
                    con.executemany(f"delete from {table} where customer_id = ?", ids)
            for r in rows:
                _insert(con, build_id, r)
                written += 1
            con.execute(
                "insert or replace into meta values ('build_id', ?), ('refreshed_at', ?)",
                [build_id, str(time.time())],
            )
        return written

    def erase(self, customer_ids: Iterable[str]) -> int:
        """Remove customers at once (an erasure), their overlay entries too."""
        ids = [(cid,) for cid in set(customer_ids)]
        if not ids or not self.path.exists():
            return 0
        with self._write() as con:
            before = con.total_changes
            for table in (*TABLES, "overlay"):
                con.executemany(f"delete from {table} where customer_id = ?", ids)
            return con.total_changes - before

    def overlay(self, customer_id: str, identifiers: Iterable[tuple[str, str]]) -> None:
        """Map identifiers (an identify's anonymous id, user id) to a known customer now."""
        pairs = [(t, normalise(t, v), customer_id, time.time()) for t, v in identifiers if v]
        if not pairs or not self.path.exists():
            return
        with self._write() as con:
            con.executemany("insert or replace into overlay values (?, ?, ?, ?)", pairs)


def _missing(path: Path) -> str:
    return f"serving store {path} is missing (run `cdp store refresh`)"


def _build(con: sqlite3.Connection) -> str | None:
    row = con.execute("select value from meta where key = 'build_id'").fetchone()
    return None if row is None else str(row[0])


def _resolve(con: sqlite3.Connection, id_type: str, value: str) -> str | None:
    if id_type == "customer_id":
        row = con.execute(
            "select customer_id from profiles where customer_id = ?", [value.strip()]
        ).fetchone()
        return None if row is None else str(row[0])
    if id_type == "any":
        candidates = {value.strip(), normalise("email", value), normalise("phone", value)}
        marks = ", ".join("?" for _ in candidates)
        row = con.execute(
            f"select customer_id from identifiers where value in ({marks}) "
            f"union all select customer_id from overlay where value in ({marks}) "
            "union all select customer_id from profiles where customer_id = ? limit 1",
            [*candidates, *candidates, value.strip()],
        ).fetchone()
        return None if row is None else str(row[0])
    kinds = [id_type]
    if id_type == "user_id":  # Segment's userId: the ids of the sources that know the person
        kinds = ["user_id", "shop_customer_id", "crm_contact_id"]
    wanted = normalise(id_type, value)
    for kind in kinds:
        row = con.execute(
            "select customer_id from identifiers where id_type = ? and value = ? "
            "union all select customer_id from overlay where id_type = ? and value = ? limit 1",
            [kind, wanted, kind, wanted],
        ).fetchone()
        if row is not None:
            return str(row[0])
    return None


def _profile_fields(r: StoreRows) -> dict[str, Any]:
    last = r.events[0]["occurred_at"] if r.events else None
    by_type: dict[str, int] = {}
    for e in r.events:
        by_type[e["activity_type"]] = by_type.get(e["activity_type"], 0) + 1
    return {
        "traits": r.traits,
        "field_groups": r.field_groups(),
        "segments": r.segments,
        "consent": r.consent,
        "scores": r.scores,
        "activity": {"recent_count": len(r.events), "last_at": last, "by_type": by_type},
    }


def profile_doc(
    customer_id: str,
    build_id: str,
    doc: dict[str, Any],
    identifiers: list[Identifier],
    events: list[Event],
) -> Profile:
    return Profile(
        customer_id=customer_id,
        build_id=build_id,
        traits=doc["traits"],
        field_groups=doc["field_groups"],
        identifiers=identifiers,
        segments=[SegmentMembership(s, at) for s, at in doc["segments"]],
        consent=[_consent(c) for c in doc["consent"]],
        scores=doc["scores"],
        activity=doc["activity"],
        recent_events=events,
    )


def _summary(customer_id: str, t: dict[str, Any]) -> ProfileSummary:
    name = " ".join(p for p in (t.get("first_name"), t.get("last_name")) if p) or None
    return ProfileSummary(customer_id, name, t.get("email"), t.get("phone_e164"))


def _explain(customer_id: str, build_id: str, data: dict[str, Any]) -> Explain:
    records = [
        SourceRecord(
            r["source_name"],
            r["source_record_id"],
            r["record_key"],
            r.get("first_name"),
            r.get("last_name"),
            r.get("email"),
            r.get("phone_e164"),
        )
        for r in data["records"]
    ]
    links = [
        Link(
            e["left_record_key"],
            e["right_record_key"],
            e["rule_name"],
            int(e["rule_order"]),
            e.get("score"),
        )
        for e in data["links"]
    ]
    return Explain(customer_id, build_id, records, links)


def _insert(con: sqlite3.Connection, build_id: str, r: StoreRows) -> None:
    doc = _profile_fields(r)
    explain = {"records": r.records, "links": r.links}
    con.execute(
        "insert into profiles values (?, ?, ?, ?, ?)",
        [r.customer_id, build_id, dumps(doc), dumps(explain), r.search_text()],
    )
    con.executemany(
        "insert or ignore into identifiers values (?, ?, ?, ?)",
        [(t, v, r.customer_id, s) for t, v, s in r.identifiers],
    )
    con.executemany(
        "insert into events values (?, ?, ?)",
        [(r.customer_id, i, dumps(e)) for i, e in enumerate(r.events)],
    )
    con.executemany(
        "insert into segment_changes values (?, ?, ?, ?, ?)",
        [(r.customer_id, i, s, c, at) for i, (s, c, at) in enumerate(r.segment_changes)],
    )


def _consent(c: dict[str, Any]) -> ConsentState:
    return ConsentState(
        c["channel"], c["purpose"], c["consent_status"], bool(c["is_granted"]), c["decided_at"]
    )


def _event(e: dict[str, Any]) -> Event:
    return Event(
        str(e["activity_id"]),
        e["activity_type"],
        e["occurred_at"],
        e.get("source_name"),
        e.get("activity_detail"),
        e.get("amount_reporting"),
    )
