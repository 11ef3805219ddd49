"""Erasure at every HTTP destination: an erased person's key that leaves the model is
sent as Phase.ERASE, whatever the mode, and the contract server forgets them.

The erasure is recorded as `cdp privacy erase` records it (privacy.erasure_log with
the SHA-256 of the customer id); the person's row then leaves the source, the next
sync deletes them, and the server's whole held data (records, lists, jobs, caches)
no longer holds their email, name, or the email's MD5 or SHA-256.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import duckdb
import pytest
from retl_support import REGISTRY, Harness, harness_for, people, query, write_source

from reverse_etl.destinations import SETTINGS_BY_TYPE
from reverse_etl.engine.runner import run_sync

ERASED = 5


def record_erasure(warehouse: Path, customer_id: int) -> None:
    from cdp.privacy.erase import ensure_privacy_tables

    con = duckdb.connect(str(warehouse))
    try:
        ensure_privacy_tables(con)
        hashes = json.dumps([hashlib.sha256(str(customer_id).encode()).hexdigest()])
        con.execute(
            "insert into privacy.erasure_log (erasure_id, customer_hashes, status) "
            "values ('er-test', ?, 'awaiting_removal')",
            [hashes],
        )
    finally:
        con.close()


def needles(customer_id: int) -> list[str]:
    email = f"person{customer_id}@example.com"
    return [
        email,
        f"First{customer_id}",
        hashlib.md5(email.encode()).hexdigest(),
        hashlib.sha256(email.encode()).hexdigest(),
    ]


def held(harness: Harness, customer_id: int) -> list[str]:
    data = harness.server.held_data().lower()
    return [n for n in needles(customer_id) if n.lower() in data]


def modes(kind: str) -> list[str]:
    """The modes to test: audience (unlist) and upsert (forget) used to leave the
    record; mirror (delete) did delete, and must still."""
    supported = {m.value for m in SETTINGS_BY_TYPE[kind].supported_modes}
    return [m for m in ("audience", "upsert", "mirror") if m in supported]


CASES = [(kind, mode) for kind in sorted(REGISTRY) for mode in modes(kind)]


@pytest.mark.parametrize(("kind", "mode"), CASES, ids=[f"{k}-{m}" for k, m in CASES])
def test_erased_person_is_deleted_not_just_unlisted(kind: str, mode: str, warehouse: Path):
    with harness_for(kind, mode) as harness:
        sync = harness.sync(destination={"batch_size": 7})
        rows = people(30)
        first = run_sync(sync, warehouse)
        assert first.status == "succeeded", first.error
        assert held(harness, ERASED), "the person must be at the destination before erasure"

        record_erasure(warehouse, ERASED)
        # Someone who merely leaves the audience (key 6) is only removed as before.
        write_source(warehouse, [r for r in rows if r[0] not in (ERASED, 6)])
        second = run_sync(sync, warehouse)
        assert second.status == "succeeded", second.error
        assert second.diff is not None and second.diff.erasures == 1

        assert held(harness, ERASED) == []
        assert held(harness, 7), "everyone else is still there"
        assert query(
            warehouse, f"select count(*) from reverse_etl.sync_state where key = '{ERASED}'"
        ) == [(0,)]
        # A rerun has nothing left to erase and sends nothing.
        requests = harness.server.request_count
        third = run_sync(sync, warehouse)
        assert third.status == "succeeded" and third.diff is not None
        assert third.diff.erasures == 0
        assert harness.server.request_count == requests
