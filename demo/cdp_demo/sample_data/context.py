"""State shared by all chunks of one run: settings, calendar, catalogue, id spaces, taken values."""

from __future__ import annotations

from dataclasses import dataclass, field

from cdp_demo.sample_data.catalog import Catalog, build_catalog
from cdp_demo.sample_data.ids import IdSpace
from cdp_demo.sample_data.timeline import Timeline

# (bits, offset) of each id space; sizes allow far more than 1M people.
_ID_SPACES: dict[str, tuple[int, int]] = {
    "customer": (26, 10_000_000),
    "order": (33, 1_000_000_000),
    "contact": (40, 0),
    "subscriber": (40, 0),
    "loyalty": (33, 0),
    "ticket": (24, 100_000),
    "transaction": (36, 0),
}


@dataclass
class Context:
    """Run-wide state. Chunks run in order, so the counters and sets stay deterministic.

    taken_emails / taken_phones hold canonical forms already given to someone, so
    two people only share an address or number when the generator means them to.
    activity scales how often people buy, browse and receive campaigns (1.0 is the
    calibrated business; 0.2 gives about a fifth of the event rows).
    """

    seed: int
    timeline: Timeline
    catalog: Catalog
    ids: dict[str, IdSpace]
    activity: float = 1.0
    taken_emails: set[str] = field(default_factory=set)
    taken_phones: set[str] = field(default_factory=set)
    next_household: int = 0

    @classmethod
    def create(cls, seed: int, timeline: Timeline, activity: float = 1.0) -> Context:
        spaces = {
            name: IdSpace(seed, name, bits, offset) for name, (bits, offset) in _ID_SPACES.items()
        }
        return cls(
            seed=seed,
            timeline=timeline,
            catalog=build_catalog(seed),
            ids=spaces,
            activity=activity,
        )
