"""`cdp identity review`: the pairs identity resolution is least sure about, and the
analyst's decisions on them.

The queue is the mart `identity_review_pairs` (built by `cdp build`). Accepting a pair
appends a row to the always-match override seed, rejecting one to the never-match seed
(`dbt_project/seeds/identity/`); the next build applies them and the pair leaves the
queue. Everything is checked before anything is written: an unknown pair, a pair
already decided or a malformed override file is a ReviewError (one line) and both
files stay as they were.
"""

from __future__ import annotations

import csv
import io
import json
import os
import tempfile
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cdp.config import Settings
from cdp.warehouse import Warehouse

QUEUE = ("marts", "identity_review_pairs")
ALWAYS_MATCH = "identity_always_match.csv"
NEVER_MATCH = "identity_never_match.csv"
KEY_COLUMNS = (
    "left_source_name",
    "left_source_record_id",
    "right_source_name",
    "right_source_record_id",
)
# The shipped header; a file with the older one (no decided_by, decided_at) is
# still read and written in its own shape.
HEADER = (*KEY_COLUMNS, "reason", "decided_by", "decided_at")
LEGACY_HEADER = (*KEY_COLUMNS, "reason")
ATTRIBUTES = (
    "first_name",
    "last_name",
    "birth_date",
    "email",
    "phone_e164",
    "address_line_1",
    "postal_code",
    "city",
)


class ReviewError(RuntimeError):
    """Bad input to `cdp identity review` (one line); nothing was written."""


def overrides_dir(settings: Settings) -> Path:
    """Where the override seeds live: the dbt project's seeds/identity folder."""
    return settings.dbt_project_dir / "seeds" / "identity"


@dataclass(frozen=True)
class ReviewPair:
    """One row of the queue: a pair, its score against the threshold, both records."""

    pair_id: str
    review_kind: str
    rule_name: str
    score: float
    threshold: float
    comparison_levels: str | None
    is_same_customer: bool
    left: dict[str, Any]
    right: dict[str, Any]
    pending: str | None = None  # accepted | rejected: written, not yet built

    @property
    def distance(self) -> float:
        return self.score - self.threshold

    def to_json(self) -> dict[str, Any]:
        return {
            "pair_id": self.pair_id,
            "review_kind": self.review_kind,
            "rule_name": self.rule_name,
            "score": round(self.score, 4),
            "threshold": round(self.threshold, 4),
            "distance_from_threshold": round(self.distance, 4),
            "comparison_levels": self.comparison_levels,
            "is_same_customer": self.is_same_customer,
            "pending_decision": self.pending,
            "left": {k: _jsonable(v) for k, v in self.left.items()},
            "right": {k: _jsonable(v) for k, v in self.right.items()},
        }

    def render(self) -> str:
        """The pair as a block: a heading, then both records side by side."""
        what = "weight" if self.review_kind == "probabilistic" else "score"
        status = "same customer" if self.is_same_customer else "different customers"
        if self.pending:
            status += f"  [{self.pending}, applied by the next build]"
        lines = [
            f"{self.pair_id}  {self.review_kind}  {self.rule_name}  "
            f"{what} {self.score:.3f} (threshold {self.threshold:.3f}, "
            f"{self.distance:+.3f})  {status}"
        ]
        rows = [
            ("record", _record_label(self.left), _record_label(self.right)),
            ("customer", self.left["customer_id"], self.right["customer_id"]),
            ("links", self.left["link_count"], self.right["link_count"]),
            *((name, self.left[name], self.right[name]) for name in ATTRIBUTES),
        ]
        width = max(len(_cell(left)) for _, left, _ in rows)
        width = min(max(width, 12), 40)
        for name, left, right in rows:
            mark = " " if _cell(left) == _cell(right) else "≠"
            lines.append(f"  {name:<15}{_cell(left)[:40]:<{width}}  {mark} {_cell(right)[:40]}")
        if self.comparison_levels:
            lines.append(f"  {'levels':<15}{self.comparison_levels}")
        return "\n".join(lines)


def _record_label(record: dict[str, Any]) -> str:
    return f"{record['source_name']}:{record['source_record_id']}"


def _cell(value: object) -> str:
    return "" if value is None else str(value)


def _jsonable(value: object) -> object:
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


RECORD_FIELDS = ("record_key", "source_name", "source_record_id", "customer_id", "link_count")


