"""The true people behind the records: households, identities, latent behaviour, memberships.

A chunk of people is built from its own random streams. Identities are clean
here (messiness is added per system); emails and phone numbers are unique per
person except where a household deliberately shares them.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np

from cdp_demo.sample_data.context import Context
from cdp_demo.sample_data.locales import COUNTRIES, COUNTRY_CODES, City, Country, PhonePlan
from cdp_demo.sample_data.names import FEMALE, MALE, SURNAMES, ascii_fold
from cdp_demo.sample_data.randomness import np_rng, py_rng
from cdp_demo.sample_data.timeline import DAY, NO_TIME

HOUSEHOLD_SIZES = np.array([1, 2, 3, 4, 5])
HOUSEHOLD_WEIGHTS = np.array([0.42, 0.33, 0.13, 0.09, 0.03])
SHARED_EMAIL_RATE = 0.12  # multi-person households where two people use one address
SHARED_SURNAME_RATE = 0.75  # partners with the same surname
DOUBLE_SURNAME_RATE = 0.5  # Spanish people with two surnames
WORK_EMAIL_RATE = 0.14
EMAIL_CHANGE_RATE = 0.06
PHONE_CHANGE_RATE = 0.05
MOVE_RATE = 0.08  # households that move house during the window
NO_MOBILE_RATE = 0.07  # people reachable only on the household landline
EXISTING_CUSTOMER_SHARE = 0.35  # already customers when the window starts
CHURN_BASE, CHURN_DISENGAGED = 0.10, 0.30


@dataclass
class Population:
    """One chunk of people as parallel columns (index i = one person)."""

    first_index: int
    person_id: list[str]
    household_id: list[str]
    country: list[str]
    female: np.ndarray
    first_name: list[str]
    last_name: list[str]
    birth_date: list[date]
    email: list[str]
    previous_email: list[str | None]
    email_changed_at: np.ndarray
    work_email: list[str | None]
    shares_email: np.ndarray
    phone: list[str]
    previous_phone: list[str | None]
    phone_changed_at: np.ndarray
    street: list[str]
    city: list[int]
    postal_code: list[str]
    previous_street: list[str | None]
    previous_city: list[int]
    previous_postal_code: list[str | None]
    moved_at: np.ndarray
    acquired_at: np.ndarray
    purchase_rate: np.ndarray
    basket_value_eur: np.ndarray
    web_share: np.ndarray
    engagement: np.ndarray
    preferred: np.ndarray
    churn_at: np.ndarray
    has_shop: np.ndarray
    has_email: np.ndarray
    has_loyalty: np.ndarray
    has_crm: np.ndarray
    n_devices: np.ndarray

    @property
    def n(self) -> int:
        return len(self.person_id)

    def active_until(self) -> np.ndarray:
        """End of each person's active life: churn time, else far future."""
        return np.where(self.churn_at == NO_TIME, np.iinfo(np.int64).max, self.churn_at)

    def email_at(self, i: int, t: int) -> str:
        """The personal email the person used at time t."""
        prev = self.previous_email[i]
        return prev if prev is not None and t < self.email_changed_at[i] else self.email[i]

    def phone_at(self, i: int, t: int) -> str:
        prev = self.previous_phone[i]
        return prev if prev is not None and t < self.phone_changed_at[i] else self.phone[i]

    def address_at(self, i: int, t: int) -> tuple[str, City, str]:
        """(street line, city, postcode) where the person lived at time t."""
        country = COUNTRIES[self.country[i]]
        street = self.previous_street[i]
        postcode = self.previous_postal_code[i]
        if street is not None and postcode is not None and t < self.moved_at[i]:
            return street, country.cities[self.previous_city[i]], postcode
        return self.street[i], country.cities[self.city[i]], self.postal_code[i]


def _slug(value: str) -> str:
    return "".join(ch for ch in ascii_fold(value, expand=True).lower() if ch.isalnum())


def canonical_email(email: str) -> str:
    """The mailbox an address delivers to: lower case, gmail dots and +tags removed."""
    local, _, domain = email.strip().lower().partition("@")
    local = local.split("+", 1)[0]
    if domain in ("gmail.com", "googlemail.com"):
        return local.replace(".", "") + "@gmail.com"
    return f"{local}@{domain}"


def _pick_weighted(r: random.Random, options: tuple[tuple[str, float], ...]) -> str:
    total = sum(w for _, w in options)
    x = r.random() * total
    for value, weight in options:
        x -= weight
        if x < 0:
            return value
    return options[-1][0]


