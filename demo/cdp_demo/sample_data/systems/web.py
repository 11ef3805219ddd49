"""Web and app behaviour: Segment-style page, track and identify events per device.

Each visitor has one to three devices (anonymous ids). Every online order
comes with a session ending in Order Completed; other sessions only browse,
or abandon a cart or a checkout. A device becomes identified when the person
logs in to their shop account on it (an identify call with user_id = shop
customer id); events before that, and on devices never logged in, stay
anonymous. Guests who check out may leave an email in an identify call
without a user_id.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass

import numpy as np

from cdp_demo.sample_data.behaviour import Purchases, active_bounds
from cdp_demo.sample_data.context import Context
from cdp_demo.sample_data.ids import hex_ids
from cdp_demo.sample_data.locales import COUNTRIES, CURRENCIES, SHOP_DOMAIN
from cdp_demo.sample_data.people import Population
from cdp_demo.sample_data.records import TruthSink, monthly_batch
from cdp_demo.sample_data.systems.shop import ShopAccounts, ShopOrders
from cdp_demo.sample_data.tables import WEB_EVENTS
from cdp_demo.sample_data.timeline import DAY, NO_TIME
from cdp_demo.sample_data.writers import Batch

BROWSE_SESSIONS_PER_YEAR = 1.5
CART_ABANDON_SHARE, CHECKOUT_ABANDON_SHARE = 0.22, 0.08
PRE_SIGNUP_SESSIONS = 1.2
FIRST_DEVICE_LOGIN_RATE, OTHER_DEVICE_LOGIN_RATE = 0.9, 0.5
MAIN_DEVICE_SHARE = 0.65
GUEST_IDENTIFY_RATE = 0.5
DEVICE_TYPES = ("web", "ios", "android")
DEVICE_WEIGHTS = np.array([0.55, 0.25, 0.2])
USER_AGENTS = {
    "web": (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/124.0 Safari/537.36",
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/605.1.15 (KHTML, like Gecko) "
        "Version/17.4 Safari/605.1.15",
        "Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0",
    ),
    "ios": ("LumenOak/4.2 (iPhone; iOS 17.4; Scale/3.00)", "LumenOak/4.1 (iPad; iOS 16.7)"),
    "android": (
        "LumenOak/4.2 (Linux; Android 14; Pixel 8)",
        "LumenOak/4.0 (Linux; Android 13; SM-S911B)",
    ),
}
_PAGE, _IDENTIFY, _VIEW, _ADD, _CHECKOUT, _ORDER = range(6)


@dataclass
class Devices:
    """Per device: anonymous id, owner (person index), type, first seen."""

    anonymous_id: list[str]
    person: np.ndarray
    device_type: list[str]
    first_seen: np.ndarray


def build_web(
    ctx: Context,
    pop: Population,
    buys: Purchases,
    shop: ShopAccounts,
    orders: ShopOrders,
    rng: np.random.Generator,
    r: random.Random,
    truth: TruthSink,
) -> tuple[Devices, Batch]:
    """Devices of the chunk's visitors and all their web events."""
    tl, cat = ctx.timeline, ctx.catalog
    web_buyers = np.zeros(pop.n, dtype=bool)
    web_buyers[buys.person[buys.web]] = True
    n_dev = np.maximum(pop.n_devices, web_buyers.astype(np.int64))
    dev_person = np.repeat(np.arange(pop.n), n_dev)
    dev_rank = np.arange(len(dev_person)) - np.repeat(np.cumsum(n_dev) - n_dev, n_dev)
    dev_first = np.r_[0, np.cumsum(n_dev)[:-1]] if pop.n else np.zeros(0, dtype=np.int64)
    n_devices = len(dev_person)
    dev_type = rng.choice(len(DEVICE_TYPES), size=n_devices, p=DEVICE_WEIGHTS)

    # Sessions: one per online order, plus browsing and pre-sign-up visits.
    order_idx = np.flatnonzero(buys.web)
    lo, hi = active_bounds(ctx, pop)
    years = (hi - lo) / (365.25 * DAY)
    visitors = n_dev > 0
    browse_rate = BROWSE_SESSIONS_PER_YEAR * ctx.activity
    n_browse = rng.poisson(browse_rate * (0.5 + pop.web_share) * years) * visitors
    n_pre = rng.poisson(PRE_SIGNUP_SESSIONS * ctx.activity, pop.n)
    n_pre = n_pre * visitors * (pop.acquired_at > tl.start_s)
    b_person = np.repeat(np.arange(pop.n), n_browse)
    b_start = tl.sample(rng, lo[b_person], hi[b_person], "web")
    p_person = np.repeat(np.arange(pop.n), n_pre)
    p_hi = np.maximum(pop.acquired_at[p_person], tl.start_s + DAY)
    p_start = tl.sample(rng, p_hi - 60 * DAY, p_hi, "web")
    kind_u = rng.random(len(b_person))
    b_kind = np.where(
        kind_u < CHECKOUT_ABANDON_SHARE,
        2,
        np.where(kind_u < CHECKOUT_ABANDON_SHARE + CART_ABANDON_SHARE, 1, 0),
    )
    o_person = buys.person[order_idx]
    order_len = buys.start[order_idx + 1] - buys.start[order_idx]
    s_person = np.concatenate([o_person, b_person, p_person])
    s_order = np.concatenate([order_idx, np.full(len(b_person) + len(p_person), -1)])
    s_kind = np.concatenate([np.full(len(o_person), 3), b_kind, np.zeros(len(p_person), int)])
    n_sessions = len(s_person)
    view_extra = rng.geometric(0.5, n_sessions) - 1
    s_lines = np.concatenate([order_len, np.zeros(len(b_person) + len(p_person), int)])
    n_view = np.where(
        s_kind == 3, s_lines + np.minimum(view_extra, 2), 1 + np.minimum(view_extra, 5)
    )
    n_add = np.where(
        s_kind == 3,
        s_lines,
        np.where(s_kind >= 1, np.minimum(n_view, 1 + (rng.random(n_sessions) < 0.3)), 0),
    )
    duration = (n_view + n_add + 3) * 45
    o_end = buys.at[order_idx]
    s_start = np.concatenate([o_end - duration[: len(o_person)], b_start, p_start])

    main = rng.random(n_sessions) < MAIN_DEVICE_SHARE
    other = (rng.random(n_sessions) * np.maximum(n_dev[s_person], 1)).astype(np.int64)
    s_device = dev_first[s_person] + np.where(main, 0, np.minimum(other, n_dev[s_person] - 1))

    # Logins: the first session on a device at or after the account opened.
    customer = shop.customer_id[s_person]
    logs_in = np.where(dev_rank == 0, FIRST_DEVICE_LOGIN_RATE, OTHER_DEVICE_LOGIN_RATE)
    device_logs_in = rng.random(n_devices) < logs_in
    eligible = (customer >= 0) & (s_start >= shop.created_at[s_person]) & device_logs_in[s_device]
    login_session = np.full(n_devices, -1, dtype=np.int64)
    has_identify = np.zeros(n_sessions, dtype=bool)
    cand = np.flatnonzero(eligible)
    if len(cand):
        cand = cand[np.lexsort((s_start[cand], s_device[cand]))]
        devs, first = np.unique(s_device[cand], return_index=True)
        login_session[devs] = cand[first]
        has_identify[cand[first]] = True
    guest = (s_kind == 3) & (customer < 0) & (rng.random(n_sessions) < GUEST_IDENTIFY_RATE)
    has_identify |= guest

    # Events laid out per session: page, [identify], views, adds, [checkout], [order].
    n_ev = 1 + has_identify + n_view + n_add + (s_kind >= 2) + (s_kind == 3)
    ev_session = np.repeat(np.arange(n_sessions), n_ev)
    ev_first = np.cumsum(n_ev) - n_ev
    pos = np.arange(len(ev_session)) - ev_first[ev_session]
    b_view = 1 + has_identify
    b_add = b_view + n_view
    b_chk = b_add + n_add
    kind = np.full(len(ev_session), _PAGE)
    kind[(pos >= 1) & (pos < b_view[ev_session])] = _IDENTIFY
    in_view = (pos >= b_view[ev_session]) & (pos < b_add[ev_session])
    in_add = (pos >= b_add[ev_session]) & (pos < b_chk[ev_session])
    kind[in_view] = _VIEW
    kind[in_add] = _ADD
    after = pos >= b_chk[ev_session]
    kind[after & (s_kind[ev_session] >= 2) & (pos == b_chk[ev_session])] = _CHECKOUT
    kind[after & (s_kind[ev_session] == 3) & (pos == n_ev[ev_session] - 1)] = _ORDER
    item = np.where(
        in_view, pos - b_view[ev_session], np.where(in_add, pos - b_add[ev_session], -1)
    )

    # Products: order lines first, then browsing picks from the person's preferred categories.
    ev_person = s_person[ev_session]
    pick_cat = np.where(
        rng.random(len(ev_session)) < 0.7, pop.preferred[ev_person, 0], pop.preferred[ev_person, 1]
    )
    product = np.zeros(len(ev_session), dtype=np.int64)
    for c, members in enumerate(cat.by_category):
        sel = np.flatnonzero(pick_cat == c)
        product[sel] = members[rng.integers(0, len(members), len(sel))]
    ev_order = s_order[ev_session]
    from_order = (item >= 0) & (ev_order >= 0) & (item < s_lines[ev_session])
    line_at = np.where(from_order, buys.start[np.maximum(ev_order, 0)] + item, 0)
    product = np.where(from_order, buys.line_product[line_at], product)
    view_event = ev_first[ev_session] + b_view[ev_session] + np.maximum(item, 0)
    product = np.where(in_add & ~from_order, product[view_event], product)

    gaps = rng.exponential(40.0, len(ev_session)).astype(np.int64) + 2
    cum = np.cumsum(gaps)
    ts = s_start[ev_session] + cum - cum[ev_first][ev_session]
    ev_device = s_device[ev_session]
    login_at = np.full(n_devices, np.iinfo(np.int64).max, dtype=np.int64)
    logged = np.flatnonzero(login_session >= 0)
    login_at[logged] = ts[ev_first[login_session[logged]] + 1]  # the identify call
    ev_customer = customer[ev_session]
    shows_user = (ts >= login_at[ev_device]) & (ev_customer >= 0)
    user_ids = [
        str(c) if ok else None
        for ok, c in zip(shows_user.tolist(), ev_customer.tolist(), strict=True)
    ]

    anon = hex_ids(rng, n_devices)
    sessions = hex_ids(rng, n_sessions, chars=20, dashed=False)
    used = np.zeros(n_devices, dtype=bool)
    used[ev_device] = True
    for d in np.flatnonzero(used).tolist():
        truth.add("web_events", anon[d], pop.person_id[int(dev_person[d])])

    props, ctxs, traits, types, names = _payloads(
        ctx, pop, shop, orders, kind, product, ev_person, ev_order, ev_device, dev_type, r
    )
    first_seen = np.full(n_devices, np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(first_seen, ev_device, ts)
    devices = Devices(
        anonymous_id=anon,
        person=dev_person,
        device_type=[DEVICE_TYPES[t] for t in dev_type.tolist()],
        first_seen=np.where(used, first_seen, NO_TIME),
    )
    batch = monthly_batch(
        WEB_EVENTS,
        tl,
        ts,
        {
            "message_id": hex_ids(rng, len(ts)),
            "type": types,
            "event": names,
            "anonymous_id": [anon[d] for d in ev_device.tolist()],
            "user_id": user_ids,
            "session_id": [sessions[s] for s in ev_session.tolist()],
            "timestamp": ts,
            "properties": props,
            "traits": traits,
            "context": ctxs,
        },
    )
    return devices, batch


_TYPES = np.array(["page", "identify", "track", "track", "track", "track"], dtype=object)
_NAMES = np.array(
    [None, None, "Product Viewed", "Product Added", "Checkout Started", "Order Completed"],
    dtype=object,
)


def _payloads(
    ctx: Context,
    pop: Population,
    shop: ShopAccounts,
    orders: ShopOrders,
    kind: np.ndarray,
    product: np.ndarray,
    ev_person: np.ndarray,
    ev_order: np.ndarray,
    ev_device: np.ndarray,
    dev_type: np.ndarray,
    r: random.Random,
) -> tuple[list[str | None], list[str], list[str | None], np.ndarray, np.ndarray]:
    """JSON text of properties, context and traits, plus type and event name, per event."""
    cat = ctx.catalog
    base = f"https://{SHOP_DOMAIN}"
    product_url = [f"{base}/p/{pid}" for pid in cat.product_ids]
    product_json = [
        [
            f'"product_id":"{pid}","category":"{cat.category_names[int(cat.category[k])]}",'
            f'"price":{int(cat.price_cents[c, k]) / 100},"url":"{product_url[k]}"'
            for k, pid in enumerate(cat.product_ids)
        ]
        for c in range(len(CURRENCIES))
    ]
    category_url = [f"{base}/c/{slug}" for slug in cat.category_slugs]
    person_currency = [CURRENCIES.index(COUNTRIES[c].currency) for c in pop.country]
    context_head = [f'{{"device_type":"{DEVICE_TYPES[t]}","page_url":"' for t in dev_type.tolist()]
    context_tail = [
        f'","user_agent":"{r.choice(USER_AGENTS[DEVICE_TYPES[t]])}"}}' for t in dev_type.tolist()
    ]
    props: list[str | None] = []
    ctxs: list[str] = []
    traits: list[str | None] = []
    landing = np.random.default_rng(r.getrandbits(64)).random(len(kind)) < 0.5
    for k, p, prod, o, d, home in zip(
        kind.tolist(),
        ev_person.tolist(),
        product.tolist(),
        ev_order.tolist(),
        ev_device.tolist(),
        landing.tolist(),
        strict=True,
    ):
        trait = None
        if k in (_VIEW, _ADD):
            url = product_url[prod]
            extra = ',"quantity":1}' if k == _ADD else "}"
            prop: str | None = "{" + product_json[person_currency[p]][prod] + extra
        elif k == _PAGE:
            url = f"{base}/" if home else category_url[int(pop.preferred[p, 0])]
            prop = f'{{"url":"{url}"}}'
        elif k == _IDENTIFY:
            url = f"{base}/account/login" if shop.customer_id[p] >= 0 else f"{base}/checkout"
            prop = None
            trait = _traits(shop, orders, p, o)
        elif k == _CHECKOUT:
            url = f"{base}/checkout"
            prop = f'{{"url":"{url}","currency":"{CURRENCIES[person_currency[p]]}"}}'
        else:
            url = f"{base}/checkout/complete"
            prop = (
                f'{{"order_id":"{int(orders.order_id[o])}","total":{int(orders.total[o]) / 100},'
                f'"currency":"{CURRENCIES[person_currency[p]]}","url":"{url}"}}'
            )
        props.append(prop)
        traits.append(trait)
        ctxs.append(context_head[d] + url + context_tail[d])
    return props, ctxs, traits, _TYPES[kind], _NAMES[kind]


def _traits(shop: ShopAccounts, orders: ShopOrders, p: int, o: int) -> str:
    if shop.customer_id[p] >= 0:
        email = shop.login_email[p]
        traits = {
            "email": email.strip().lower() if email else None,
            "first_name": shop.display_first[p],
            "last_name": shop.display_last[p],
            "phone": shop.phone[p],
        }
    else:
        traits = {"email": orders.email[o] if o >= 0 else None}
    return json.dumps(traits, ensure_ascii=False, separators=(",", ":"))
