"""The harness of issue #15: after each batch shape, an incremental `cdp build`
gives exactly the marts a `cdp build --full-refresh` gives on the same data.

The shapes run in three rounds, so that the suite builds six times instead of
sixteen: the six identity shapes (new people, a new record of a known person,
a merge, a split, an erasure, an email pushed past the max-sharers limit) on
disjoint customers in one round, then the events-only batch, then the day
change (which must append no change, so it needs a round with no data change).

Each round copies the complete base warehouse (every model and the scores,
built without the last month of events), applies its shapes to the raw tables
the way a source system or `cdp privacy erase` would, copies that warehouse
again, builds one copy incrementally and the other with `--full-refresh`, and
compares every relation of the `marts` schema row by row
(tests/incremental/compare.py). A mismatch names the round, its shapes, the
relation and the rows found on one side only. Columns that say when or by
which run a row was written are left out (EXCLUDED_COLUMNS).

Each shape also checks that it did what it says (a merge merged, a split
split), so that an equality is never the equality of two unchanged builds; a
failed check names its shape. A shape picks customers no earlier shape of its
round touched, and says which customers it may have changed: the round fails
when the change set names a customer no shape accounts for.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.engines.engine_builds import EXCLUDED_COLUMNS
from tests.incremental.compare import relations_in, row_differences
from tests.incremental.conftest import Complete, cdp_build, execute, held_by_one, query, run_cli

EXCLUDED = EXCLUDED_COLUMNS | {
    # the change set's record of the build that wrote it (each side is its own)
    "customer_change_set__state": {"build_id", "built_at"},
}


@dataclass
class Shape:
    """What a shape did to the raw tables, the build arguments it needs, and a
    check on the incremental result that the shape had its effect; the check
    returns the customers the shape may have changed (what the change set may
    name for it)."""

    build_args: list[str] = field(default_factory=list)
    check: Callable[[Path], set[str]] | None = None


@dataclass
class Round:
    """The state the shapes of one round share: the customers already picked by
    an earlier shape (so that shapes stay disjoint) and the held-back files."""

    held_back: Path
    taken: set[str] = field(default_factory=set)

    def avoided(self) -> str:
        """The taken customers as a SQL list (never empty)."""
        return ", ".join(f"'{c}'" for c in sorted(self.taken | {""}))


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _subscribe(
    warehouse: Path,
    subscriber_id: str,
    email: str | None,
    phone: str | None,
    first_name: str | None = "Quentin",
    last_name: str | None = "Harness",
) -> None:
    """A new (version of an) email subscriber, landed now as `cdp ingest` would."""
    execute(
        warehouse,
        """insert into raw.email_subscribers
        (subscriber_id, email_address, first_name, last_name, phone, status,
         opted_in_at, updated_at, _loaded_at, _source_file, _source_line)
        values (?, ?, ?, ?, ?, 'subscribed', '2026-06-29 09:00:00', ?, ?, ?, 1)""",
        [
            subscriber_id,
            email,
            first_name,
            last_name,
            phone,
            _now(),
            _now(),
            f"email_subscribers/harness-{subscriber_id}.csv",
        ],
    )


def _customer_of(warehouse: Path, source: str, record_id: str) -> str:
    rows = query(
        warehouse,
        f"select customer_id from marts.customer_source_records "
        f"where source_name = '{source}' and source_record_id = '{record_id}'",
    )
    assert len(rows) == 1, (source, record_id, rows)
    return str(rows[0][0])


def _records_of(warehouse: Path, customer: str) -> list[tuple[str, str]]:
    """(source_name, source_record_id) of every record of `customer`."""
    rows = query(
        warehouse,
        f"select source_name, source_record_id from marts.customer_source_records "
        f"where customer_id = '{customer}' order by 1, 2",
    )
    return [(str(s), str(r)) for s, r in rows]


def _changes(warehouse: Path) -> set[tuple[str | None, str]]:
    """(customer_id, reason) of the latest build's change set."""
    rows = query(
        warehouse,
        """select customer_id, reason from marts.customer_change_set
        where built_at = (select max(built_at) from marts.customer_change_set)""",
    )
    return {(None if c is None else str(c), str(r)) for c, r in rows}


