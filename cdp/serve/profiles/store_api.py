"""What the Profile API reads: the serving store's read API
(`cdp/serve/store/protocol.py`), and how the service opens it.

`StoreUnavailable` from any call is a 503; the next request opens the store
again (a store file back, Redis up again: no restart).
"""

from __future__ import annotations

from collections.abc import Callable

from cdp.serve.store.protocol import Profile, ProfileStore, StoreUnavailable

StoreOpener = Callable[[], ProfileStore]

__all__ = ["Profile", "ProfileStore", "StoreOpener", "StoreUnavailable", "unavailable_reason"]


def unavailable_reason(exc: BaseException) -> str | None:
    """The one-line reason of a StoreUnavailable; None for any other error."""
    return exc.reason if isinstance(exc, StoreUnavailable) else None