def _local_part(first: str, last: str, birth_year: int, r: random.Random) -> str:
    f, surname = _slug(first), _slug(last.split(" ")[0] if " " in last else last)
    surname = surname or _slug(last)
    pick = r.random()
    if pick < 0.34:
        return f"{f}.{surname}"
    if pick < 0.48:
        return f"{f}{surname}"
    if pick < 0.56:
        return f"{f[:1]}.{surname}"
    if pick < 0.62:
        return f"{f}_{surname}"
    if pick < 0.72:
        return f"{f}.{surname}{birth_year % 100:02d}"
    if pick < 0.82:
        return f"{f}{surname}{r.randrange(1, 999)}"
    if pick < 0.87:
        return f"{surname}.{f}"
    if pick < 0.93:
        return f"{f}{surname[:1]}{r.randrange(10, 99)}"
    return f"{f[:1]}{surname}"


def new_email(
    ctx: Context, first: str, last: str, birth_year: int, domain: str, r: random.Random
) -> str:
    """A personal address nobody else has yet, derived from the name."""
    local = _local_part(first, last, birth_year, r)
    for attempt in range(50):
        candidate = local if attempt == 0 else f"{local}{r.randrange(1, 10 ** (2 + attempt // 10))}"
        email = f"{candidate}@{domain}"
        key = canonical_email(email)
        if key not in ctx.taken_emails:
            ctx.taken_emails.add(key)
            return email
    raise RuntimeError("could not find a free email address")


def new_phone(ctx: Context, plan: PhonePlan, dialling_code: str, r: random.Random) -> str:
    """A phone number in E.164 nobody else has yet."""
    while True:
        prefix = r.choice(plan.prefixes)
        digits = "".join(str(r.randrange(10)) for _ in range(plan.length - len(prefix)))
        if digits.startswith("0"):
            digits = str(r.randrange(1, 10)) + digits[1:]
        e164 = f"+{dialling_code}{prefix}{digits}"
        if e164 not in ctx.taken_phones:
            ctx.taken_phones.add(e164)
            return e164


def postcode(country: Country, city: City, r: random.Random) -> str:
    """A postcode of the city's shape (SW1A 2BX, 10115, 00-950, 104 31, ...)."""
    spec = r.choice(city.postcodes)
    if country.code == "GB":
        letters = "ABDEFGHJLNPQRSTUWXYZ"
        return f"{spec} {r.randrange(1, 10)}{r.choice(letters)}{r.choice(letters)}"
    if country.code == "US":
        return f"{spec}{r.randrange(0, 100):02d}"
    lo, hi = spec.split("-")
    value = f"{r.randrange(int(lo), int(hi) + 1):0{len(lo)}d}"
    if country.code == "PL":
        return f"{value[:2]}-{value[2:]}"
    if country.code == "GR":
        return f"{value[:3]} {value[3:]}"
    return value


def street_line(country: Country, r: random.Random) -> str:
    number = str(r.randrange(1, 160))
    if country.code in ("GB", "US") and r.random() < 0.12:
        number = f"Flat {r.randrange(1, 30)}, {number}"
    return country.street_format.format(n=number, street=r.choice(country.streets))


def _surname(country: str, female: bool, r: random.Random) -> str:
    male_form, female_form = r.choice(SURNAMES[country])
    name = female_form if female else male_form
    if country == "ES" and r.random() < DOUBLE_SURNAME_RATE:
        name = f"{name} {r.choice(SURNAMES['ES'])[0]}"
    return name


def _gendered(surname: str, country: str, female: bool) -> str:
    """The form of a household's surname for one member (Kowalski -> Kowalska)."""
    if country not in ("PL", "GR"):
        return surname
    for male_form, female_form in SURNAMES[country]:
        if surname in (male_form, female_form):
            return female_form if female else male_form
    return surname


def _given_name(country: str, female: bool, r: random.Random) -> str:
    names = FEMALE[country] if female else MALE[country]
    # Mildly skewed: the first names of each list are the most common.
    k = min(int(r.paretovariate(1.1)) - 1, len(names) - 1)
    return names[k] if r.random() < 0.5 else r.choice(names)


def _households(rng: np.random.Generator, n: int) -> np.ndarray:
    """Household number (0-based, within the chunk) of each of n people."""
    sizes = rng.choice(HOUSEHOLD_SIZES, size=n, p=HOUSEHOLD_WEIGHTS)
    ends = np.cumsum(sizes)
    count = int(np.searchsorted(ends, n)) + 1
    return np.repeat(np.arange(count), sizes[:count])[:n]


@dataclass
class _Household:
    """What members of one household share."""

    surname: str
    city: int
    street: str
    postcode: str
    moved_at: int
    prev_city: int
    prev_street: str | None
    prev_postcode: str | None
    head: int
    landline: str | None = None


