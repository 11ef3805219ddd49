"""The product catalogue: categories, products, prices per currency, bundles.

Bundles give the co-purchase structure: a product may have up to two partner
products (same or complementary category) that are often bought with it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cdp_demo.sample_data.locales import CURRENCIES, FX_FROM_EUR
from cdp_demo.sample_data.randomness import np_rng

PRODUCTS_PER_CATEGORY = 24
MAX_PARTNERS = 2
BUNDLE_SHARE = 0.4


@dataclass(frozen=True)
class CategorySpec:
    """A category: display name, URL slug, typical EUR price, name parts, companion category."""

    name: str
    slug: str
    median_price_eur: float
    adjectives: tuple[str, ...]
    nouns: tuple[str, ...]
    companion: str


def _w(spec: str) -> tuple[str, ...]:
    return tuple(s.strip() for s in spec.split("|"))


CATEGORY_SPECS: tuple[CategorySpec, ...] = (
    CategorySpec(
        "Women's Clothing",
        "womens-clothing",
        45,
        _w("Linen|Merino|Cotton|Silk|Cashmere|Denim|Pleated|Wrap"),
        _w("Dress|Blouse|Cardigan|Skirt|Jumper|Trousers|Jacket|Shirt"),
        "accessories",
    ),
    CategorySpec(
        "Men's Clothing",
        "mens-clothing",
        45,
        _w("Oxford|Merino|Flannel|Chino|Waxed|Quilted|Slim|Classic"),
        _w("Shirt|Jumper|Trousers|Jacket|Polo|Blazer|Hoodie|Coat"),
        "accessories",
    ),
    CategorySpec(
        "Shoes",
        "shoes",
        70,
        _w("Leather|Suede|Canvas|Trail|Chelsea|Running|Waterproof|Classic"),
        _w("Boots|Trainers|Loafers|Sandals|Sneakers|Brogues|Slippers|Runners"),
        "accessories",
    ),
    CategorySpec(
        "Accessories",
        "accessories",
        18,
        _w("Wool|Leather|Bamboo|Recycled|Organic|Printed|Knitted|Travel"),
        _w("Socks|Scarf|Belt|Beanie|Gloves|Wallet|Tote Bag|Shoe Care Kit"),
        "shoes",
    ),
    CategorySpec(
        "Home & Kitchen",
        "home-kitchen",
        35,
        _w("Stoneware|Cast Iron|Oak|Enamel|Glass|Copper|Linen|Ceramic"),
        _w("Mug Set|Skillet|Cutting Board|Teapot|Coffee Grinder|Pour-Over Kettle|Bowl Set|Vase"),
        "food-drink",
    ),
    CategorySpec(
        "Beauty",
        "beauty",
        20,
        _w("Rose|Vitamin C|Hydrating|Charcoal|Aloe|Argan|Lavender|Citrus"),
        _w("Serum|Face Cream|Cleanser|Hand Cream|Lip Balm|Shampoo|Body Oil|Face Mask"),
        "beauty",
    ),
    CategorySpec(
        "Sports & Outdoors",
        "sports-outdoors",
        40,
        _w("Trail|Insulated|Packable|Lightweight|Thermal|Compact|Alpine|Breathable"),
        _w(
            "Backpack|Water Bottle|Yoga Mat|Rain Jacket|Headlamp|Tent|Running Tights|Trekking Poles"
        ),
        "shoes",
    ),
    CategorySpec(
        "Electronics",
        "electronics",
        90,
        _w("Wireless|Portable|Smart|Noise-Cancelling|Compact|Fast|Solar|Bluetooth"),
        _w("Headphones|Speaker|Charger|Power Bank|Desk Lamp|E-Reader|Fitness Tracker|Cable Kit"),
        "electronics",
    ),
    CategorySpec(
        "Toys & Games",
        "toys-games",
        25,
        _w("Wooden|Magnetic|Classic|Cooperative|Pocket|Family|Puzzle|Builder"),
        _w("Board Game|Puzzle|Train Set|Card Game|Building Blocks|Doll House|Kite|Marble Run"),
        "books",
    ),
    CategorySpec(
        "Books",
        "books",
        15,
        _w("Illustrated|Pocket|Collected|Field|Hardback|Annotated|Essential|Seasonal"),
        _w("Cookbook|Novel|Atlas|Guide|Poetry|Journal|Field Guide|Biography"),
        "toys-games",
    ),
    CategorySpec(
        "Garden",
        "garden",
        30,
        _w("Galvanised|Bamboo|Heritage|Terracotta|Cedar|Folding|Solar|Ash"),
        _w("Planter|Trowel|Seed Kit|Watering Can|Bird Feeder|Pruners|Lantern|Gloves"),
        "garden",
    ),
    CategorySpec(
        "Food & Drink",
        "food-drink",
        12,
        _w("Single-Origin|Organic|Smoked|Aged|Wildflower|Spiced|Cold-Pressed|Stone-Ground"),
        _w("Coffee Beans|Tea|Honey|Olive Oil|Chocolate|Granola|Hot Sauce|Sea Salt"),
        "home-kitchen",
    ),
)


@dataclass(frozen=True)
class Catalog:
    """Products as parallel arrays, indexed 0..n-1.

    price_cents[c, p] is the shelf price of product p in CURRENCIES[c]; partners[p]
    lists up to two bundle partners (-1 = none); popularity[p] is its share within
    its category.
    """

    product_ids: tuple[str, ...]
    names: tuple[str, ...]
    category: np.ndarray
    category_names: tuple[str, ...]
    category_slugs: tuple[str, ...]
    price_eur: np.ndarray
    price_cents: np.ndarray
    partners: np.ndarray
    popularity: np.ndarray
    by_category: tuple[np.ndarray, ...]
    category_weights: np.ndarray

    @property
    def size(self) -> int:
        return len(self.product_ids)


def _round_price(value: float, currency: str) -> int:
    """Shop-style price in cents: .99 endings, whole units for large currencies."""
    if currency in ("NOK", "DKK", "PLN"):
        return max(1, round(value)) * 100 - (1 if value >= 10 else 0)
    return max(99, round(value) * 100 - 1)


def build_catalog(seed: int) -> Catalog:
    """The catalogue for a seed: same seed, same products and prices."""
    rng = np_rng(seed, 0, "catalog")
    slugs = [c.slug for c in CATEGORY_SPECS]
    ids: list[str] = []
    names: list[str] = []
    cats: list[int] = []
    prices: list[float] = []
    popularity: list[float] = []
    sku = 100000 + int(rng.integers(0, 800000))
    for ci, spec in enumerate(CATEGORY_SPECS):
        combos = [(a, n) for a in spec.adjectives for n in spec.nouns]
        picks = rng.choice(len(combos), size=PRODUCTS_PER_CATEGORY, replace=False)
        zipf = 1.0 / np.arange(1, PRODUCTS_PER_CATEGORY + 1) ** 0.9
        for rank, k in enumerate(picks.tolist()):
            adj, noun = combos[k]
            sku += int(rng.integers(1, 40))
            ids.append(f"SKU-{sku}")
            names.append(f"{adj} {noun}")
            cats.append(ci)
            prices.append(float(spec.median_price_eur * rng.lognormal(0.0, 0.45)))
            popularity.append(float(zipf[rank] / zipf.sum()))
    n = len(ids)
    category = np.array(cats, dtype=np.int64)
    by_category = tuple(np.flatnonzero(category == ci) for ci in range(len(CATEGORY_SPECS)))
    partners = np.full((n, MAX_PARTNERS), -1, dtype=np.int64)
    for p in range(n):
        if rng.random() >= BUNDLE_SHARE:
            continue
        spec = CATEGORY_SPECS[cats[p]]
        for k in range(int(rng.integers(1, MAX_PARTNERS + 1))):
            pool_cat = cats[p] if rng.random() < 0.55 else slugs.index(spec.companion)
            pool = by_category[pool_cat]
            partner = int(pool[rng.integers(0, len(pool))])
            if partner != p and partner not in partners[p]:
                partners[p, k] = partner
    price_eur = np.array(prices)
    price_cents = np.array(
        [[_round_price(v * FX_FROM_EUR[cur], cur) for v in prices] for cur in CURRENCIES],
        dtype=np.int64,
    )
    cat_weights = np.array([1.4, 1.0, 1.2, 1.1, 1.0, 0.9, 0.8, 0.7, 0.6, 0.7, 0.5, 0.8])
    return Catalog(
        product_ids=tuple(ids),
        names=tuple(names),
        category=category,
        category_names=tuple(c.name for c in CATEGORY_SPECS),
        category_slugs=tuple(slugs),
        price_eur=price_eur,
        price_cents=price_cents,
        partners=partners,
        popularity=np.array(popularity),
        by_category=by_category,
        category_weights=cat_weights / cat_weights.sum(),
    )
