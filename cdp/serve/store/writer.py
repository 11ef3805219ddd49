"""What a refresh, an erasure and the collector's overlay need from a store backend."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from cdp.serve.store.extract import StoreRows
from cdp.serve.store.protocol import ProfileStore, StoreUnavailable
from cdp.serve.store.settings import StoreSettings
from cdp.serve.store.sqlite import SQLiteStore


class StoreWriter(Protocol):
    def held_build(self) -> str | None: ...

    def resolve(self, id_type: str, value: str) -> str | None: ...

    def holders(self, id_type: str, value: str) -> list[str]: ...

    def write_build(
        self, build_id: str, rows: Iterable[StoreRows], replace: Iterable[str] | None
    ) -> int: ...

    def erase(self, customer_ids: Iterable[str]) -> int: ...

    def overlay(self, customer_id: str, identifiers: Iterable[tuple[str, str]]) -> None: ...


class _SQLiteWriter(SQLiteStore):
    def held_build(self) -> str | None:
        try:
            return self.build_id()
        except StoreUnavailable:
            return None


def open_writer(store: StoreSettings) -> StoreWriter:
    if store.backend == "redis":
        from cdp.serve.store.redis_store import RedisStore

        assert store.redis_url is not None
        return RedisStore(store.redis_url)
    return _SQLiteWriter(store.path)


def open_store(store: StoreSettings | None = None) -> ProfileStore:
    """The configured store's read API: embedded SQLite by default, Redis when configured."""
    store = store or StoreSettings.from_env()
    return open_writer(store)  # type: ignore[return-value]
