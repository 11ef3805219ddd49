"""The harness of issue #15: after each batch shape, an incremental `cdp build`
gives exactly the marts a `cdp build --full-refresh` gives on the same data.

Each test copies the complete base warehouse (every model and the scores,
built without the last month of events), applies one batch shape to its raw
tables the way a source system or `cdp privacy erase` would, copies that
warehouse again, builds one copy incrementally and the other with
`--full-refresh`, and compares every relation of the `marts` schema row by
row (tests/incremental/compare.py). A mismatch names the relation and the
rows found on one side only. Columns that say when or by which run a row was
written are left out (EXCLUDED_COLUMNS).

Each shape also checks that it did what it says (a merge merged, a split
split), so that an equality is never the equality of two unchanged builds.
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
    check on the incremental result that the shape had its effect."""

    build_args: list[str] = field(default_factory=list)
    check: Callable[[Path], None] | None = None


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


def _changes(warehouse: Path) -> set[tuple[str | None, str]]:
    """(customer_id, reason) of the latest build's change set."""
    rows = query(
        warehouse,
        """select customer_id, reason from marts.customer_change_set
        where built_at = (select max(built_at) from marts.customer_change_set)""",
    )
    return {(None if c is None else str(c), str(r)) for c, r in rows}


def _customer_count(warehouse: Path) -> int:
    return int(query(warehouse, "select count(*) from marts.customers")[0][0])  # type: ignore[arg-type]


# --- the shapes --------------------------------------------------------------------------


def new_people(warehouse: Path) -> Shape:
    before = _customer_count(warehouse)
    _subscribe(warehouse, "harness-new-1", "quentin.harness@example.org", "+447700900101")
    _subscribe(
        warehouse, "harness-new-2", "ada.harness@example.org", "+447700900102", first_name="Ada"
    )

    def check(built: Path) -> None:
        assert _customer_count(built) == before + 2
        first = _customer_of(built, "email_subscribers", "harness-new-1")
        second = _customer_of(built, "email_subscribers", "harness-new-2")
        assert first != second
        assert {(first, "new_record"), (second, "new_record")} == _changes(built)

    return Shape(check=check)


def known_person(warehouse: Path) -> Shape:
    person, email = held_by_one(warehouse, "email")
    before = _customer_count(warehouse)
    # unnamed, as a newsletter sign-up is: the email alone links it
    _subscribe(warehouse, "harness-known-1", email, None, None, None)

    def check(built: Path) -> None:
        assert _customer_of(built, "email_subscribers", "harness-known-1") == person
        assert _customer_count(built) == before
        assert _changes(built) == {(person, "new_record")}

    return Shape(check=check)


def merge(warehouse: Path) -> Shape:
    first, email = held_by_one(warehouse, "email")
    second, phone = held_by_one(warehouse, "phone", skip=first)
    before = _customer_count(warehouse)
    # unnamed: a name of its own would make the email and the phone look shared
    # by two people, and the rules trusting a value held by one would not link
    _subscribe(warehouse, "harness-merge-1", email, phone, None, None)

    def check(built: Path) -> None:
        assert _customer_count(built) == before - 1
        survivor = _customer_of(built, "email_subscribers", "harness-merge-1")
        assert survivor in {first, second}
        retired = second if survivor == first else first
        changes = _changes(built)
        assert {(survivor, "new_record"), (retired, "identity_changed")} <= changes
        assert {c for c, _ in changes} == {survivor, retired}

    return Shape(check=check)


def split(warehouse: Path) -> Shape:
    """An email subscriber held in its customer only by email or phone edges:
    a new version of it with other values (and another name) removes its only
    links, so it leaves that customer and becomes one of its own."""
    rows = query(
        warehouse,
        """with touching as (
            select customer_id, left_record_key as record_key, rule_name
            from marts.identity_edges
            union all
            select customer_id, right_record_key, rule_name
            from marts.identity_edges
        )
        select customer_id, record_key from touching
        where record_key like 'email_subscribers:%'
        group by customer_id, record_key
        having bool_and(rule_name similar to '(email|phone).*')
        order by customer_id, record_key
        limit 1""",
    )
    assert rows, "no email subscriber linked by email or phone only"
    customer, subscriber = str(rows[0][0]), str(rows[0][1]).split(":", 1)[1]
    before = _customer_count(warehouse)
    _subscribe(
        warehouse, subscriber, "moved.away.harness@example.org", "+447700900199", "Zoe", "Moved"
    )

    def check(built: Path) -> None:
        assert _customer_count(built) >= before + 1
        # the subscriber no longer shares a customer with its old records
        ((together,),) = query(
            built,
            f"""select count(*) from marts.customer_source_records
            where customer_id = (
                select customer_id from marts.customer_source_records
                where source_name = 'email_subscribers'
                    and source_record_id = '{subscriber}')""",
        )
        assert together == 1, (customer, subscriber, together)
        moved = _customer_of(built, "email_subscribers", subscriber)
        changes = _changes(built)
        assert (moved, "changed_record") in changes
        assert {(customer, "identity_changed"), (moved, "identity_changed")} & changes

    return Shape(check=check)


