"""The serving store: profiles for the Profile API and the customer page (docs/serving-store.md).

Read API: `open_store(settings) -> ProfileStore` (cdp/serve/store/protocol.py).
Refresh: `refresh(settings, full=...)` after each build; `erase_from_store` at once.
"""

from cdp.serve.store.protocol import (
    ID_TYPES,
    ConsentState,
    Event,
    Explain,
    Identifier,
    Link,
    Profile,
    ProfileStore,
    ProfileSummary,
    SegmentChange,
    SegmentMembership,
    SourceRecord,
    StoreUnavailable,
)
from cdp.serve.store.settings import StoreSettings
from cdp.serve.store.writer import open_store

__all__ = [
    "ID_TYPES",
    "ConsentState",
    "Event",
    "Explain",
    "Identifier",
    "Link",
    "Profile",
    "ProfileStore",
    "ProfileSummary",
    "SegmentChange",
    "SegmentMembership",
    "SourceRecord",
    "StoreSettings",
    "StoreUnavailable",
    "open_store",
]
