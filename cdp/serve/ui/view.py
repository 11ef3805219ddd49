"""What the profile page shows, shaped from the store's read API for the templates."""

from __future__ import annotations

from dataclasses import dataclass, field

from cdp.serve.store.protocol import Event, Explain, Link, Profile, SegmentChange, SourceRecord

# The order field groups appear in; a trait in no group shows under "traits".
GROUP_TITLES = {"pii": "Personal data", "traits": "Traits", "scores": "Scores"}
NAME_TRAITS = ("full_name", "name", "first_name", "last_name")


@dataclass(frozen=True)
class LinkView:
    left: SourceRecord | None
    right: SourceRecord | None
    left_key: str
    right_key: str
    rule: str
    rule_order: int
    score: float | None
    shared: list[tuple[str, str]]  # (field, value) the two records have in common


@dataclass
class ProfilePage:
    customer_id: str
    build_id: str
    title: str
    trait_groups: list[tuple[str, list[tuple[str, object]]]]
    identifiers: list[tuple[str, str, str]]
    records: list[SourceRecord]
    links: list[LinkView]
    events: list[Event]
    segments: list[tuple[str, str | None]]
    history: list[SegmentChange]
    scores: list[tuple[str, object]]
    consent: list[tuple[str, str, str, bool, str | None]]
    activity: list[tuple[str, object]] = field(default_factory=list)


def _shared(left: SourceRecord | None, right: SourceRecord | None) -> list[tuple[str, str]]:
    """The values both records hold: what a link's rule could have matched on."""
    if left is None or right is None:
        return []
    out = []
    for name in ("email", "phone", "first_name", "last_name"):
        a, b = getattr(left, name), getattr(right, name)
        if a and b and str(a).strip().lower() == str(b).strip().lower():
            out.append((name, str(a)))
    return out


def _link(link: Link, records: dict[str, SourceRecord]) -> LinkView:
    left, right = records.get(link.left_record_key), records.get(link.right_record_key)
    return LinkView(
        left,
        right,
        link.left_record_key,
        link.right_record_key,
        link.rule,
        link.rule_order,
        link.score,
        _shared(left, right),
    )


def _title(profile: Profile) -> str:
    t = profile.traits
    for key in ("full_name", "name"):
        if t.get(key):
            return str(t[key])
    parts = [str(t[k]) for k in ("first_name", "last_name") if t.get(k)]
    return " ".join(parts) or str(t.get("email") or profile.customer_id)


def profile_page(
    profile: Profile,
    explain: Explain | None,
    events: list[Event],
    history: list[SegmentChange],
) -> ProfilePage:
    groups: dict[str, list[tuple[str, object]]] = {}
    for name, value in profile.traits.items():
        if name == "customer_id" or value is None or value == "":
            continue
        groups.setdefault(profile.field_groups.get(name, "traits"), []).append((name, value))
    ordered = [
        (GROUP_TITLES.get(group, group.title()), sorted(items))
        for group, items in sorted(
            groups.items(),
            key=lambda kv: (
                list(GROUP_TITLES).index(kv[0]) if kv[0] in GROUP_TITLES else 99,
                kv[0],
            ),
        )
    ]
    records = explain.records if explain else []
    by_key = {r.record_key: r for r in records}
    return ProfilePage(
        customer_id=profile.customer_id,
        build_id=profile.build_id,
        title=_title(profile),
        trait_groups=ordered,
        identifiers=sorted(
            (i.type, i.value, i.source or "collector (since the build)")
            for i in profile.identifiers
        ),
        records=sorted(records, key=lambda r: (r.source, r.record_id)),
        links=[
            _link(link, by_key)
            for link in sorted(explain.links if explain else [], key=lambda k: k.rule_order)
        ],
        events=events,
        segments=sorted((s.segment, s.entered_at) for s in profile.segments),
        history=list(reversed(history)),  # newest first, as the timeline
        scores=sorted(
            (k, v) for k, v in profile.scores.items() if k != "customer_id" and v is not None
        ),
        consent=sorted(
            (c.channel, c.purpose, c.status, c.is_granted, c.as_of) for c in profile.consent
        ),
        activity=sorted(
            (k, v) for k, v in profile.activity.items() if not isinstance(v, dict | list)
        ),
    )
