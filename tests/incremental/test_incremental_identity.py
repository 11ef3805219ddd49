"""Identity resolution after a new batch: new records join the existing
person without a full re-stitch and keep that person's customer id; a record
joining two people merges them (their components alone are re-stitched) and
the merge is logged; either way the clusters equal a full re-stitch."""

from __future__ import annotations

from datetime import UTC, datetime

import duckdb

from tests.engines.digest import differences, duckdb_digests
from tests.incremental.conftest import Batch, build, held_by_one, query, run_dbt

IDENTITY = ["+path:models/marts/identity"]
CLUSTERS = ("intermediate.int_identity_clusters", "intermediate.int_identity_clusters_strong")
# how many passes the components took differs between the two ways, by design
NOT_COMPARED = {"*": {"iterations"}}


def _subscribe(batch: Batch, subscriber_id: str, email: str | None, phone: str | None) -> None:
    """A new email subscriber landed now, as `cdp ingest` would land it."""
    with duckdb.connect(str(batch.warehouse)) as con:
        con.execute(
            """insert into raw.email_subscribers
            (subscriber_id, email_address, phone, status, updated_at,
             _loaded_at, _source_file, _source_line)
            values (?, ?, ?, 'subscribed', '2026-07-01 09:00:00', ?, ?, 1)""",
            [
                subscriber_id,
                email,
                phone,
                datetime.now(UTC).replace(tzinfo=None),
                f"email_subscribers/{subscriber_id}.csv",
            ],
        )


def _records(batch: Batch) -> dict[tuple[str, str], str]:
    rows = query(
        batch.warehouse,
        "select source_name, source_record_id, customer_id from marts.customer_source_records",
    )
    return {(str(s), str(r)): str(c) for s, r, c in rows}


def _history(batch: Batch) -> set[tuple[str, str, str | None]]:
    rows = query(
        batch.warehouse,
        "select event_type, customer_id, related_customer_id from marts.customer_id_history",
    )
    return {(str(e), str(c), None if r is None else str(r)) for e, c, r in rows}


def _equals_full_restitch(batch: Batch) -> None:
    incremental = duckdb_digests(batch.warehouse, CLUSTERS, NOT_COMPARED)
    output = run_dbt(
        batch.work,
        batch.warehouse,
        [
            "run",
            "--select",
            "int_identity_clusters_strong",
            "int_identity_clusters",
            "--vars",
            "{cdp__identity_full_restitch: true}",
        ],
    )
    assert "full re-stitch (full re-stitch asked for)" in output
    full = duckdb_digests(batch.warehouse, CLUSTERS, NOT_COMPARED)
    assert differences(incremental, full, CLUSTERS) == []


def test_new_record_joins_its_person_and_keeps_the_id(batch: Batch) -> None:
    person, email = held_by_one(batch.warehouse, "email")
    before = _records(batch)
    history = _history(batch)
    _subscribe(batch, "incremental-attach-1", email, None)

    output = build(batch.work, batch.warehouse, select=IDENTITY)

    assert "int_identity_clusters: connected components incremental: 1 new nodes" in output
    after = _records(batch)
    assert after[("email_subscribers", "incremental-attach-1")] == person
    # nobody else's id moved, and no merge or split was logged
    assert {key: after[key] for key in before} == before
    assert _history(batch) == history
    _equals_full_restitch(batch)


def test_record_joining_two_people_merges_them_and_logs_it(batch: Batch) -> None:
    first, email = held_by_one(batch.warehouse, "email")
    second, phone = held_by_one(batch.warehouse, "phone", skip=first)
    before = _records(batch)
    history = _history(batch)
    _subscribe(batch, "incremental-merge-1", email, phone)

    output = build(batch.work, batch.warehouse, select=IDENTITY)

    assert "int_identity_clusters: connected components incremental" in output
    after = _records(batch)
    survivor = after[("email_subscribers", "incremental-merge-1")]
    assert survivor in {first, second}
    retired = second if survivor == first else first
    # every record of both people now has the surviving id
    merged = [key for key, customer in before.items() if customer in {first, second}]
    assert {after[key] for key in merged} == {survivor}
    # the rest kept their ids
    assert all(after[key] == customer for key, customer in before.items() if key not in merged)
    assert _history(batch) - history == {("merged", retired, survivor)}
    _equals_full_restitch(batch)