def _select_list() -> str:
    sides = [
        f"{side}_{field}" for side in ("left", "right") for field in (*RECORD_FIELDS, *ATTRIBUTES)
    ]
    head = [
        "pair_id",
        "review_kind",
        "rule_name",
        "score",
        "threshold",
        "comparison_levels",
        "is_same_customer",
    ]
    return ", ".join(head + sides)


def _pair(row: dict[str, Any]) -> ReviewPair:
    def side(prefix: str) -> dict[str, Any]:
        return {field: row[f"{prefix}_{field}"] for field in (*RECORD_FIELDS, *ATTRIBUTES)}

    return ReviewPair(
        pair_id=str(row["pair_id"]),
        review_kind=str(row["review_kind"]),
        rule_name=str(row["rule_name"]),
        score=float(row["score"]),
        threshold=float(row["threshold"]),
        comparison_levels=row["comparison_levels"],
        is_same_customer=bool(row["is_same_customer"]),
        left=side("left"),
        right=side("right"),
    )


def require_queue(connection: Warehouse) -> None:
    if QUEUE not in connection.relations():
        raise ReviewError(
            f"{connection.description} has no {'.'.join(QUEUE)}; run `cdp build` first"
        )


def load_queue(connection: Warehouse, limit: int | None = None) -> list[ReviewPair]:
    """The queue, closest to the threshold first (then by pair id)."""
    require_queue(connection)
    query = (
        f"select {_select_list()} from {'.'.join(QUEUE)} "
        "order by abs(distance_from_threshold), pair_id"
    )
    if limit is not None:
        query += f" limit {int(limit)}"
    names, rows = connection.fetch(query)
    return [_pair(dict(zip(names, row, strict=True))) for row in rows]


def with_pending(settings: Settings, pairs: list[ReviewPair]) -> list[ReviewPair]:
    """The pairs, each marked with a decision the override files hold but no build has
    applied yet; ReviewError when a file is malformed."""
    folder = overrides_dir(settings)
    decided = {
        decision: read_override_file(folder / name).pairs
        for decision, name in (("accepted", ALWAYS_MATCH), ("rejected", NEVER_MATCH))
    }
    marked = []
    for pair in pairs:
        keys = frozenset({pair.left["record_key"], pair.right["record_key"]})
        pending = next((d for d, found in decided.items() if keys in found), None)
        marked.append(replace(pair, pending=pending))
    return marked


def find_pair(connection: Warehouse, pair_id: str) -> ReviewPair:
    require_queue(connection)
    names, rows = connection.fetch(
        f"select {_select_list()} from {'.'.join(QUEUE)} where pair_id = ?", [pair_id]
    )
    if not rows:
        raise ReviewError(
            f"no pair '{pair_id}' in the review queue (`cdp identity review` lists them)"
        )
    return _pair(dict(zip(names, rows[0], strict=True)))


def render_queue(pairs: list[ReviewPair], total: int) -> str:
    if not pairs:
        return "the review queue is empty"
    shown = f"{len(pairs)} of {total}" if total > len(pairs) else str(total)
    blocks = [f"{shown} pair(s) to review, closest to the threshold first"]
    blocks += [pair.render() for pair in pairs]
    blocks.append(
        "decide with `cdp identity review accept PAIR` or `cdp identity review reject PAIR`"
    )
    return "\n\n".join(blocks)


def queue_size(connection: Warehouse) -> int:
    require_queue(connection)
    found = connection.one(f"select count(*) from {'.'.join(QUEUE)}")
    return int(found[0]) if found else 0


def queue_json(pairs: list[ReviewPair]) -> str:
    return json.dumps([pair.to_json() for pair in pairs], indent=2, ensure_ascii=False)


# --- the override files -------------------------------------------------------------


@dataclass(frozen=True)
class OverrideFile:
    """One override seed as read: its header and its rows' record-key pairs."""

    path: Path
    header: tuple[str, ...]
    text: str
    pairs: dict[frozenset[str], int]  # {the two record keys: line number}


