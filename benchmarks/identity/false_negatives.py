"""Where recall is lost: the false-negative pairs of a clustering, by cause.

For each person split over several clusters, every pair of fragments is
classified by the strongest evidence the two fragments share (first match in
CAUSES order); pairs with an unlinkable record (cdp.identity.evaluate) are a
class of their own. Counts are record pairs.
"""

from __future__ import annotations

import itertools
from collections import Counter, defaultdict

import pandas as pd

CAUSES = [
    "a record carries no evidence (unlinkable)",
    "same email, held by 2+ people (records without a name left apart)",
    "same email, one person",
    "same phone",
    "phone, same last 9 digits (country code read differently)",
    "email one edit apart (typo in local part or domain)",
    "same first name, last name and postcode",
    "same first and last name only",
    "nothing in common (changed or variant email, no shared value)",
]


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _canonical_email(value: object) -> str | None:
    text = _text(value)
    if text is None or text.count("@") != 1:
        return None
    local, domain = text.strip().lower().split("@")
    local = local.split("+")[0]
    if domain in ("gmail.com", "googlemail.com"):
        local, domain = local.replace(".", ""), "gmail.com"
    return f"{local}@{domain}"


def _edits(a: str, b: str) -> int:
    previous = list(range(len(b) + 1))
    for i, char_a in enumerate(a, 1):
        current = [i]
        for j, char_b in enumerate(b, 1):
            current.append(
                min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (char_a != char_b))
            )
        previous = current
    return previous[-1]


def _near_email(left: set[str], right: set[str]) -> bool:
    for a, b in itertools.product(left, right):
        (local_a, domain_a), (local_b, domain_b) = a.split("@"), b.split("@")
        if (local_a == local_b and _edits(domain_a, domain_b) <= 1) or (
            domain_a == domain_b and _edits(local_a, local_b) <= 1
        ):
            return True
    return False


def _features(fragment: pd.DataFrame) -> dict[str, object]:
    phones = {p for p in [*fragment["phone_e164"], *fragment["secondary_phone_e164"]] if _text(p)}
    names = list(zip(fragment["first"], fragment["last"], fragment["postcode"], strict=True))
    return {
        "emails": {e for e in fragment["canonical_email"] if _text(e)},
        "phones": phones,
        "phone_tails": {p[-9:] for p in phones},
        "name_postcodes": {n for n in names if all(_text(v) for v in n)},
        "names": {n[:2] for n in names if _text(n[0]) and _text(n[1])},
        "sources": "+".join(sorted(set(fragment["source"]))),
    }


def false_negative_breakdown(
    truth: pd.DataFrame,
    predicted: pd.DataFrame,
    records: pd.DataFrame,
    unlinkable: pd.DataFrame,
    fold: object,
) -> tuple[Counter[str], dict[str, Counter[str]]]:
    """Missed true pairs by cause, and by the source mix of the two fragments."""
    frame = truth.merge(predicted[["record_key", "cluster"]], on="record_key", how="left")
    frame["cluster"] = frame["cluster"].astype(object).fillna("unmatched:" + frame["record_key"])
    frame = frame.merge(records, on="record_key", how="left")
    frame["linkable"] = (
        ~frame["record_key"].isin(unlinkable["record_key"]) & frame["source_name"].notna()
    )
    frame["source"] = frame["record_key"].str.split(":").str[0]
    frame["canonical_email"] = [_canonical_email(e) for e in frame["email"]]
    frame["first"] = [_text(fold(v)) for v in frame["first_name"]]  # type: ignore[operator]
    frame["last"] = [_text(fold(v)) for v in frame["last_name"]]  # type: ignore[operator]
    frame["postcode"] = [
        "".join(c for c in v.upper() if c.isalnum()) or None if _text(v) else None
        for v in frame["postal_code"]
    ]
    email_people = (
        frame.dropna(subset=["canonical_email"]).groupby("canonical_email")["person_id"].nunique()
    )
    causes: Counter[str] = Counter()
    by_sources: dict[str, Counter[str]] = defaultdict(Counter)
    for _, person in frame.groupby("person_id"):
        clusters = person["cluster"].unique()
        if len(clusters) < 2:
            continue
        for a, b in itertools.combinations(clusters, 2):
            left, right = person[person["cluster"] == a], person[person["cluster"] == b]
            left_l, right_l = left[left["linkable"]], right[right["linkable"]]
            linkable = len(left_l) * len(right_l)
            causes[CAUSES[0]] += len(left) * len(right) - linkable
            if not linkable:
                continue
            fa, fb = _features(left_l), _features(right_l)
            shared_emails = fa["emails"] & fb["emails"]  # type: ignore[operator]
            if shared_emails:
                shared = max(email_people[e] for e in shared_emails)
                cause = CAUSES[1] if shared > 1 else CAUSES[2]
            elif fa["phones"] & fb["phones"]:  # type: ignore[operator]
                cause = CAUSES[3]
            elif fa["phone_tails"] & fb["phone_tails"]:  # type: ignore[operator]
                cause = CAUSES[4]
            elif _near_email(fa["emails"], fb["emails"]):  # type: ignore[arg-type]
                cause = CAUSES[5]
            elif fa["name_postcodes"] & fb["name_postcodes"]:  # type: ignore[operator]
                cause = CAUSES[6]
            elif fa["names"] & fb["names"]:  # type: ignore[operator]
                cause = CAUSES[7]
            else:
                cause = CAUSES[8]
            causes[cause] += linkable
            mix = " vs ".join(sorted([str(fa["sources"]), str(fb["sources"])]))
            by_sources[cause][mix] += linkable
    return causes, by_sources
