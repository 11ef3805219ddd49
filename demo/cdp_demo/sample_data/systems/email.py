"""The email platform: audience members (with versions) and campaign engagement events.

People join at shop sign-up or from a newsletter form; in double-opt-in
countries they must confirm. A fortnightly campaign goes to part of the list;
engaged people open and click more, churned people almost stop. People who
unsubscribe do so from a campaign they received; old addresses of people who
changed email start to bounce and are cleaned.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

import numpy as np

from cdp_demo.sample_data import messiness as mess
from cdp_demo.sample_data.context import Context
from cdp_demo.sample_data.ids import hex_ids
from cdp_demo.sample_data.locales import COUNTRIES, SHOP_DOMAIN
from cdp_demo.sample_data.people import Population
from cdp_demo.sample_data.randomness import np_rng
from cdp_demo.sample_data.records import TruthSink, VersionSink, monthly_batch
from cdp_demo.sample_data.systems.shop import ShopAccounts
from cdp_demo.sample_data.tables import EMAIL_EVENTS, EMAIL_SUBSCRIBERS
from cdp_demo.sample_data.timeline import DAY, HOUR, NO_TIME
from cdp_demo.sample_data.writers import Batch

CAMPAIGN_EVERY_DAYS = 14
TARGET_RATE = 0.55
OPEN_BASE, OPEN_ENGAGED, CHURNED_OPEN_FACTOR, REOPEN_RATE = 0.04, 0.55, 0.15, 0.1
CLICK_BASE, CLICK_ENGAGED = 0.08, 0.35
UNSUBSCRIBE_BASE, UNSUBSCRIBE_CHURNED, UNSUBSCRIBE_DISENGAGED = 0.06, 0.3, 0.1
JOIN_AT_SHOP_SIGNUP_RATE = 0.7
DOUBLE_OPT_IN_COUNTRIES = frozenset({"DE", "PL", "NO", "DK", "GR", "FR", "ES"})
DOUBLE_OPT_IN_RATE, OTHER_DOUBLE_OPT_IN_RATE, NEVER_CONFIRMED_RATE = 0.85, 0.1, 0.08
RESUBSCRIBE_AFTER_CHANGE_RATE, SECOND_SIGNUP_RATE = 0.5, 0.03
FIRST_NAME_MISSING_RATE, LAST_NAME_MISSING_RATE, PHONE_MISSING_RATE = 0.4, 0.5, 0.85
NICKNAME_RATE, GREEK_LATIN_RATE = 0.1, 0.8
EMAIL_CASE_RATE, EMAIL_SPACE_RATE, EMAIL_VARIANT_RATE, EMAIL_BROKEN_RATE = 0.08, 0.02, 0.08, 0.01
_THEMES = (
    "spring-edit",
    "new-in",
    "weekend-sale",
    "members-offer",
    "gift-guide",
    "back-in-stock",
    "summer-picks",
    "black-friday",
    "last-chance",
    "stories",
)


@dataclass(frozen=True)
class Campaigns:
    """The campaign calendar, shared by every chunk."""

    ids: tuple[str, ...]
    sent_at: np.ndarray
    urls: tuple[tuple[str, ...], ...]


def campaign_calendar(ctx: Context) -> Campaigns:
    """A campaign every fortnight over the window, each with three links."""
    rng = np_rng(ctx.seed, 0, "campaigns")
    tl, cat = ctx.timeline, ctx.catalog
    first = tl.start_s + int(rng.integers(0, CAMPAIGN_EVERY_DAYS)) * DAY
    days = np.arange(first, tl.end_s, CAMPAIGN_EVERY_DAYS * DAY)
    sent = days + 8 * HOUR + rng.integers(0, 2 * HOUR, len(days))
    ids, urls = [], []
    for t in sent.tolist():
        day = np.datetime64(t, "s").astype("datetime64[D]").astype(str).replace("-", "")
        theme = _THEMES[int(rng.integers(len(_THEMES)))]
        cid = f"cmp_{day}_{theme}"
        ids.append(cid)
        slugs = rng.choice(cat.category_slugs, size=3, replace=False)
        urls.append(
            tuple(
                f"https://{SHOP_DOMAIN}/c/{s}?utm_source=email&utm_medium=newsletter"
                f"&utm_campaign={cid}"
                for s in slugs
            )
        )
    return Campaigns(tuple(ids), sent, tuple(urls))


@dataclass
class Subscriptions:
    """One entry per audience member record (a person may have several)."""

    subscriber_id: list[str] = field(default_factory=list)
    person: list[int] = field(default_factory=list)
    email: list[str] = field(default_factory=list)
    opted_in_at: list[int] = field(default_factory=list)
    confirmed_at: list[int] = field(default_factory=list)
    double_opt_in: list[bool] = field(default_factory=list)
    via_shop: list[bool] = field(default_factory=list)
    unsubscribed_at: list[int] = field(default_factory=list)
    cleaned_at: list[int] = field(default_factory=list)


def build_email(
    ctx: Context,
    pop: Population,
    shop: ShopAccounts,
    campaigns: Campaigns,
    rng: np.random.Generator,
    r: random.Random,
    truth: TruthSink,
) -> tuple[Subscriptions, list[Batch]]:
    """Audience members of the chunk, their versions, and every email event."""
    tl = ctx.timeline
    subs = Subscriptions()
    planned: list[tuple[int, int, str, bool]] = []  # person, opted-in time, email, via shop
    for i in np.flatnonzero(pop.has_email).tolist():
        via_shop = (
            bool(shop.accepts_marketing[i])
            and shop.created_at[i] != NO_TIME
            and r.random() < JOIN_AT_SHOP_SIGNUP_RATE
        )
        if via_shop:
            opted = int(shop.created_at[i]) + r.randrange(5, 300)
        else:
            opted = int(max(pop.acquired_at[i], tl.start_s - 3 * 365 * DAY)) + r.randrange(
                0, 180 * DAY
            )
        opted = min(opted, tl.end_s - HOUR)
        planned.append((i, opted, pop.email_at(i, opted), via_shop))
        changed = int(pop.email_changed_at[i])
        if opted < changed <= tl.end_s and r.random() < RESUBSCRIBE_AFTER_CHANGE_RATE:
            again = changed + r.randrange(0, 60 * DAY)
            if again < tl.end_s:
                planned.append((i, again, pop.email[i], False))
        if r.random() < SECOND_SIGNUP_RATE:
            later = opted + r.randrange(DAY, max(2 * DAY, tl.end_s - opted))
            if later < tl.end_s:
                work = pop.work_email[i]
                base = pop.email_at(i, later)
                variant = work if work and r.random() < 0.4 else mess.gmail_variant(base, r)
                if variant == base:
                    variant = mess.plus_tag(base, r)
                planned.append((i, later, variant, False))

    ids = ctx.ids["subscriber"].take(len(planned))
    sink = VersionSink(EMAIL_SUBSCRIBERS)
    for k, (i, opted, email, via_shop) in enumerate(planned):
        sid = f"{int(ids[k]):010x}"
        typed = mess.email_as_typed(
            email,
            r,
            case_rate=EMAIL_CASE_RATE,
            space_rate=EMAIL_SPACE_RATE,
            variant_rate=EMAIL_VARIANT_RATE,
            broken_rate=EMAIL_BROKEN_RATE,
        )
        doi_rate = (
            DOUBLE_OPT_IN_RATE
            if pop.country[i] in DOUBLE_OPT_IN_COUNTRIES
            else OTHER_DOUBLE_OPT_IN_RATE
        )
        doi = r.random() < doi_rate
        confirmed = NO_TIME
        if doi and r.random() >= NEVER_CONFIRMED_RATE:
            confirmed = opted + r.randrange(120, 48 * HOUR)
        cleaned = NO_TIME
        undeliverable = "@" not in typed or typed.strip().endswith(".") or "@@" in typed
        if undeliverable or "," in typed.split("@")[-1]:
            cleaned = opted  # bounces on the first send
        elif email != pop.email[i] and pop.previous_email[i] == email:
            cleaned = int(pop.email_changed_at[i]) + r.randrange(30 * DAY, 200 * DAY)
        subs.subscriber_id.append(sid)
        subs.person.append(i)
        subs.email.append(typed)
        subs.opted_in_at.append(opted)
        subs.confirmed_at.append(confirmed)
        subs.double_opt_in.append(doi)
        subs.via_shop.append(via_shop)
        subs.cleaned_at.append(cleaned)
        subs.unsubscribed_at.append(NO_TIME)
        truth.add("email_subscribers", sid, pop.person_id[i])

    events = _events(ctx, pop, subs, campaigns, rng, r)
    for k, sid in enumerate(subs.subscriber_id):
        _member_versions(ctx, pop, subs, k, sid, r, sink)
    return subs, [sink.to_batch(tl), events]


def _events(
    ctx: Context,
    pop: Population,
    subs: Subscriptions,
    campaigns: Campaigns,
    rng: np.random.Generator,
    r: random.Random,
) -> Batch:
    """Sends, bounces, opens, clicks and unsubscribes; fills unsubscribe/clean times in `subs`."""
    tl = ctx.timeline
    s = len(subs.subscriber_id)
    c = len(campaigns.ids)
    person = np.array(subs.person, dtype=np.int64)
    opted = np.array(subs.opted_in_at, dtype=np.int64)
    confirmed = np.array(subs.confirmed_at, dtype=np.int64)
    doi = np.array(subs.double_opt_in, dtype=bool)
    start = np.where(doi, np.where(confirmed == NO_TIME, np.iinfo(np.int64).max, confirmed), opted)
    sent_at = campaigns.sent_at
    target_rate = TARGET_RATE * ctx.activity
    grid = (sent_at[None, :] >= start[:, None]) & (rng.random((s, c)) < target_rate)

    # Addresses that bounce: only the first send after the bounce date happens.
    cleaned = np.array(subs.cleaned_at, dtype=np.int64)
    bouncing = cleaned != NO_TIME
    after = sent_at[None, :] >= np.where(bouncing, cleaned, np.iinfo(np.int64).max)[:, None]
    first_bounce = np.where((grid & after).any(axis=1), (grid & after).argmax(axis=1), -1)
    bounce_mask = np.zeros((s, c), dtype=bool)
    has_bounce = first_bounce >= 0
    bounce_mask[np.flatnonzero(has_bounce), first_bounce[has_bounce]] = True
    grid &= ~after | bounce_mask
    cleaned_at = np.full(s, NO_TIME, dtype=np.int64)
    jitter = rng.integers(0, HOUR, (s, c))
    send_time = sent_at[None, :] + jitter
    cleaned_at[has_bounce] = send_time[
        np.flatnonzero(has_bounce), first_bounce[has_bounce]
    ] + rng.integers(5, 600, has_bounce.sum())

    # Unsubscribes happen from the last campaign received before the wish to leave.
    churn = pop.churn_at[person]
    churned = churn != NO_TIME
    engagement = pop.engagement[person]
    p_unsub = (
        UNSUBSCRIBE_BASE + UNSUBSCRIBE_CHURNED * churned + UNSUBSCRIBE_DISENGAGED * (1 - engagement)
    )
    wants = rng.random(s) < p_unsub
    lo = np.where(churned, churn, opted + 30 * DAY)
    hi = np.where(churned, churn + 150 * DAY, tl.end_s)
    wish = lo + (rng.random(s) * np.maximum(hi - lo, 1)).astype(np.int64)
    before_wish = grid & ~bounce_mask & (send_time < wish[:, None])
    last = np.where(before_wish.any(axis=1), c - 1 - before_wish[:, ::-1].argmax(axis=1), -1)
    unsub = wants & (last >= 0)
    rows_u = np.flatnonzero(unsub)
    unsub_at = np.full(s, NO_TIME, dtype=np.int64)
    unsub_at[rows_u] = send_time[rows_u, last[rows_u]] + rng.integers(600, 3 * DAY, len(rows_u))
    unsub &= unsub_at <= tl.end_s
    unsub_at[~unsub] = NO_TIME
    grid &= ~(unsub[:, None] & (send_time > unsub_at[:, None]))
    cleaned_at[~(bounce_mask & grid).any(axis=1)] = NO_TIME
    for k in range(s):
        subs.cleaned_at[k] = int(cleaned_at[k])
        subs.unsubscribed_at[k] = int(unsub_at[k])

    sr, sc = np.nonzero(grid)
    t_send = send_time[sr, sc]
    is_bounce = bounce_mask[sr, sc]
    after_churn = churned[sr] & (t_send >= churn[sr])
    p_open = (OPEN_BASE + OPEN_ENGAGED * engagement[sr]) * np.where(
        after_churn, CHURNED_OPEN_FACTOR, 1
    )
    opened = ~is_bounce & (rng.random(len(sr)) < p_open)
    o_idx = np.flatnonzero(opened)
    t_open = t_send[o_idx] + np.minimum(rng.exponential(6 * HOUR, len(o_idx)), 5 * DAY).astype(
        np.int64
    )
    reopen = o_idx[rng.random(len(o_idx)) < REOPEN_RATE]
    t_reopen = t_send[reopen] + rng.integers(HOUR, 4 * DAY, len(reopen))
    p_click = CLICK_BASE + CLICK_ENGAGED * engagement[sr[o_idx]]
    clicked = rng.random(len(o_idx)) < p_click
    c_idx = o_idx[clicked]
    t_click = t_open[clicked] + rng.integers(5, 600, len(c_idx))
    link = rng.integers(0, 3, len(c_idx))
    b_idx = np.flatnonzero(is_bounce)

    sub_ids = np.array(subs.subscriber_id, dtype=object)
    camp_ids = np.array(campaigns.ids, dtype=object)
    rows_sub = np.concatenate(
        [sr, sr[b_idx], sr[o_idx], sr[reopen], sr[c_idx], rows_u[unsub[rows_u]]]
    )
    rows_camp = np.concatenate(
        [sc, sc[b_idx], sc[o_idx], sc[reopen], sc[c_idx], last[rows_u[unsub[rows_u]]]]
    )
    kinds = np.concatenate(
        [
            np.full(len(sr), "send", dtype=object),
            np.full(len(b_idx), "bounce", dtype=object),
            np.full(len(o_idx) + len(reopen), "open", dtype=object),
            np.full(len(c_idx), "click", dtype=object),
            np.full(int(unsub[rows_u].sum()), "unsubscribe", dtype=object),
        ]
    )
    times = np.concatenate(
        [
            t_send,
            cleaned_at[sr[b_idx]],
            t_open,
            t_reopen,
            t_click,
            unsub_at[rows_u[unsub[rows_u]]],
        ]
    )
    urls: list[str | None] = [None] * (len(times) - len(c_idx) - int(unsub[rows_u].sum()))
    urls += [campaigns.urls[int(cc)][int(li)] for cc, li in zip(sc[c_idx], link, strict=True)]
    urls += [None] * int(unsub[rows_u].sum())
    return monthly_batch(
        EMAIL_EVENTS,
        tl,
        times,
        {
            "event_id": hex_ids(rng, len(times), chars=24, dashed=False),
            "subscriber_id": list(sub_ids[rows_sub]),
            "campaign_id": list(camp_ids[rows_camp]),
            "event_type": kinds,
            "occurred_at": times,
            "url": urls,
        },
    )


def _member_versions(
    ctx: Context,
    pop: Population,
    subs: Subscriptions,
    k: int,
    sid: str,
    r: random.Random,
    sink: VersionSink,
) -> None:
    """The member as they signed up, then versions on confirmation, unsubscribe or cleaning."""
    tl = ctx.timeline
    i = subs.person[k]
    opted = subs.opted_in_at[k]
    first = mess.latin(
        mess.first_name_variant(pop.first_name[i], r, NICKNAME_RATE), r, GREEK_LATIN_RATE
    )
    language = COUNTRIES[pop.country[i]].language if r.random() < 0.9 else "en"
    row = {
        "subscriber_id": sid,
        "email_address": subs.email[k],
        "first_name": None if r.random() < FIRST_NAME_MISSING_RATE else first,
        "last_name": None
        if r.random() < LAST_NAME_MISSING_RATE
        else mess.latin(pop.last_name[i], r, GREEK_LATIN_RATE),
        "phone": None
        if r.random() < PHONE_MISSING_RATE
        else mess.phone_as_typed(
            pop.phone_at(i, opted), pop.country[i], r, (("e164", 0.6), ("intl", 0.4))
        ),
        "status": "pending" if subs.double_opt_in[k] else "subscribed",
        "opted_in_at": opted,
        "confirmed_at": None,
        "language": language,
        "updated_at": opted,
    }
    sink.add(k, opted, row)
    changes: list[tuple[int, str]] = []
    if subs.confirmed_at[k] != NO_TIME:
        changes.append((subs.confirmed_at[k], "subscribed"))
    if subs.unsubscribed_at[k] != NO_TIME:
        changes.append((subs.unsubscribed_at[k], "unsubscribed"))
    if subs.cleaned_at[k] != NO_TIME:
        changes.append((subs.cleaned_at[k], "cleaned"))
    for at, status in sorted(changes):
        if at > tl.end_s:
            continue
        row = dict(row)
        row["status"] = status
        if status == "subscribed":
            row["confirmed_at"] = at
        row["updated_at"] = at
        sink.add(k, at, row)
