"""Settings of the serving store, from the environment (docs/configuration.md).

CDP_STORE_BACKEND         sqlite (default, embedded) or redis
CDP_STORE_PATH            the SQLite file (default <data>/serving/profiles.sqlite)
CDP_STORE_REDIS_URL       redis://host:port/db when the backend is redis
CDP_STORE_ACTIVITY_LIMIT  how many recent activities the store keeps per customer (default 50)
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from cdp.config import Settings

BACKENDS = ("sqlite", "redis")
DEFAULT_ACTIVITY_LIMIT = 50


class StoreSettingsError(ValueError):
    """A store setting that cannot be used; one line naming it."""


@dataclass(frozen=True)
class StoreSettings:
    backend: str
    path: Path
    redis_url: str | None
    activity_limit: int

    @classmethod
    def from_env(cls, settings: Settings | None = None) -> StoreSettings:
        settings = settings or Settings.from_env()
        backend = os.environ.get("CDP_STORE_BACKEND", "sqlite").strip().lower() or "sqlite"
        if backend not in BACKENDS:
            raise StoreSettingsError(f"CDP_STORE_BACKEND={backend!r} is not one of {BACKENDS}")
        raw_path = os.environ.get("CDP_STORE_PATH")
        path = Path(raw_path) if raw_path else settings.data_dir / "serving" / "profiles.sqlite"
        url = os.environ.get("CDP_STORE_REDIS_URL") or None
        if backend == "redis" and not url:
            raise StoreSettingsError("CDP_STORE_BACKEND=redis needs CDP_STORE_REDIS_URL")
        raw = os.environ.get("CDP_STORE_ACTIVITY_LIMIT", "").strip()
        try:
            limit = int(raw) if raw else DEFAULT_ACTIVITY_LIMIT
        except ValueError:
            raise StoreSettingsError(
                f"CDP_STORE_ACTIVITY_LIMIT={raw!r} is not a whole number"
            ) from None
        if limit < 0:
            raise StoreSettingsError(f"CDP_STORE_ACTIVITY_LIMIT={raw!r} must be at least 0")
        return cls(backend, path, url, limit)