def _new_household(
    ctx: Context, country: Country, female: bool, head: int, r: random.Random
) -> _Household:
    tl = ctx.timeline
    city_idx = r.randrange(len(country.cities))
    moves = r.random() < MOVE_RATE
    prev_city = r.randrange(len(country.cities)) if moves else -1
    return _Household(
        surname=_surname(country.code, female, r),
        city=city_idx,
        street=street_line(country, r),
        postcode=postcode(country, country.cities[city_idx], r),
        moved_at=tl.start_s + r.randrange(tl.end_s - tl.start_s) if moves else NO_TIME,
        prev_city=prev_city,
        prev_street=street_line(country, r) if moves else None,
        prev_postcode=postcode(country, country.cities[prev_city], r) if moves else None,
        head=head,
    )


@dataclass
class _Columns:
    """Per-person values collected while building a chunk."""

    first_name: list[str] = field(default_factory=list)
    last_name: list[str] = field(default_factory=list)
    birth_date: list[date] = field(default_factory=list)
    email: list[str] = field(default_factory=list)
    previous_email: list[str | None] = field(default_factory=list)
    work_email: list[str | None] = field(default_factory=list)
    phone: list[str] = field(default_factory=list)
    previous_phone: list[str | None] = field(default_factory=list)
    household: list[_Household] = field(default_factory=list)


def build_population(ctx: Context, chunk: int, first_index: int, n: int) -> Population:
    """n people, numbered from first_index, with everything the systems need to know about them."""
    rng = np_rng(ctx.seed, chunk, "people")
    r = py_rng(ctx.seed, chunk, "people")
    tl = ctx.timeline
    household = _households(rng, n)
    n_households = int(household.max()) + 1
    hh_base = ctx.next_household
    ctx.next_household += n_households

    weights = np.array([COUNTRIES[c].weight for c in COUNTRY_CODES])
    hh_country = rng.choice(len(COUNTRY_CODES), size=n_households, p=weights / weights.sum())
    country_codes = [COUNTRY_CODES[int(hh_country[h])] for h in household.tolist()]
    starts = np.flatnonzero(np.r_[True, household[1:] != household[:-1]])
    position = np.arange(n) - starts[household]
    female = rng.random(n) < 0.52
    # Second members are usually the head's partner of the other sex.
    partner = position == 1
    female[partner] = ~female[starts[household[partner]]] ^ (rng.random(partner.sum()) < 0.06)

    head_age = rng.triangular(21, 40, 84, size=n_households)
    age = head_age[household] + rng.normal(0, 3, n)
    child = position >= 2
    age[child] = np.where(
        head_age[household[child]] >= 44,
        rng.uniform(18, 28, child.sum()),
        head_age[household[child]] + rng.normal(0, 4, child.sum()),
    )
    age = np.clip(age, 18, 92)
    birth_offsets = (age * 365.25).astype(np.int64)

    cols = _Columns()
    email_changed_at = np.full(n, NO_TIME, dtype=np.int64)
    phone_changed_at = np.full(n, NO_TIME, dtype=np.int64)
    shares_email = np.zeros(n, dtype=bool)
    window = tl.end_s - tl.start_s
    for i in range(n):
        code = country_codes[i]
        country = COUNTRIES[code]
        fem = bool(female[i])
        if position[i] == 0:
            home = _new_household(ctx, country, fem, i, r)
            last = home.surname
        elif (position[i] == 1 and r.random() < SHARED_SURNAME_RATE) or position[i] >= 2:
            last = _gendered(home.surname, code, fem)
        else:
            last = _surname(code, fem, r)
        first = _given_name(code, fem, r)
        birth = tl.end_date - timedelta(days=int(birth_offsets[i]))

        if position[i] == 1 and r.random() < SHARED_EMAIL_RATE:
            email = cols.email[home.head]
            shares_email[i] = shares_email[home.head] = True
        else:
            email = new_email(ctx, first, last, birth.year, _pick_weighted(r, country.providers), r)
        previous_email = None
        if r.random() < EMAIL_CHANGE_RATE and not shares_email[i]:
            domain = _pick_weighted(r, country.providers)
            previous_email = new_email(ctx, first, last, birth.year, domain, r)
            email_changed_at[i] = tl.start_s + r.randrange(window)
        work_email = None
        if age[i] < 66 and r.random() < WORK_EMAIL_RATE:
            domain = r.choice(country.work_domains)
            work_email = new_email(ctx, first, last, birth.year, domain, r)

        if r.random() < NO_MOBILE_RATE:
            if home.landline is None:
                home.landline = new_phone(ctx, country.landline, country.dialling_code, r)
            phone = home.landline
        else:
            phone = new_phone(ctx, country.mobile, country.dialling_code, r)
        previous_phone = None
        if r.random() < PHONE_CHANGE_RATE:
            previous_phone = new_phone(ctx, country.mobile, country.dialling_code, r)
            phone_changed_at[i] = tl.start_s + r.randrange(window)

        cols.first_name.append(first)
        cols.last_name.append(last)
        cols.birth_date.append(birth)
        cols.email.append(email)
        cols.previous_email.append(previous_email)
        cols.work_email.append(work_email)
        cols.phone.append(phone)
        cols.previous_phone.append(previous_phone)
        cols.household.append(home)

    homes = cols.household
    return Population(
        first_index=first_index,
        person_id=[f"P{first_index + i + 1:08d}" for i in range(n)],
        household_id=[f"H{hh_base + h + 1:08d}" for h in household.tolist()],
        country=country_codes,
        female=female,
        first_name=cols.first_name,
        last_name=cols.last_name,
        birth_date=cols.birth_date,
        email=cols.email,
        previous_email=cols.previous_email,
        email_changed_at=email_changed_at,
        work_email=cols.work_email,
        shares_email=shares_email,
        phone=cols.phone,
        previous_phone=cols.previous_phone,
        phone_changed_at=phone_changed_at,
        street=[h.street for h in homes],
        city=[h.city for h in homes],
        postal_code=[h.postcode for h in homes],
        previous_street=[h.prev_street for h in homes],
        previous_city=[h.prev_city for h in homes],
        previous_postal_code=[h.prev_postcode for h in homes],
        moved_at=np.array([h.moved_at for h in homes], dtype=np.int64),
        **_traits(ctx, rng, n),
    )


