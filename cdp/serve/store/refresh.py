"""Refresh the serving store from the built warehouse (full, or only what a build changed).

`refresh(settings)` after every successful build (cdp/build.py, the Dagster
asset `serving_store`, `cdp store refresh`):
- the store already holds the warehouse's newest build: nothing to do;
- it holds the build just before it, and that build's change set names the
  customers changed: only those are rewritten (incremental);
- otherwise (empty store, `--full`, no change set, older build): every customer.
The build id is the newest `build_id` of marts.customer_change_set; a
warehouse without one gets a build id from the refresh time.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass

from cdp.config import Settings
from cdp.serve.store.extract import changed_customers, read_build, warehouse_builds
from cdp.serve.store.settings import StoreSettings
from cdp.serve.store.writer import StoreWriter, open_writer
from cdp.warehouse import open_warehouse


@dataclass(frozen=True)
class RefreshResult:
    build_id: str
    mode: str  # full / incremental / current
    customers: int
    seconds: float

    def render(self) -> str:
        if self.mode == "current":
            return f"serving store already holds build {self.build_id}"
        return (
            f"serving store: {self.mode} refresh to build {self.build_id}, "
            f"{self.customers} customers written in {self.seconds:.2f}s"
        )


def refresh(
    settings: Settings, store: StoreSettings | None = None, *, full: bool = False
) -> RefreshResult:
    store = store or StoreSettings.from_env(settings)
    writer = open_writer(store)
    started = time.perf_counter()
    with open_warehouse(settings, read_only=True) as wh:
        builds = warehouse_builds(wh)
        held = writer.held_build()
        newest = builds[0] if builds else f"refresh-{uuid.uuid4().hex[:12]}"
        if not full and builds and held == newest:
            return RefreshResult(newest, "current", 0, 0.0)
        if not full and len(builds) > 1 and held == builds[1]:
            changed = changed_customers(wh, newest)
            rows = read_build(wh, changed, store.activity_limit)
            count = writer.write_build(newest, rows.values(), replace=changed)
            return RefreshResult(newest, "incremental", count, time.perf_counter() - started)
        rows = read_build(wh, None, store.activity_limit)
        count = writer.write_build(newest, rows.values(), replace=None)
    return RefreshResult(newest, "full", count, time.perf_counter() - started)


def erase_from_store(settings: Settings, customer_ids: list[str]) -> int:
    """Remove erased customers from the serving store now (`cdp privacy erase`)."""
    writer: StoreWriter = open_writer(StoreSettings.from_env(settings))
    return writer.erase(customer_ids)


__all__ = ["RefreshResult", "erase_from_store", "refresh"]
