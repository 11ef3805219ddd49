"""Customer service tickets, one row per ticket version, filed by month of the version.

Most tickets follow a purchase by days (returns, late parcels, refunds), so
they cluster around recent buyers; a few are questions from anyone. Requesters
write their name and email however they like.
"""

from __future__ import annotations

import random

import numpy as np

from cdp_demo.sample_data import messiness as mess
from cdp_demo.sample_data.behaviour import Purchases, active_bounds
from cdp_demo.sample_data.context import Context
from cdp_demo.sample_data.people import Population
from cdp_demo.sample_data.records import EventSink, TruthSink
from cdp_demo.sample_data.systems.pos import LoyaltyCards
from cdp_demo.sample_data.systems.shop import ShopOrders
from cdp_demo.sample_data.tables import SUPPORT_TICKETS
from cdp_demo.sample_data.timeline import DAY, HOUR
from cdp_demo.sample_data.writers import Batch

TICKET_RATE = {"completed": 0.04, "cancelled": 0.1, "returned": 0.25, "partially_returned": 0.2}
RECENT_ORDER_FACTOR, RECENT_DAYS = 1.5, 180
STORE_TICKET_RATE, QUESTIONS_PER_YEAR = 0.008, 0.03
CHANNELS = (("email", 0.45), ("web", 0.25), ("chat", 0.2), ("phone", 0.1))
WORK_EMAIL_RATE, PHONE_CHANNEL_NO_EMAIL_RATE = 0.08, 0.6

_ORDER_SUBJECTS = {
    "completed": (
        "Where is my order #{order}?",
        "Order {order} not arrived",
        "Wrong item in order {order}",
        "Change delivery address for order #{order}",
        "Invoice for order {order}",
    ),
    "cancelled": ("Why was order {order} cancelled?", "Cancel my order #{order}"),
    "returned": ("Return request order {order}", "Refund not received for #{order}"),
    "partially_returned": ("Damaged item in order {order}", "Partial refund for #{order}"),
}
_STORE_SUBJECTS = (
    "Loyalty points missing",
    "Question about my receipt",
    "Lost my loyalty card",
    "Exchange an item bought in store",
)
_QUESTIONS = (
    "Do you ship to {country}?",
    "Product question",
    "Unsubscribe me please",
    "Change my address",
    "Delete my account",
    "Gift card balance",
    "Password reset not working",
)


def _pick(r: random.Random, options: tuple[tuple[str, float], ...]) -> str:
    x = r.random() * sum(w for _, w in options)
    for value, weight in options:
        x -= weight
        if x < 0:
            return value
    return options[-1][0]


def requester_name(pop: Population, i: int, r: random.Random) -> str | None:
    """The name as a requester signs off: full, reversed, initial, first name only, ..."""
    first = mess.latin(mess.first_name_variant(pop.first_name[i], r, 0.08), r, 0.6)
    last = mess.latin(pop.last_name[i], r, 0.6)
    pick = r.random()
    if pick < 0.05:
        return None
    if pick < 0.55:
        name = f"{first} {last}"
    elif pick < 0.65:
        name = f"{first} {last}".lower()
    elif pick < 0.7:
        name = f"{first} {last}".upper()
    elif pick < 0.78:
        name = f"{last}, {first}"
    elif pick < 0.9:
        name = first
    else:
        name = f"{first[:1]}. {last}"
    return mess.messy_text(name, r, typo_rate=0.02, space_rate=0.03)


