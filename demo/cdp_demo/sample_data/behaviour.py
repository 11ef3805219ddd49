"""Purchases driven by each person's latent traits: when, where (web or store), what.

A person buys as a Poisson process at their purchase rate between joining
(or the window start) and churning (or the window end), on busy days more
than quiet ones. Each purchase is online with probability `web_share`.
Baskets favour the person's two preferred categories and pull in bundle
partners of the first product, which gives co-purchase structure.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cdp_demo.sample_data.context import Context
from cdp_demo.sample_data.locales import COUNTRIES, CURRENCIES
from cdp_demo.sample_data.people import Population
from cdp_demo.sample_data.timeline import DAY

MAX_LINES = 8
FIRST_PREFERENCE, SECOND_PREFERENCE = 0.45, 0.25
BUNDLE_TAKE_RATE = 0.7
QUANTITY_WEIGHTS = np.array([0.82, 0.14, 0.04])


@dataclass
class Purchases:
    """Purchases of one chunk and their lines, both sorted by purchase.

    Lines of purchase k are lines[start[k]:start[k + 1]]. Prices are in the
    purchase's currency, in cents, before tax.
    """

    person: np.ndarray
    at: np.ndarray
    web: np.ndarray
    currency: np.ndarray
    start: np.ndarray
    line_product: np.ndarray
    line_quantity: np.ndarray
    line_price: np.ndarray
    subtotal: np.ndarray

    @property
    def n(self) -> int:
        return len(self.person)

    def subset(self, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Indices of the selected purchases and of their lines."""
        chosen = np.flatnonzero(mask)
        counts = self.start[chosen + 1] - self.start[chosen]
        firsts = np.repeat(self.start[chosen], counts)
        within = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
        return chosen, firsts + within


def active_bounds(ctx: Context, pop: Population) -> tuple[np.ndarray, np.ndarray]:
    """Start and end of each person's buying life within the window."""
    lo = np.maximum(pop.acquired_at, ctx.timeline.start_s)
    hi = np.minimum(pop.active_until(), ctx.timeline.end_s)
    return lo, np.maximum(hi, lo)


def simulate_purchases(ctx: Context, pop: Population, rng: np.random.Generator) -> Purchases:
    """Every purchase of every person in the chunk, web and store."""
    tl, cat = ctx.timeline, ctx.catalog
    lo, hi = active_bounds(ctx, pop)
    years = (hi - lo) / (365.25 * DAY)
    counts = rng.poisson(pop.purchase_rate * ctx.activity * years)
    person = np.repeat(np.arange(pop.n), counts)
    web = rng.random(len(person)) < pop.web_share[person]
    at = np.empty(len(person), dtype=np.int64)
    for flag, profile in ((True, "web"), (False, "store")):
        sel = web == flag
        at[sel] = tl.sample(rng, lo[person[sel]], hi[person[sel]], profile)
    order = np.lexsort((at, person))
    person, web, at = person[order], web[order], at[order]
    currency_of_country = {code: CURRENCIES.index(c.currency) for code, c in COUNTRIES.items()}
    currency = np.array([currency_of_country[pop.country[p]] for p in person.tolist()], dtype=int)
    if len(currency) == 0:
        currency = np.zeros(0, dtype=int)

    mean_price = np.array(
        [cat.price_eur[cat.by_category[c]].mean() for c in range(len(cat.category_names))]
    )
    typical = (mean_price[pop.preferred[:, 0]] + mean_price[pop.preferred[:, 1]]) / 2
    extra = np.clip(pop.basket_value_eur / typical - 1.0, 0.0, 6.0)
    n_lines = np.minimum(1 + rng.poisson(extra[person]), MAX_LINES)
    line_purchase = np.repeat(np.arange(len(person)), n_lines)
    offsets = np.cumsum(n_lines) - n_lines
    position = np.arange(len(line_purchase)) - np.repeat(offsets, n_lines)

    line_person = person[line_purchase]
    u = rng.random(len(line_purchase))
    category = rng.choice(len(cat.category_names), size=len(u), p=cat.category_weights)
    category = np.where(u < FIRST_PREFERENCE, pop.preferred[line_person, 0], category)
    category = np.where(
        (u >= FIRST_PREFERENCE) & (u < FIRST_PREFERENCE + SECOND_PREFERENCE),
        pop.preferred[line_person, 1],
        category,
    )
    product = np.empty(len(u), dtype=np.int64)
    for c, members in enumerate(cat.by_category):
        sel = np.flatnonzero(category == c)
        if len(sel):
            weights = cat.popularity[members] / cat.popularity[members].sum()
            product[sel] = rng.choice(members, size=len(sel), p=weights)

    anchor = np.repeat(product[offsets], n_lines) if len(offsets) else product
    slot = np.clip(position - 1, 0, cat.partners.shape[1] - 1)
    partner = cat.partners[anchor, slot]
    take = (position >= 1) & (position <= cat.partners.shape[1]) & (partner >= 0)
    take &= rng.random(len(u)) < BUNDLE_TAKE_RATE
    product = np.where(take, partner, product)

    quantity = rng.choice(np.arange(1, 4), size=len(u), p=QUANTITY_WEIGHTS)
    key = line_purchase * cat.size + product
    _, first, inverse = np.unique(key, return_index=True, return_inverse=True)
    merged_qty = np.bincount(inverse, weights=quantity).astype(np.int64)
    line_purchase = line_purchase[first]
    line_product = product[first]
    # unique() sorts by key, i.e. by purchase then product; keep line order as bought.
    order = np.lexsort((first, line_purchase))
    line_purchase, line_product, merged_qty = (
        line_purchase[order],
        line_product[order],
        merged_qty[order],
    )
    line_price = cat.price_cents[currency[line_purchase], line_product]
    per_purchase = np.bincount(line_purchase, minlength=len(person))
    start = np.concatenate([[0], np.cumsum(per_purchase)]).astype(np.int64)
    subtotal = np.bincount(
        line_purchase, weights=line_price * merged_qty, minlength=len(person)
    ).astype(np.int64)
    return Purchases(
        person=person,
        at=at,
        web=web,
        currency=currency,
        start=start,
        line_product=line_product,
        line_quantity=merged_qty,
        line_price=line_price.astype(np.int64),
        subtotal=subtotal,
    )