def _changes_of(warehouse: Path, customers: set[str]) -> set[tuple[str | None, str]]:
    """The latest build's changes of `customers` only."""
    return {(c, r) for c, r in _changes(warehouse) if c in customers}


def _latest_build(warehouse: Path) -> object:
    return query(warehouse, "select max(built_at) from marts.customer_change_set")[0][0]


def _exists(warehouse: Path, customer: str) -> bool:
    return bool(query(warehouse, f"select 1 from marts.customers where customer_id = '{customer}'"))


# --- the shapes --------------------------------------------------------------------------


def new_people(warehouse: Path, round_: Round) -> Shape:
    _subscribe(warehouse, "harness-new-1", "quentin.harness@example.org", "+447700900101")
    _subscribe(
        warehouse, "harness-new-2", "ada.harness@example.org", "+447700900102", first_name="Ada"
    )

    def check(built: Path) -> set[str]:
        first = _customer_of(built, "email_subscribers", "harness-new-1")
        second = _customer_of(built, "email_subscribers", "harness-new-2")
        assert first != second
        # each is a customer of its own, not added to someone else
        assert _records_of(built, first) == [("email_subscribers", "harness-new-1")]
        assert _records_of(built, second) == [("email_subscribers", "harness-new-2")]
        assert {(first, "new_record"), (second, "new_record")} == _changes_of(
            built, {first, second}
        )
        return {first, second}

    return Shape(check=check)


def known_person(warehouse: Path, round_: Round) -> Shape:
    person, email = held_by_one(warehouse, "email", avoid=round_.taken)
    round_.taken.add(person)
    records = _records_of(warehouse, person)
    # unnamed, as a newsletter sign-up is: the email alone links it
    _subscribe(warehouse, "harness-known-1", email, None, None, None)

    def check(built: Path) -> set[str]:
        assert _customer_of(built, "email_subscribers", "harness-known-1") == person
        # the person kept every record and gained only the new one
        assert _records_of(built, person) == sorted(
            [*records, ("email_subscribers", "harness-known-1")]
        )
        assert _changes_of(built, {person}) == {(person, "new_record")}
        return {person}

    return Shape(check=check)


def merge(warehouse: Path, round_: Round) -> Shape:
    first, email = held_by_one(warehouse, "email", avoid=round_.taken)
    second, phone = held_by_one(warehouse, "phone", skip=first, avoid=round_.taken)
    round_.taken |= {first, second}
    records = {*_records_of(warehouse, first), *_records_of(warehouse, second)}
    # unnamed: a name of its own would make the email and the phone look shared
    # by two people, and the rules trusting a value held by one would not link
    _subscribe(warehouse, "harness-merge-1", email, phone, None, None)

    def check(built: Path) -> set[str]:
        survivor = _customer_of(built, "email_subscribers", "harness-merge-1")
        assert survivor in {first, second}
        retired = second if survivor == first else first
        assert not _exists(built, retired)
        # both people's records are now the survivor's
        assert set(_records_of(built, survivor)) == records | {
            ("email_subscribers", "harness-merge-1")
        }
        changes = _changes_of(built, {first, second})
        assert {(survivor, "new_record"), (retired, "identity_changed")} <= changes
        return {survivor, retired}

    return Shape(check=check)