def _traits(ctx: Context, rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
    """Latent behaviour and which systems each person uses.

    Engaged people buy more often and join the email list more; web-leaning
    people shop online and keep a web account, store-leaning people hold a
    loyalty card; disengaged people churn more.
    """
    tl = ctx.timeline
    engagement = rng.beta(2.0, 4.5, n)
    web_share = rng.beta(2.0, 1.6, n)
    purchase_rate = np.clip(rng.lognormal(np.log(2.2), 0.75, n) * (0.55 + engagement), 0.15, 40)
    basket_value = np.clip(rng.lognormal(np.log(55), 0.5, n), 8, 800)
    n_cat = len(ctx.catalog.category_names)
    first_pref = rng.choice(n_cat, size=n, p=ctx.catalog.category_weights)
    second_pref = (first_pref + rng.integers(1, n_cat, n)) % n_cat
    preferred = np.stack([first_pref, second_pref], axis=1)

    existing = rng.random(n) < EXISTING_CUSTOMER_SHARE
    before = tl.start_s - rng.integers(1, 4 * 365, n) * DAY + rng.integers(0, DAY, n)
    lo = np.full(n, tl.start_s)
    during = tl.sample(rng, lo, np.full(n, tl.end_s - 7 * DAY), "web")
    acquired_at = np.where(existing, before, during)

    churn_p = CHURN_BASE + CHURN_DISENGAGED * (1 - engagement)
    churn_lo = np.maximum(acquired_at, tl.start_s) + 60 * DAY
    can_churn = churn_lo < tl.end_s - DAY
    churns = (rng.random(n) < churn_p) & can_churn
    churn_at = np.where(
        churns, churn_lo + (rng.random(n) * (tl.end_s - churn_lo)).astype(np.int64), NO_TIME
    )

    has_shop = rng.random(n) < 0.28 + 0.6 * web_share
    has_loyalty = rng.random(n) < 0.08 + 0.6 * (1 - web_share)
    has_email = rng.random(n) < 0.22 + 0.75 * engagement
    high_value = purchase_rate * basket_value > np.quantile(purchase_rate * basket_value, 0.7)
    has_crm = rng.random(n) < 0.1 + 0.2 * high_value
    nothing = ~(has_shop | has_loyalty | has_email | has_crm)
    has_email |= nothing & (rng.random(n) < 0.5)
    has_shop |= nothing & ~has_email
    web_visitor = has_shop | (web_share > 0.5) | (rng.random(n) < 0.3)
    n_devices = np.where(web_visitor, 1 + (rng.random(n) < 0.4) + (rng.random(n) < 0.12), 0).astype(
        np.int64
    )
    return {
        "acquired_at": acquired_at.astype(np.int64),
        "purchase_rate": purchase_rate,
        "basket_value_eur": basket_value,
        "web_share": web_share,
        "engagement": engagement,
        "preferred": preferred,
        "churn_at": churn_at.astype(np.int64),
        "has_shop": has_shop,
        "has_email": has_email,
        "has_loyalty": has_loyalty,
        "has_crm": has_crm,
        "n_devices": n_devices,
    }