def read_override_file(path: Path) -> OverrideFile:
    """Read and check one override seed; ReviewError naming the file and line when
    it is malformed (not UTF-8, an unexpected header, a row of the wrong width or
    with an empty record key)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ReviewError(f"override file {path} is missing") from None
    except UnicodeDecodeError:
        raise ReviewError(f"override file {path} is not UTF-8 text") from None
    rows = list(csv.reader(io.StringIO(text)))
    if not rows:
        raise ReviewError(f"override file {path} is empty: it needs the header {','.join(HEADER)}")
    header = tuple(cell.strip() for cell in rows[0])
    if header not in (HEADER, LEGACY_HEADER):
        raise ReviewError(
            f"override file {path}: header {','.join(header)!r} is not {','.join(HEADER)!r}"
        )
    pairs: dict[frozenset[str], int] = {}
    for number, row in enumerate(rows[1:], start=2):
        if not row:
            continue
        if len(row) != len(header):
            raise ReviewError(
                f"override file {path}, line {number}: {len(row)} fields, "
                f"the header has {len(header)}"
            )
        keys = [cell.strip() for cell in row[:4]]
        if not all(keys):
            raise ReviewError(f"override file {path}, line {number}: an empty record key")
        pair = frozenset({f"{keys[0]}:{keys[1]}", f"{keys[2]}:{keys[3]}"})
        pairs.setdefault(pair, number)
    return OverrideFile(path, header, text, pairs)


@dataclass(frozen=True)
class Decision:
    """What `accept` or `reject` wrote."""

    pair: ReviewPair
    decision: str  # accepted | rejected
    path: Path
    row: dict[str, str]
    detached: dict[str, Any] | None  # rejected: the record cut from its links

    def render(self) -> str:
        kept = f"{self.row['left_source_name']}:{self.row['left_source_record_id']}"
        second = f"{self.row['right_source_name']}:{self.row['right_source_record_id']}"
        lines = [f"{self.decision} {self.pair.pair_id}: {kept} <-> {second}, in {self.path}"]
        if self.detached is not None:
            lines.append(
                f"the next build detaches {second} from its {self.detached['link_count']} "
                f"rule-made link(s), so no chain joins it to {kept}"
            )
        lines.append("the next `cdp build` applies it")
        return "\n".join(lines)


def decide(
    settings: Settings,
    connection: Warehouse,
    pair_id: str,
    decision: str,
    *,
    reason: str | None = None,
    decided_by: str | None = None,
    now: datetime | None = None,
) -> Decision:
    """Accept (always-match) or reject (never-match) a queued pair: checks the pair and
    both override files, then appends one row to one file (replaced atomically)."""
    if decision not in ("accepted", "rejected"):
        raise ValueError(decision)
    pair = find_pair(connection, pair_id)
    folder = overrides_dir(settings)
    files = {name: read_override_file(folder / name) for name in (ALWAYS_MATCH, NEVER_MATCH)}
    keys = frozenset({pair.left["record_key"], pair.right["record_key"]})
    for found in files.values():
        if keys in found.pairs:
            raise ReviewError(
                f"pair {pair_id} is already decided: {found.path.name} line {found.pairs[keys]}"
            )
    first, second = pair.left, pair.right
    if decision == "rejected" and pair.left["link_count"] < pair.right["link_count"]:
        # never-match detaches its second record from every rule-made link: cut the
        # record that has fewer, so the least of the rest of its customer goes with it
        first, second = pair.right, pair.left
    default_reason = (
        f"review {decision}: {pair.review_kind} {pair.rule_name} "
        f"score {pair.score:.3f} threshold {pair.threshold:.3f}"
    )
    row = {
        "left_source_name": str(first["source_name"]),
        "left_source_record_id": str(first["source_record_id"]),
        "right_source_name": str(second["source_name"]),
        "right_source_record_id": str(second["source_record_id"]),
        "reason": " ".join((reason or default_reason).split()),
        "decided_by": decided_by or _user(),
        "decided_at": (now or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    target = files[ALWAYS_MATCH if decision == "accepted" else NEVER_MATCH]
    _append_row(target, row)
    return Decision(pair, decision, target.path, row, second if decision == "rejected" else None)


def _user() -> str:
    for name in ("CDP_REVIEWER", "USER", "LOGNAME"):
        value = os.environ.get(name)
        if value:
            return value
    return "unknown"


def _append_row(target: OverrideFile, row: dict[str, str]) -> None:
    """The file's text plus one row (in the file's own header's shape), written to a
    temporary file beside it and moved over it: a crash leaves the old file or the new."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow([row[name] for name in target.header])
    text = target.text
    if text and not text.endswith("\n"):
        text += "\n"
    handle, temporary = tempfile.mkstemp(dir=target.path.parent, prefix=".review-", suffix=".csv")
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as out:
            out.write(text + buffer.getvalue())
        os.replace(temporary, target.path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