def split(warehouse: Path, round_: Round) -> Shape:
    """An email subscriber held in its customer only by email or phone edges:
    a new version of it with other values (and another name) removes its only
    links, so it leaves that customer and becomes one of its own."""
    rows = query(
        warehouse,
        f"""with touching as (
            select customer_id, left_record_key as record_key, rule_name
            from marts.identity_edges
            union all
            select customer_id, right_record_key, rule_name
            from marts.identity_edges
        )
        select customer_id, record_key from touching
        where record_key like 'email_subscribers:%'
            and customer_id not in ({round_.avoided()})
        group by customer_id, record_key
        having bool_and(rule_name similar to '(email|phone).*')
        order by customer_id, record_key
        limit 1""",
    )
    assert rows, "no email subscriber linked by email or phone only"
    customer, subscriber = str(rows[0][0]), str(rows[0][1]).split(":", 1)[1]
    round_.taken.add(customer)
    _subscribe(
        warehouse, subscriber, "moved.away.harness@example.org", "+447700900199", "Zoe", "Moved"
    )

    def check(built: Path) -> set[str]:
        # the subscriber no longer shares a customer with its old records
        moved = _customer_of(built, "email_subscribers", subscriber)
        assert _records_of(built, moved) == [("email_subscribers", subscriber)], (
            customer,
            subscriber,
        )
        assert moved != customer or len(_records_of(built, customer)) == 1
        changes = _changes_of(built, {customer, moved})
        assert (moved, "changed_record") in changes
        assert {(customer, "identity_changed"), (moved, "identity_changed")} & changes
        return {customer, moved}

    return Shape(check=check)


def erasure(warehouse: Path, round_: Round) -> Shape:
    (customer,) = query(
        warehouse,
        f"""select customer_id from marts.customer_source_records
        where customer_id not in ({round_.avoided()})
        group by customer_id having count(*) >= 3 order by customer_id limit 1""",
    )[0]
    round_.taken.add(str(customer))
    run_cli(warehouse, "privacy", "erase", "--customer-id", str(customer), "--no-build")

    def check(built: Path) -> set[str]:
        assert not _exists(built, str(customer))
        # the change set says an erasure happened, without the erased id
        assert (None, "erased") in _changes(built)
        assert (
            query(
                built,
                f"select 1 from marts.customer_change_set where customer_id = '{customer}'",
            )
            == []
        )
        return set()

    return Shape(check=check)


def over_shared(warehouse: Path, round_: Round) -> Shape:
    """An email value that links people today (not blocked, shared by as many
    people as allowed or fewer) gets new records with new first-name initials
    until more people than `max_people_per_identifier` share it: its old
    edges must go."""
    rows = query(
        warehouse,
        f"""select screened.identifier_value, screened.people_count
        from intermediate.int_identity_identifiers_screened as screened
        where screened.identifier_type = 'email' and not screened.is_blocked
            and screened.record_count >= 2
            and not exists (
                select 1 from marts.customer_identifiers as held
                where held.identifier_value = screened.identifier_value
                    and held.customer_id in ({round_.avoided()}))
        order by screened.people_count desc, screened.identifier_value
        limit 1""",
    )
    assert rows, "no shared, unblocked email"
    email, people = str(rows[0][0]), int(rows[0][1])  # type: ignore[call-overload]
    holders = {
        str(c)
        for (c,) in query(
            warehouse,
            f"select distinct customer_id from marts.customer_identifiers "
            f"where identifier_value = '{email}'",
        )
    }
    round_.taken |= holders
    records = [r for holder in sorted(holders) for r in _records_of(warehouse, holder)]
    initials = {
        str(r[0])
        for r in query(
            warehouse,
            f"""select upper(substr(first_name, 1, 1))
            from marts.customer_identifiers
            inner join marts.customer_source_records using (customer_id)
            inner join intermediate.int_identity_records_unioned as records
                on records.record_key = customer_source_records.source_name || ':'
                    || customer_source_records.source_record_id
            where identifier_value = '{email}' and first_name is not null""",
        )
    }
    names = [n for n in ("Xavier", "Yolanda", "Ursula", "Ignatius", "Olga") if n[0] not in initials]
    added = [f"harness-shared-{number}" for number in range(1, len(names[: 4 - people]) + 1)]
    for subscriber, name in zip(added, names, strict=False):
        _subscribe(warehouse, subscriber, email, None, first_name=name)

    def check(built: Path) -> set[str]:
        ((blocked,),) = query(
            built,
            f"""select is_blocked from intermediate.int_identity_identifiers_screened
            where identifier_type = 'email' and identifier_value = '{email}'""",
        )
        assert blocked is True
        # the old holders' records and the new ones, wherever they are now
        now = {_customer_of(built, source, record) for source, record in records}
        return holders | now | {_customer_of(built, "email_subscribers", s) for s in added}

    return Shape(check=check)


