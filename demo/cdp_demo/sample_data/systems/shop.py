"""The web shop: customer accounts (with versions), orders (with versions) and order lines.

Accounts are opened at the first online checkout (or around joining), typed by
the customer. A few people open a second account. Orders from people without
an account, or who skip logging in, are guest checkouts with only an email.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import numpy as np

from cdp_demo.sample_data import messiness as mess
from cdp_demo.sample_data.behaviour import Purchases
from cdp_demo.sample_data.context import Context
from cdp_demo.sample_data.locales import COUNTRIES, CURRENCIES, FX_FROM_EUR
from cdp_demo.sample_data.people import Population
from cdp_demo.sample_data.records import TruthSink, VersionSink, monthly_batch
from cdp_demo.sample_data.tables import SHOP_CUSTOMERS, SHOP_ORDER_LINES, SHOP_ORDERS
from cdp_demo.sample_data.timeline import DAY, HOUR, NO_TIME
from cdp_demo.sample_data.writers import Batch

DUPLICATE_ACCOUNT_RATE = 0.03
GUEST_CHECKOUT_RATE = 0.05
DUPLICATE_ACCOUNT_USE_RATE = 0.35
NAME_TYPO_RATE, NAME_CASE_RATE, NAME_SPACE_RATE, NICKNAME_RATE = 0.02, 0.04, 0.03, 0.04
GREEK_LATIN_RATE = 0.5
EMAIL_CASE_RATE, EMAIL_SPACE_RATE, EMAIL_VARIANT_RATE, EMAIL_BROKEN_RATE = 0.06, 0.01, 0.05, 0.003
GUEST_EMAIL_VARIANT_RATE, GUEST_EMAIL_BROKEN_RATE = 0.12, 0.01
PHONE_MISSING_RATE, PHONE_PLACEHOLDER_RATE = 0.3, 0.015
BIRTH_DATE_MISSING_RATE = 0.45
UPDATE_EMAIL_RATE, UPDATE_PHONE_RATE, UPDATE_ADDRESS_RATE, FIX_TYPO_RATE = 0.6, 0.5, 0.7, 0.4
MARKETING_TOGGLE_RATE, LATE_TOUCH_RATE = 0.08, 0.06
CANCEL_RATE, RETURN_RATE, PARTIAL_RETURN_RATE = 0.03, 0.035, 0.045
FREE_SHIPPING_EUR, SHIPPING_EUR = 50.0, 4.95

PHONE_STYLES = (
    ("e164", 0.15),
    ("intl", 0.2),
    ("national", 0.3),
    ("national_compact", 0.15),
    ("intl00", 0.05),
    ("dashed", 0.05),
    ("dotted", 0.03),
    ("intl_trunk", 0.04),
    ("digits_cc", 0.03),
)


@dataclass
class ShopAccounts:
    """Per person: primary and duplicate account (-1 = none), when opened, login email."""

    customer_id: np.ndarray
    created_at: np.ndarray
    login_email: list[str | None]
    accepts_marketing: np.ndarray
    duplicate_id: np.ndarray
    duplicate_created_at: np.ndarray
    duplicate_email: list[str | None]
    display_first: list[str | None]
    display_last: list[str | None]
    phone: list[str | None]


@dataclass
class ShopOrders:
    """Per purchase (store purchases are -1 / None): order id, account, checkout email, status."""

    order_id: np.ndarray
    customer_id: np.ndarray
    email: list[str | None]
    status: list[str | None]
    changed_at: np.ndarray
    total: np.ndarray


def _typed_name(value: str, r: random.Random) -> str:
    value = mess.latin(value, r, GREEK_LATIN_RATE)
    return str(
        mess.messy_text(
            value, r, typo_rate=NAME_TYPO_RATE, case_rate=NAME_CASE_RATE, space_rate=NAME_SPACE_RATE
        )
    )


def _typed_email(email: str, r: random.Random) -> str:
    return mess.email_as_typed(
        email,
        r,
        case_rate=EMAIL_CASE_RATE,
        space_rate=EMAIL_SPACE_RATE,
        variant_rate=EMAIL_VARIANT_RATE,
        broken_rate=EMAIL_BROKEN_RATE,
    )


def _typed_phone(pop: Population, i: int, t: int, r: random.Random) -> str | None:
    if r.random() < PHONE_MISSING_RATE:
        return None
    if r.random() < PHONE_PLACEHOLDER_RATE:
        return mess.placeholder_phone(r)
    return mess.phone_as_typed(pop.phone_at(i, t), pop.country[i], r, PHONE_STYLES)


def build_accounts(
    ctx: Context,
    pop: Population,
    buys: Purchases,
    rng: np.random.Generator,
    r: random.Random,
    truth: TruthSink,
) -> tuple[ShopAccounts, Batch]:
    """Shop accounts of the chunk and the export rows of their versions."""
    tl = ctx.timeline
    n = pop.n
    first_web = np.full(n, NO_TIME, dtype=np.int64)
    web_idx = np.flatnonzero(buys.web)
    if len(web_idx):
        # Purchases are sorted by person then time: the first per person is the earliest.
        persons, earliest = np.unique(buys.person[web_idx], return_index=True)
        first_web[persons] = buys.at[web_idx[earliest]]
    holders = np.flatnonzero(pop.has_shop)
    ids = ctx.ids["customer"].take(len(holders))
    dup = rng.random(len(holders)) < DUPLICATE_ACCOUNT_RATE
    dup_ids = ctx.ids["customer"].take(int(dup.sum()))

    acc = ShopAccounts(
        customer_id=np.full(n, -1, dtype=np.int64),
        created_at=np.full(n, NO_TIME, dtype=np.int64),
        login_email=[None] * n,
        accepts_marketing=np.zeros(n, dtype=bool),
        duplicate_id=np.full(n, -1, dtype=np.int64),
        duplicate_created_at=np.full(n, NO_TIME, dtype=np.int64),
        duplicate_email=[None] * n,
        display_first=[None] * n,
        display_last=[None] * n,
        phone=[None] * n,
    )
    sink = VersionSink(SHOP_CUSTOMERS)
    dup_iter = iter(dup_ids.tolist())
    for k, i in enumerate(holders.tolist()):
        acquired = int(pop.acquired_at[i])
        if acquired < tl.start_s or first_web[i] == NO_TIME:
            created = acquired + r.randrange(0, 30 * DAY)
        else:
            created = int(first_web[i]) - r.randrange(60, 1800)
        created = min(created, tl.end_s - HOUR)
        cid = int(ids[k])
        acc.customer_id[i] = cid
        acc.created_at[i] = created
        truth.add("shop_customers", cid, pop.person_id[i])
        login = _typed_email(pop.email_at(i, created), r)
        acc.login_email[i] = login
        marketing = r.random() < 0.3 + 0.5 * float(pop.engagement[i])
        acc.accepts_marketing[i] = marketing
        first = mess.first_name_variant(pop.first_name[i], r, NICKNAME_RATE)
        acc.display_first[i] = first_typed = _typed_name(first, r)
        acc.display_last[i] = last_typed = _typed_name(pop.last_name[i], r)
        phone = _typed_phone(pop, i, created, r)
        acc.phone[i] = phone
        _account_versions(
            ctx, pop, i, cid, created, login, first_typed, last_typed, phone, marketing, r, sink
        )
        if dup[k]:
            dup_id = next(dup_iter)
            dup_created = created + r.randrange(30 * DAY, max(31 * DAY, tl.end_s - created))
            dup_created = min(dup_created, tl.end_s - HOUR)
            email = _second_login(pop, i, login, dup_created, r)
            acc.duplicate_id[i] = dup_id
            acc.duplicate_created_at[i] = dup_created
            acc.duplicate_email[i] = email
            truth.add("shop_customers", dup_id, pop.person_id[i])
            nick = mess.first_name_variant(pop.first_name[i], r, 0.5)
            _account_versions(
                ctx,
                pop,
                i,
                dup_id,
                dup_created,
                email,
                _typed_name(nick, r),
                _typed_name(pop.last_name[i], r),
                _typed_phone(pop, i, dup_created, r),
                r.random() < 0.5,
                r,
                sink,
            )
    return acc, sink.to_batch(tl)


def _second_login(pop: Population, i: int, login: str, t: int, r: random.Random) -> str:
    """The login of a forgotten-password second account: work address or a variant."""
    work = pop.work_email[i]
    if work and r.random() < 0.5:
        return work
    personal = pop.email_at(i, t)
    if personal.endswith("@gmail.com"):
        variant = mess.gmail_variant(personal, r)
    else:
        variant = mess.plus_tag(personal, r)
    return variant if variant.lower() != login.strip().lower() else mess.plus_tag(personal, r)


def _account_versions(
    ctx: Context,
    pop: Population,
    i: int,
    cid: int,
    created: int,
    email: str,
    first: str,
    last: str,
    phone: str | None,
    marketing: bool,
    r: random.Random,
    sink: VersionSink,
) -> None:
    """The account as opened, then one version per later change."""
    tl = ctx.timeline
    street, city, postcode = pop.address_at(i, created)
    row = {
        "customer_id": cid,
        "email": email,
        "first_name": first,
        "last_name": last,
        "phone": phone,
        "birth_date": None if r.random() < BIRTH_DATE_MISSING_RATE else pop.birth_date[i],
        "address_line1": mess.street_as_typed(street, pop.country[i], r, 0.2),
        "city": mess.city_as_typed(city.name, city.aliases, r, 0.1),
        "postal_code": mess.postcode_as_typed(postcode, pop.country[i], r, 0.1),
        "country_code": pop.country[i],
        "accepts_marketing": marketing,
        "created_at": created,
        "updated_at": created,
    }
    sink.add(cid, created, row)
    changes: list[tuple[int, str]] = []
    if created < pop.email_changed_at[i] <= tl.end_s and r.random() < UPDATE_EMAIL_RATE:
        changes.append((int(pop.email_changed_at[i]) + r.randrange(0, 20 * DAY), "email"))
    if created < pop.phone_changed_at[i] <= tl.end_s and r.random() < UPDATE_PHONE_RATE:
        changes.append((int(pop.phone_changed_at[i]) + r.randrange(0, 20 * DAY), "phone"))
    if created < pop.moved_at[i] <= tl.end_s and r.random() < UPDATE_ADDRESS_RATE:
        changes.append((int(pop.moved_at[i]) + r.randrange(0, 40 * DAY), "address"))
    clean_first = mess.latin(pop.first_name[i], r, 1.0)
    if (first.strip().lower() not in (pop.first_name[i].lower(), clean_first.lower())) and (
        r.random() < FIX_TYPO_RATE
    ):
        changes.append((created + r.randrange(DAY, max(2 * DAY, tl.end_s - created)), "name"))
    if r.random() < MARKETING_TOGGLE_RATE:
        changes.append((created + r.randrange(DAY, max(2 * DAY, tl.end_s - created)), "marketing"))
    if r.random() < LATE_TOUCH_RATE:
        late = max(created + HOUR, tl.end_s - r.randrange(1, 60) * DAY)
        changes.append((late, "phone" if row["phone"] is None else "marketing"))
    for at, kind in sorted(changes):
        if at > tl.end_s:
            continue
        row = dict(row)
        if kind == "email":
            row["email"] = _typed_email(pop.email_at(i, at), r)
        elif kind == "phone":
            row["phone"] = mess.phone_as_typed(pop.phone_at(i, at), pop.country[i], r, PHONE_STYLES)
        elif kind == "address":
            street, city, postcode = pop.address_at(i, at)
            row["address_line1"] = street
            row["city"] = city.name
            row["postal_code"] = postcode
        elif kind == "name":
            row["first_name"] = mess.latin(pop.first_name[i], r, 0.5)
            row["last_name"] = mess.latin(pop.last_name[i], r, 0.5)
        else:
            row["accepts_marketing"] = not row["accepts_marketing"]
        row["updated_at"] = at
        sink.add(cid, at, row)


def build_orders(
    ctx: Context,
    pop: Population,
    buys: Purchases,
    acc: ShopAccounts,
    rng: np.random.Generator,
    r: random.Random,
    truth: TruthSink,
) -> tuple[ShopOrders, list[Batch]]:
    """Orders of the chunk's online purchases: order versions and order lines."""
    tl, cat = ctx.timeline, ctx.catalog
    idx, line_idx = buys.subset(buys.web)
    n_all = buys.n
    out = ShopOrders(
        order_id=np.full(n_all, -1, dtype=np.int64),
        customer_id=np.full(n_all, -1, dtype=np.int64),
        email=[None] * n_all,
        status=[None] * n_all,
        changed_at=np.full(n_all, NO_TIME, dtype=np.int64),
        total=np.zeros(n_all, dtype=np.int64),
    )
    m = len(idx)
    if m == 0:
        return out, []
    order_ids = ctx.ids["order"].take(m)
    person = buys.person[idx]
    at = buys.at[idx]
    currency = buys.currency[idx]
    fx = np.array([FX_FROM_EUR[c] for c in CURRENCIES])[currency]
    vat = np.array([COUNTRIES[pop.country[p]].vat_rate for p in person.tolist()])
    subtotal = buys.subtotal[idx]
    shipping = np.where(
        subtotal >= FREE_SHIPPING_EUR * fx * 100, 0, np.round(SHIPPING_EUR * fx * 100)
    ).astype(np.int64)
    tax = np.round(subtotal * vat).astype(np.int64)
    total = subtotal + shipping + tax

    # Status and when it changed; lines returned for (partial) returns.
    u = rng.random(m)
    n_lines = buys.start[idx + 1] - buys.start[idx]
    status = np.full(m, "completed", dtype=object)
    status[u < CANCEL_RATE] = "cancelled"
    status[(u >= CANCEL_RATE) & (u < CANCEL_RATE + RETURN_RATE)] = "returned"
    partial_ok = (n_lines > 1) | (buys.line_quantity[buys.start[idx]] > 1)
    partial = (u >= CANCEL_RATE + RETURN_RATE) & (
        u < CANCEL_RATE + RETURN_RATE + PARTIAL_RETURN_RATE
    )
    status[partial & partial_ok] = "partially_returned"
    delay = np.where(
        status == "cancelled",
        rng.integers(10 * 60, 36 * HOUR, m),
        rng.integers(5 * DAY, 30 * DAY, m),
    )
    changed = np.where(status == "completed", NO_TIME, at + delay)
    too_late = (status != "completed") & (changed > tl.end_s)
    status[too_late] = "completed"
    changed[too_late] = NO_TIME

    line_order = np.repeat(np.arange(m), n_lines)
    qty = buys.line_quantity[line_idx]
    price = buys.line_price[line_idx]
    returned = np.zeros(len(line_idx), dtype=np.int64)
    full_return = np.isin(status[line_order], ["returned"])
    returned[full_return] = qty[full_return]
    partial_orders = np.flatnonzero(status == "partially_returned")
    line_starts = np.cumsum(n_lines) - n_lines
    for o in partial_orders.tolist():
        k = line_starts[o] + r.randrange(int(n_lines[o]))
        most = int(qty[k]) if n_lines[o] > 1 else int(qty[k]) - 1
        returned[k] = r.randrange(1, most + 1)
    refund_lines = np.bincount(line_order, weights=returned * price, minlength=m)
    refunded = np.where(
        status == "cancelled",
        total,
        np.where(
            status == "returned",
            subtotal + tax,
            np.round(refund_lines * (1 + vat)).astype(np.int64),
        ),
    )
    refunded = np.where(status == "completed", 0, refunded).astype(np.int64)

    # Who checked out: account, second account or guest; the email they gave.
    customer = np.full(m, -1, dtype=np.int64)
    emails: list[str] = []
    for k, p in enumerate(person.tolist()):
        t = int(at[k])
        pid = pop.person_id[p]
        primary_open = acc.customer_id[p] >= 0 and acc.created_at[p] <= t
        dup_open = acc.duplicate_id[p] >= 0 and acc.duplicate_created_at[p] <= t
        if dup_open and r.random() < DUPLICATE_ACCOUNT_USE_RATE:
            customer[k] = acc.duplicate_id[p]
            emails.append(str(acc.duplicate_email[p]).strip().lower())
        elif primary_open and r.random() >= GUEST_CHECKOUT_RATE:
            customer[k] = acc.customer_id[p]
            emails.append(pop.email_at(p, t).lower())
        else:
            emails.append(
                mess.email_as_typed(
                    pop.email_at(p, t),
                    r,
                    case_rate=0.1,
                    space_rate=0.02,
                    variant_rate=GUEST_EMAIL_VARIANT_RATE,
                    broken_rate=GUEST_EMAIL_BROKEN_RATE,
                )
            )
        truth.add("shop_orders", int(order_ids[k]), pid)

    out.order_id[idx] = order_ids
    out.customer_id[idx] = customer
    out.changed_at[idx] = changed
    out.total[idx] = total
    for k, j in enumerate(idx.tolist()):
        out.email[j] = emails[k]
        out.status[j] = str(status[k])

    first_seen = at + rng.integers(5, 120, m)
    versions_at = np.concatenate([first_seen, changed[changed != NO_TIME]])
    second = np.flatnonzero(changed != NO_TIME)
    take = np.concatenate([np.arange(m), second])
    is_second = np.r_[np.zeros(m, dtype=bool), np.ones(len(second), dtype=bool)]
    customer_col = [None if c < 0 else int(c) for c in customer[take].tolist()]
    orders = monthly_batch(
        SHOP_ORDERS,
        tl,
        versions_at,
        {
            "order_id": order_ids[take],
            "customer_id": customer_col,
            "email": [emails[k] for k in take.tolist()],
            "ordered_at": at[take],
            "status": np.where(is_second, status[take], "completed").astype(str),
            "currency": np.array(CURRENCIES)[currency[take]],
            "subtotal": subtotal[take],
            "shipping": shipping[take],
            "tax": tax[take],
            "total": total[take],
            "refunded_amount": np.where(is_second, refunded[take], 0),
            "updated_at": versions_at,
        },
    )
    position = np.arange(len(line_idx)) - np.repeat(line_starts, n_lines)
    products = buys.line_product[line_idx]
    lines = monthly_batch(
        SHOP_ORDER_LINES,
        tl,
        at[line_order],
        {
            "order_line_id": order_ids[line_order] * 100 + position + 1,
            "order_id": order_ids[line_order],
            "product_id": np.array(cat.product_ids)[products],
            "product_name": np.array(cat.names)[products],
            "category": np.array(cat.category_names)[cat.category[products]],
            "quantity": qty,
            "unit_price": price,
            "returned_quantity": returned,
        },
    )
    return out, [orders, lines]
