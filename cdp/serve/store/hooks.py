"""Where the rest of the platform calls the serving store: after a build, on an
erasure, on an identify the collector made durable. None of them fails its
caller: a store that cannot be written says so in one line and catches up at
the next refresh (a full one, since it then holds an older build)."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable
from typing import Any, Protocol

from cdp.config import Settings
from cdp.serve.store.protocol import StoreUnavailable
from cdp.serve.store.settings import StoreSettings, StoreSettingsError
from cdp.serve.store.writer import open_writer
from cdp.warehouse import WarehouseError

log = logging.getLogger(__name__)
Say = Callable[[str], None]
DISABLE_ENV = "CDP_STORE_REFRESH"  # "off": builds do not refresh the serving store


class _Request(Protocol):
    @property
    def identifier_type(self) -> str: ...

    @property
    def identifier_value(self) -> str: ...


def refresh_after_build(settings: Settings, say: Say) -> None:
    """The refresh a successful build ends with (cdp/build.py); never fails the build."""
    if os.environ.get(DISABLE_ENV, "").strip().lower() in ("off", "0", "false", "no"):
        return
    from cdp.serve.store.refresh import refresh

    try:
        say(refresh(settings).render())
    except (StoreUnavailable, StoreSettingsError, WarehouseError, OSError) as exc:
        say(f"serving store not refreshed ({exc}); run `cdp store refresh`")


def erase_now(settings: Settings, requests: Iterable[_Request], say: Say) -> int:
    """Remove every customer an erasure request names from the store at once."""
    try:
        writer = open_writer(StoreSettings.from_env(settings))
        customers = {
            cid
            for r in requests
            for cid in writer.holders(str(r.identifier_type), str(r.identifier_value))
        }
        removed = writer.erase(customers)
    except (StoreUnavailable, StoreSettingsError, OSError) as exc:
        say(f"serving store not reached ({exc}); the next refresh leaves the person out")
        return 0
    if customers:
        say(f"serving store: {len(customers)} customer(s) removed at once")
    return removed


def identify_overlay(store: StoreSettings) -> Callable[[list[dict[str, Any]]], None]:
    """The collector's identify listener (create_app(identify_listeners=[...])).

    An identify whose userId, email or phone trait the store knows maps its
    anonymous id (and user id) to that customer at once; idempotent."""
    writer = open_writer(store)

    def listen(rows: list[dict[str, Any]]) -> None:
        for row in rows:
            traits = row.get("traits") or {}
            known = None
            for kind, value in (
                ("user_id", row.get("user_id")),
                ("email", traits.get("email")),
                ("phone", traits.get("phone")),
                ("anonymous_id", row.get("previous_id")),
            ):
                if isinstance(value, str) and value.strip():
                    known = writer.resolve(kind, value)
                    if known:
                        break
            if known is None:
                continue
            pairs = [("anonymous_id", row.get("anonymous_id")), ("user_id", row.get("user_id"))]
            if row.get("type") == "alias":
                pairs.append(("anonymous_id", row.get("previous_id")))
            writer.overlay(known, [(k, v) for k, v in pairs if isinstance(v, str) and v])

    return listen