def events_only(warehouse: Path, round_: Round) -> Shape:
    run_cli(warehouse, "ingest", "--input", str(round_.held_back))

    def check(built: Path) -> set[str]:
        ((june,),) = query(
            built,
            "select count(*) from marts.customer_activities where occurred_at >= '2026-06-01'",
        )
        assert int(june) > 0  # type: ignore[call-overload]
        changes = _changes(built)
        assert any(reason == "new_activity" for _, reason in changes)
        # the month's orders and receipts also bring new records (guest
        # checkouts): alone in its round, the shape accounts for every change
        return {str(c) for c, _ in changes}

    return Shape(check=check)


def day_change(warehouse: Path, round_: Round) -> Shape:
    ((built_before,),) = query(warehouse, "select max(built_at) from marts.customer_change_set")

    def check(built: Path) -> set[str]:
        # no record or activity changed: the build appended no change
        assert query(built, "select max(built_at) from marts.customer_change_set") == [
            (built_before,)
        ]
        return set()

    return Shape(build_args=["--vars", "{cdp__as_of_date: '2026-07-01'}"], check=check)


# The rounds, each built once incrementally and once with --full-refresh. The
# identity shapes run in this order: the most constrained pick (a shared
# email, whose holders the others must avoid) first.
ROUNDS: dict[str, dict[str, Callable[[Path, Round], Shape]]] = {
    "identity_shapes": {
        "placeholder_becomes_over_shared": over_shared,
        "erasure": erasure,
        "split": split,
        "merge": merge,
        "new_record_of_known_person": known_person,
        "new_people": new_people,
    },
    "events_only": {"events_only": events_only},
    "day_change": {"day_change": day_change},
}


@pytest.mark.parametrize("round_name", list(ROUNDS))
def test_incremental_build_equals_full_refresh(
    round_name: str, complete_base: Complete, tmp_path: Path
) -> None:
    incremental = tmp_path / "incremental" / complete_base.warehouse.name
    full = tmp_path / "full" / complete_base.warehouse.name
    incremental.parent.mkdir()
    full.parent.mkdir()
    shutil.copy(complete_base.warehouse, incremental)
    round_ = Round(complete_base.held_back)
    shapes = {name: make(incremental, round_) for name, make in ROUNDS[round_name].items()}
    build_args = [arg for shape in shapes.values() for arg in shape.build_args]
    shutil.copy(incremental, full)
    target = tmp_path / "dbt_target"
    shutil.copytree(complete_base.dbt_target, target)

    cdp_build(incremental, target, *build_args)
    cdp_build(full, target, "--full-refresh", *build_args)

    failed: list[str] = []
    accounted: set[str] = set()
    for name, shape in shapes.items():
        if shape.check is None:
            continue
        try:
            accounted |= shape.check(incremental)
        except AssertionError as error:
            failed.append(f"{name}: did not have its effect: {error!r}")
    # what this build appended to the change set (none when it appended nothing)
    appended = _latest_build(incremental) != _latest_build(complete_base.warehouse)
    flagged = {c for c, _ in _changes(incremental) if c is not None} if appended else set()
    if not failed and not flagged <= accounted:
        failed.append(
            f"the change set names customers no shape changed: {sorted(flagged - accounted)[:10]}"
        )
    assert failed == [], f"round {round_name}:\n" + "\n".join(failed)

    relations = relations_in(incremental, "marts")
    assert relations == relations_in(full, "marts")
    assert len(relations) > 20
    problems = row_differences(incremental, full, relations, EXCLUDED)
    assert problems == [], (
        f"round {round_name} (shapes: {', '.join(shapes)}): incremental != full refresh\n"
        + "\n".join(problems)
    )