def erasure(warehouse: Path) -> Shape:
    (customer,) = query(
        warehouse,
        """select customer_id from marts.customer_source_records
        group by customer_id having count(*) >= 3 order by customer_id limit 1""",
    )[0]
    run_cli(warehouse, "privacy", "erase", "--customer-id", str(customer), "--no-build")

    def check(built: Path) -> None:
        assert query(built, f"select 1 from marts.customers where customer_id = '{customer}'") == []
        # the change set says an erasure happened, without the erased id
        assert (None, "erased") in _changes(built)
        assert (
            query(
                built,
                f"select 1 from marts.customer_change_set where customer_id = '{customer}'",
            )
            == []
        )

    return Shape(check=check)


def over_shared(warehouse: Path) -> Shape:
    """An email value that links people today (not blocked, shared by as many
    people as allowed or fewer) gets new records with new first-name initials
    until more people than `max_people_per_identifier` share it: its old
    edges must go."""
    rows = query(
        warehouse,
        """select screened.identifier_value, screened.people_count
        from intermediate.int_identity_identifiers_screened as screened
        where screened.identifier_type = 'email' and not screened.is_blocked
            and screened.record_count >= 2
        order by screened.people_count desc, screened.identifier_value
        limit 1""",
    )
    assert rows, "no shared, unblocked email"
    email, people = str(rows[0][0]), int(rows[0][1])  # type: ignore[call-overload]
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
    for number, name in enumerate(names[: 4 - people], start=1):
        _subscribe(warehouse, f"harness-shared-{number}", email, None, first_name=name)

    def check(built: Path) -> None:
        ((blocked,),) = query(
            built,
            f"""select is_blocked from intermediate.int_identity_identifiers_screened
            where identifier_type = 'email' and identifier_value = '{email}'""",
        )
        assert blocked is True

    return Shape(check=check)


def events_only(warehouse: Path, held_back: Path) -> Shape:
    run_cli(warehouse, "ingest", "--input", str(held_back))

    def check(built: Path) -> None:
        ((june,),) = query(
            built,
            "select count(*) from marts.customer_activities where occurred_at >= '2026-06-01'",
        )
        assert int(june) > 0  # type: ignore[call-overload]
        assert any(reason == "new_activity" for _, reason in _changes(built))

    return Shape(check=check)


def day_change(warehouse: Path) -> Shape:
    ((built_before,),) = query(warehouse, "select max(built_at) from marts.customer_change_set")

    def check(built: Path) -> None:
        # no record or activity changed: the build appended no change
        assert query(built, "select max(built_at) from marts.customer_change_set") == [
            (built_before,)
        ]

    return Shape(build_args=["--vars", "{cdp__as_of_date: '2026-07-01'}"], check=check)


SHAPES: dict[str, Callable[[Path, Path], Shape]] = {
    "new_people": lambda w, _: new_people(w),
    "new_record_of_known_person": lambda w, _: known_person(w),
    "merge": lambda w, _: merge(w),
    "split": lambda w, _: split(w),
    "erasure": lambda w, _: erasure(w),
    "placeholder_becomes_over_shared": lambda w, _: over_shared(w),
    "events_only": events_only,
    "day_change": lambda w, _: day_change(w),
}


@pytest.mark.parametrize("shape_name", list(SHAPES))
def test_incremental_build_equals_full_refresh(
    shape_name: str, complete_base: Complete, tmp_path: Path
) -> None:
    incremental = tmp_path / "incremental" / complete_base.warehouse.name
    full = tmp_path / "full" / complete_base.warehouse.name
    incremental.parent.mkdir()
    full.parent.mkdir()
    shutil.copy(complete_base.warehouse, incremental)
    shape = SHAPES[shape_name](incremental, complete_base.held_back)
    shutil.copy(incremental, full)
    target = tmp_path / "dbt_target"
    shutil.copytree(complete_base.dbt_target, target)

    cdp_build(incremental, target, *shape.build_args)
    cdp_build(full, target, "--full-refresh", *shape.build_args)

    if shape.check is not None:
        shape.check(incremental)
    relations = relations_in(incremental, "marts")
    assert relations == relations_in(full, "marts")
    assert len(relations) > 20
    problems = row_differences(incremental, full, relations, EXCLUDED)
    assert problems == [], f"{shape_name}: incremental != full refresh\n" + "\n".join(problems)