def build_tickets(
    ctx: Context,
    pop: Population,
    buys: Purchases,
    orders: ShopOrders,
    cards: LoyaltyCards,
    rng: np.random.Generator,
    r: random.Random,
    truth: TruthSink,
) -> Batch:
    """Tickets of the chunk: after orders and store visits, plus general questions."""
    tl = ctx.timeline
    recent_from = tl.end_s - RECENT_DAYS * DAY
    plan: list[tuple[int, int, str, str]] = []  # person, created, subject, priority
    for j in range(buys.n):
        p = int(buys.person[j])
        t = int(buys.at[j])
        status = orders.status[j]
        if status is not None:
            rate = TICKET_RATE[status] * (RECENT_ORDER_FACTOR if t >= recent_from else 1.0)
            if r.random() < rate:
                base = int(orders.changed_at[j]) if status != "completed" else t
                created = base + r.randrange(HOUR, 15 * DAY)
                subject = r.choice(_ORDER_SUBJECTS[status]).format(order=int(orders.order_id[j]))
                urgent = status in ("returned", "partially_returned") and r.random() < 0.2
                plan.append((p, created, subject, "urgent" if urgent else ""))
        elif r.random() < STORE_TICKET_RATE * (2 if cards.number[p] else 1):
            plan.append((p, t + r.randrange(HOUR, 10 * DAY), r.choice(_STORE_SUBJECTS), ""))
    lo, hi = active_bounds(ctx, pop)
    years = (hi - lo) / (365.25 * DAY)
    n_q = rng.poisson(QUESTIONS_PER_YEAR * years)
    q_person = np.repeat(np.arange(pop.n), n_q)
    q_at = tl.sample(rng, lo[q_person], hi[q_person], "office")
    for p, t in zip(q_person.tolist(), q_at.tolist(), strict=True):
        country = pop.country[p]
        plan.append((p, t, r.choice(_QUESTIONS).format(country=country), ""))

    plan = [item for item in plan if item[1] <= tl.end_s]
    ids = ctx.ids["ticket"].take(len(plan))
    sink = EventSink(SUPPORT_TICKETS)
    for k, (p, created, subject, priority) in enumerate(plan):
        tid = int(ids[k])
        truth.add("support_tickets", tid, pop.person_id[p])
        _ticket_versions(ctx, pop, p, tid, created, subject, priority, r, sink)
    return sink.to_batch(tl)


def _ticket_versions(
    ctx: Context,
    pop: Population,
    p: int,
    tid: int,
    created: int,
    subject: str,
    priority: str,
    r: random.Random,
    sink: EventSink,
) -> None:
    tl = ctx.timeline
    channel = _pick(r, CHANNELS)
    email: str | None
    if channel == "phone" and r.random() < PHONE_CHANNEL_NO_EMAIL_RATE:
        email = None
    else:
        work = pop.work_email[p]
        email = work if work and r.random() < WORK_EMAIL_RATE else pop.email_at(p, created)
        email = mess.email_as_typed(email, r, case_rate=0.1, space_rate=0.02, variant_rate=0.05)
    phone = None
    if channel == "phone" or r.random() < 0.1:
        phone = mess.phone_as_typed(
            pop.phone_at(p, created),
            pop.country[p],
            r,
            (("national", 0.5), ("intl", 0.25), ("national_compact", 0.15), ("e164", 0.1)),
        )
    if not priority:
        priority = _pick(r, (("normal", 0.6), ("low", 0.15), ("high", 0.2), ("urgent", 0.05)))
    row: dict[str, object] = {
        "ticket_id": tid,
        "requester_email": email,
        "requester_name": requester_name(pop, p, r),
        "requester_phone": phone,
        "subject": subject,
        "status": "new",
        "priority": priority,
        "channel": channel,
        "created_at": created,
        "updated_at": created,
        "solved_at": None,
        "satisfaction_rating": None,
    }
    sink.add(created, row)
    opened = created + r.randrange(10 * 60, 8 * HOUR)
    solved = opened + int(min(r.lognormvariate(np.log(20 * HOUR), 1.0), 30 * DAY))
    closed = solved + r.randrange(3 * DAY, 5 * DAY)
    waiting = r.random() < 0.3
    steps = [(opened, "pending" if waiting else "open"), (solved, "solved"), (closed, "closed")]
    rating = _pick(r, (("good", 0.6), ("bad", 0.1), ("unoffered", 0.3)))
    for at, status in steps:
        if at > tl.end_s:
            break
        row = dict(row)
        row["status"] = status
        row["updated_at"] = at
        if status in ("solved", "closed"):
            row["solved_at"] = solved
            row["satisfaction_rating"] = rating if status == "closed" else "unoffered"
        sink.add(at, row)
