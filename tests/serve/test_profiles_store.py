"""The Profile API over the real embedded serving store (SQLite), refreshed
from the shared business's warehouse: the answers are the store's and the
warehouse's data, the store file deleted is a 503 that recovers by itself."""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from cdp.config import Settings
from cdp.serve.store.refresh import refresh
from cdp.serve.store.settings import StoreSettings
from cdp.serve.store.sqlite import SQLiteStore
from cdp.warehouse import open_warehouse
from tests.business import Business
from tests.serve.profiles_fixture import WEB, ProfileService

REPO = Path(__file__).resolve().parents[2]


@dataclass
class Served:
    api: ProfileService
    store: SQLiteStore
    path: Path
    warehouse: Settings
    customer_id: str  # has an email and the most events


@pytest.fixture(scope="module")
def served(shared_business: Business, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    tmp = Path(tmp_path_factory.mktemp("profiles_store"))
    warehouse = shared_business.copy_warehouse(tmp / "warehouse")
    settings = Settings(home=REPO, data_dir=tmp / "data", warehouse_path=warehouse)
    path = tmp / "serving" / "profiles.sqlite"
    refresh(settings, StoreSettings("sqlite", path, None, 50), full=True)
    with sqlite3.connect(path) as con:
        found = con.execute(
            "select e.customer_id, count(*) from events e "
            "join identifiers i on i.customer_id = e.customer_id and i.id_type = 'email' "
            "group by e.customer_id order by count(*) desc, e.customer_id limit 1"
        ).fetchone()
        kinds = dict(con.execute("select id_type, count(*) from identifiers group by 1").fetchall())
    assert found is not None and found[1] > 3, f"no customer with an email and events: {kinds}"
    customer_id = found[0]
    store = SQLiteStore(path)
    profile = store.profile(customer_id)
    assert profile is not None
    with ProfileService(tmp, store) as api:
        yield Served(api, store, path, settings, customer_id)


def test_traits_are_the_warehouse_golden_record(served: Served) -> None:
    profile = served.store.profile(served.customer_id)
    assert profile is not None
    email = next(i.value for i in profile.identifiers if i.type == "email")  # any of them
    body = served.api.get(f"email:{email}/traits", limit=200).json()
    with open_warehouse(served.warehouse, read_only=True) as wh:
        row = wh.one(
            "select email, first_name from marts.customers where customer_id = ?",
            [served.customer_id],
        )
    assert body["traits"] == {**profile.traits, **profile.scores}
    assert row is not None and (body["traits"]["email"], body["traits"]["first_name"]) == row
    assert body["cursor"]["has_more"] is False
    web = served.api.get(f"customer_id:{served.customer_id}/traits", token=WEB, limit=200).json()
    hidden = {name for name, group in profile.field_groups.items() if group != "traits"}
    assert hidden and not hidden & set(web["traits"])


def test_external_ids_events_segments_consent(served: Served) -> None:
    profile = served.store.profile(served.customer_id)
    assert profile is not None
    other = next(i for i in profile.identifiers if i.type not in ("email", "phone"))
    lookup = f"{other.type}:{other.value}"  # any identifier type of customer_identifiers
    ids = served.api.get(f"{lookup}/external_ids", limit=100).json()["data"]
    assert {(r["type"], r["id"]) for r in ids} == {(i.type, i.value) for i in profile.identifiers}
    events, cursor, pages = [], "", 0
    while True:
        page = served.api.get(f"{lookup}/events", limit=2, next=cursor).json()
        events += page["data"]
        pages += 1
        if not page["cursor"]["has_more"]:
            break
        cursor = page["cursor"]["next"]
    stored, _ = served.store.events(served.customer_id, 100)
    assert [e["message_id"] for e in events] == [e.activity_id for e in stored] and pages > 1
    segments = served.api.get(f"{lookup}/segments").json()["data"]
    assert sorted(s["segment"] for s in segments) == sorted(m.segment for m in profile.segments)
    consent = served.api.get(f"{lookup}/consent").json()["consent"]
    assert set(consent) == {c.purpose for c in profile.consent}


def test_unknown_id_and_store_file_deleted(served: Served) -> None:
    assert served.api.get("email:nobody@example.invalid/traits").status_code == 404
    aside = served.path.with_suffix(".aside")
    shutil.move(served.path, aside)
    try:
        down = served.api.get(f"customer_id:{served.customer_id}/traits")
        assert down.status_code == 503 and "profiles.sqlite" in down.json()["error"]["message"]
    finally:
        shutil.move(aside, served.path)
    assert served.api.get(f"customer_id:{served.customer_id}/traits").status_code == 200


def test_erased_person_is_gone_from_the_api_at_once(served: Served) -> None:
    """Last in the module: it erases the fixture's customer from the store."""
    profile = served.store.profile(served.customer_id)
    assert profile is not None
    email = next(i.value for i in profile.identifiers if i.type == "email")
    assert served.api.get(f"email:{email}/traits").status_code == 200
    assert served.store.erase([served.customer_id]) > 0  # rows deleted across its tables
    for path in (f"email:{email}/traits", f"customer_id:{served.customer_id}/external_ids"):
        gone = served.api.get(path)
        assert gone.status_code == 404 and gone.json()["error"]["code"] == "not_found"
