"""The stores: loyalty members (typed in at the till) and till receipts with their lines.

Members enrol at their first store visit. The till system is old: names are
often upper case or stripped of accents, emails and phones are optional and
clerks type placeholders. A receipt carries the loyalty number only when the
card was scanned.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date

import numpy as np

from cdp_demo.sample_data import messiness as mess
from cdp_demo.sample_data.behaviour import Purchases
from cdp_demo.sample_data.context import Context
from cdp_demo.sample_data.ids import loyalty_numbers
from cdp_demo.sample_data.locales import COUNTRIES, CURRENCIES, FX_FROM_EUR, store_ids
from cdp_demo.sample_data.people import Population
from cdp_demo.sample_data.records import TruthSink, VersionSink, monthly_batch
from cdp_demo.sample_data.tables import LOYALTY_MEMBERS, STORE_TRANSACTION_LINES, STORE_TRANSACTIONS
from cdp_demo.sample_data.timeline import DAY, HOUR, NO_TIME
from cdp_demo.sample_data.writers import Batch

SECOND_CARD_RATE = 0.02
UPPER_CASE_RATE, ASCII_ONLY_RATE, GREEK_LATIN_RATE = 0.3, 0.4, 0.6
NAME_TYPO_RATE, NICKNAME_RATE = 0.03, 0.03
EMAIL_MISSING_RATE, EMAIL_PLACEHOLDER_RATE = 0.25, 0.04
PHONE_MISSING_RATE, PHONE_PLACEHOLDER_RATE = 0.15, 0.04
BIRTH_DATE_MISSING_RATE, BIRTH_DATE_PLACEHOLDER_RATE = 0.35, 0.015
CARD_SCAN_RATE, NEW_CARD_USE_RATE, HOME_STORE_RATE = 0.85, 0.8, 0.8
STORE_RETURN_RATE = 0.04
TIER_THRESHOLDS_EUR = ((300.0, "silver"), (1000.0, "gold"), (3000.0, "platinum"))
UPDATE_ADDRESS_RATE, UPDATE_PHONE_RATE, ADD_EMAIL_RATE = 0.4, 0.3, 0.1

PHONE_STYLES = (
    ("national", 0.45),
    ("national_compact", 0.3),
    ("intl", 0.1),
    ("e164", 0.05),
    ("dashed", 0.05),
    ("digits_cc", 0.05),
)

_PLACEHOLDER_BIRTH = date(1900, 1, 1)


@dataclass
class LoyaltyCards:
    """Per person: card number (None = not a member), enrolment time, second card if any."""

    number: list[str | None]
    enrolled_at: np.ndarray
    second_number: list[str | None]
    second_enrolled_at: np.ndarray
    home_store: list[str | None]
    email: list[str | None]
    phone: list[str | None]


def _stores_by_city(code: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for store_id, city in store_ids(COUNTRIES[code]):
        out.setdefault(city.name, []).append(store_id)
    return out


_STORES = {code: _stores_by_city(code) for code in COUNTRIES}
_COUNTRY_STORES = {code: [s for ids in m.values() for s in ids] for code, m in _STORES.items()}


def _till_name(value: str, r: random.Random) -> str:
    value = mess.latin(value, r, GREEK_LATIN_RATE)
    if r.random() < ASCII_ONLY_RATE:
        value = str(mess.ascii_only(value, expand=r.random() < 0.3))
    value = str(mess.messy_text(value, r, typo_rate=NAME_TYPO_RATE, space_rate=0.03))
    return value.upper() if r.random() < UPPER_CASE_RATE else value


def _till_email(pop: Population, i: int, t: int, r: random.Random) -> str | None:
    if r.random() < EMAIL_MISSING_RATE:
        return None
    if r.random() < EMAIL_PLACEHOLDER_RATE:
        return mess.placeholder_email(r)
    return mess.email_as_typed(
        pop.email_at(i, t), r, case_rate=0.1, space_rate=0.03, variant_rate=0.03, broken_rate=0.02
    )


def _till_phone(pop: Population, i: int, t: int, r: random.Random) -> str | None:
    if r.random() < PHONE_MISSING_RATE:
        return None
    if r.random() < PHONE_PLACEHOLDER_RATE:
        return mess.placeholder_phone(r)
    return mess.phone_as_typed(pop.phone_at(i, t), pop.country[i], r, PHONE_STYLES, space_rate=0.02)


def build_members(
    ctx: Context,
    pop: Population,
    buys: Purchases,
    rng: np.random.Generator,
    r: random.Random,
    truth: TruthSink,
) -> tuple[LoyaltyCards, Batch]:
    """Loyalty members of the chunk and the export rows of their versions."""
    tl = ctx.timeline
    n = pop.n
    first_store = np.full(n, NO_TIME, dtype=np.int64)
    store_idx = np.flatnonzero(~buys.web)
    if len(store_idx):
        persons, first = np.unique(buys.person[store_idx], return_index=True)
        first_store[persons] = buys.at[store_idx[first]]
    members = np.flatnonzero(pop.has_loyalty)
    second = rng.random(len(members)) < SECOND_CARD_RATE
    numbers = loyalty_numbers(ctx.ids["loyalty"].take(len(members) + int(second.sum())).tolist())
    cards = LoyaltyCards(
        number=[None] * n,
        enrolled_at=np.full(n, NO_TIME, dtype=np.int64),
        second_number=[None] * n,
        second_enrolled_at=np.full(n, NO_TIME, dtype=np.int64),
        home_store=[None] * n,
        email=[None] * n,
        phone=[None] * n,
    )
    spend = _store_spend(buys)
    sink = VersionSink(LOYALTY_MEMBERS)
    next_number = iter(numbers)
    for k, i in enumerate(members.tolist()):
        acquired = int(pop.acquired_at[i])
        if acquired >= tl.start_s and first_store[i] != NO_TIME:
            enrolled = int(first_store[i]) - r.randrange(60, 900)
        else:
            enrolled = acquired + r.randrange(0, 60 * DAY)
        enrolled = min(enrolled, tl.end_s - HOUR)
        _, city, _ = pop.address_at(i, enrolled)
        home = r.choice(_STORES[pop.country[i]].get(city.name, _COUNTRY_STORES[pop.country[i]]))
        number = next(next_number)
        cards.number[i] = number
        cards.enrolled_at[i] = enrolled
        cards.home_store[i] = home
        truth.add("loyalty_members", number, pop.person_id[i])
        email = _till_email(pop, i, enrolled, r)
        phone = _till_phone(pop, i, enrolled, r)
        cards.email[i], cards.phone[i] = email, phone
        _member_versions(ctx, pop, i, number, enrolled, home, email, phone, spend, r, sink)
        if second[k]:
            later = enrolled + r.randrange(60 * DAY, max(61 * DAY, tl.end_s - enrolled))
            if later < tl.end_s:
                number2 = next(next_number)
                cards.second_number[i] = number2
                cards.second_enrolled_at[i] = later
                truth.add("loyalty_members", number2, pop.person_id[i])
                _member_versions(
                    ctx,
                    pop,
                    i,
                    number2,
                    later,
                    home,
                    _till_email(pop, i, later, r),
                    _till_phone(pop, i, later, r),
                    {},
                    r,
                    sink,
                )
    return cards, sink.to_batch(tl)


def _store_spend(buys: Purchases) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """Per person: times of store purchases and cumulative spend in EUR."""
    out: dict[int, tuple[np.ndarray, np.ndarray]] = {}
    idx = np.flatnonzero(~buys.web)
    if not len(idx):
        return out
    fx = np.array([FX_FROM_EUR[c] for c in CURRENCIES])
    eur = buys.subtotal[idx] / 100 / fx[buys.currency[idx]]
    persons = buys.person[idx]
    bounds = np.flatnonzero(np.r_[True, persons[1:] != persons[:-1], True])
    for lo, hi in zip(bounds[:-1].tolist(), bounds[1:].tolist(), strict=True):
        out[int(persons[lo])] = (buys.at[idx[lo:hi]], np.cumsum(eur[lo:hi]))
    return out


def _member_versions(
    ctx: Context,
    pop: Population,
    i: int,
    number: str,
    enrolled: int,
    home: str,
    email: str | None,
    phone: str | None,
    spend: dict[int, tuple[np.ndarray, np.ndarray]],
    r: random.Random,
    sink: VersionSink,
) -> None:
    """The member as enrolled, then a version per tier upgrade or corrected detail."""
    tl = ctx.timeline
    code = pop.country[i]
    _, city, postcode = pop.address_at(i, enrolled)
    birth = None if r.random() < BIRTH_DATE_MISSING_RATE else pop.birth_date[i]
    if r.random() < BIRTH_DATE_PLACEHOLDER_RATE:
        birth = _PLACEHOLDER_BIRTH
    row = {
        "loyalty_number": number,
        "first_name": _till_name(mess.first_name_variant(pop.first_name[i], r, NICKNAME_RATE), r),
        "last_name": _till_name(pop.last_name[i], r),
        "email": email,
        "phone": phone,
        "birth_date": birth,
        "postal_code": mess.postcode_as_typed(postcode, code, r, 0.25),
        "city": mess.city_as_typed(city.name, city.aliases, r, 0.25),
        "country_code": code.lower() if r.random() < 0.02 else code,
        "home_store_id": home,
        "tier": "bronze",
        "enrolled_at": enrolled,
        "updated_at": enrolled,
    }
    sink.add(_record_key(number), enrolled, row)
    changes: list[tuple[int, str]] = []
    if i in spend:
        times, cumulative = spend[i]
        for threshold, tier in TIER_THRESHOLDS_EUR:
            crossed = np.flatnonzero((cumulative >= threshold) & (times > enrolled))
            if len(crossed):
                changes.append((int(times[crossed[0]]) + r.randrange(60, 3 * DAY), tier))
    if enrolled < pop.moved_at[i] <= tl.end_s and r.random() < UPDATE_ADDRESS_RATE:
        changes.append((int(pop.moved_at[i]) + r.randrange(0, 90 * DAY), "address"))
    if enrolled < pop.phone_changed_at[i] <= tl.end_s and r.random() < UPDATE_PHONE_RATE:
        changes.append((int(pop.phone_changed_at[i]) + r.randrange(0, 90 * DAY), "phone"))
    if email is None and r.random() < ADD_EMAIL_RATE:
        changes.append((enrolled + r.randrange(DAY, max(2 * DAY, tl.end_s - enrolled)), "email"))
    for at, kind in sorted(changes):
        if at > tl.end_s:
            continue
        row = dict(row)
        if kind == "address":
            _, city, postcode = pop.address_at(i, at)
            row["postal_code"] = postcode
            row["city"] = city.name
        elif kind == "phone":
            row["phone"] = mess.phone_as_typed(pop.phone_at(i, at), code, r, PHONE_STYLES)
        elif kind == "email":
            row["email"] = pop.email_at(i, at)
        else:
            row["tier"] = kind
        row["updated_at"] = at
        sink.add(_record_key(number), at, row)


def _record_key(number: str) -> int:
    """A record key for a card number (its digits as an integer)."""
    return int(number)


def build_transactions(
    ctx: Context,
    pop: Population,
    buys: Purchases,
    cards: LoyaltyCards,
    rng: np.random.Generator,
    r: random.Random,
) -> list[Batch]:
    """Till receipts for the chunk's store purchases, plus later returns."""
    tl, cat = ctx.timeline, ctx.catalog
    idx, line_idx = buys.subset(~buys.web)
    m = len(idx)
    if m == 0:
        return []
    person = buys.person[idx]
    at = buys.at[idx]
    store: list[str] = []
    card: list[str | None] = []
    for k, p in enumerate(person.tolist()):
        t = int(at[k])
        home = cards.home_store[p]
        code = pop.country[p]
        if home is not None and r.random() < HOME_STORE_RATE:
            store.append(home)
        else:
            _, city, _ = pop.address_at(p, t)
            local = _STORES[code].get(city.name)
            store.append(r.choice(local if local and r.random() < 0.7 else _COUNTRY_STORES[code]))
        number = None
        if (
            cards.number[p] is not None
            and cards.enrolled_at[p] <= t
            and r.random() < CARD_SCAN_RATE
        ):
            number = cards.number[p]
            second = cards.second_number[p]
            if second is not None and cards.second_enrolled_at[p] <= t:
                number = second if r.random() < NEW_CARD_USE_RATE else number
        card.append(number)
    tx_numbers = ctx.ids["transaction"].take(m)
    tx_ids = [f"T{v:011d}" for v in tx_numbers.tolist()]
    n_lines = buys.start[idx + 1] - buys.start[idx]
    line_tx = np.repeat(np.arange(m), n_lines)
    line_no = np.arange(len(line_idx)) - np.repeat(np.cumsum(n_lines) - n_lines, n_lines) + 1
    products = buys.line_product[line_idx]
    qty = buys.line_quantity[line_idx]
    price = buys.line_price[line_idx]
    currency = np.array(CURRENCIES)[buys.currency[idx]]

    # Returns: one product brought back some days later.
    returns = np.flatnonzero(rng.random(m) < STORE_RETURN_RATE)
    ret_at = at[returns] + rng.integers(2 * DAY, 25 * DAY, len(returns))
    keep = ret_at <= tl.end_s
    returns, ret_at = returns[keep], ret_at[keep]
    ret_ids = [f"T{v:011d}" for v in ctx.ids["transaction"].take(len(returns)).tolist()]
    line_starts = np.cumsum(n_lines) - n_lines
    ret_line = np.array(
        [int(line_starts[o]) + r.randrange(int(n_lines[o])) for o in returns.tolist()],
        dtype=np.int64,
    )
    ret_qty = -np.array(
        [r.randrange(1, int(qty[k]) + 1) for k in ret_line.tolist()], dtype=np.int64
    )
    ret_card = [card[o] if r.random() < 0.9 else None for o in returns.tolist()]

    totals = np.bincount(line_tx, weights=qty * price, minlength=m).astype(np.int64)
    tx = monthly_batch(
        STORE_TRANSACTIONS,
        tl,
        np.concatenate([at, ret_at]),
        {
            "transaction_id": tx_ids + ret_ids,
            "store_id": store + [store[o] for o in returns.tolist()],
            "loyalty_number": card + ret_card,
            "transacted_at": np.concatenate([at, ret_at]),
            "currency": np.concatenate([currency, currency[returns]]),
            "total_amount": np.concatenate([totals, ret_qty * price[ret_line]]),
            "is_return": np.r_[np.zeros(m, dtype=bool), np.ones(len(returns), dtype=bool)],
        },
    )
    ids_arr = np.array(tx_ids + ret_ids, dtype=object)
    lines = monthly_batch(
        STORE_TRANSACTION_LINES,
        tl,
        np.concatenate([at[line_tx], ret_at]),
        {
            "transaction_id": list(ids_arr[np.r_[line_tx, m + np.arange(len(returns))]]),
            "line_number": np.r_[line_no, np.ones(len(returns), dtype=np.int64)],
            "product_id": np.array(cat.product_ids)[np.r_[products, products[ret_line]]],
            "category": np.array(cat.category_names)[
                cat.category[np.r_[products, products[ret_line]]]
            ],
            "quantity": np.r_[qty, ret_qty],
            "unit_price": np.r_[price, price[ret_line]],
        },
    )
    return [tx, lines]
