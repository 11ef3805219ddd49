"""The CRM: contacts typed in by sales and service staff, with versions.

Staff write countries and birth dates however they like, often use the work
email, type placeholders when a customer won't give an address, sometimes
record the loyalty card or link the shop account, and now and then create the
same contact twice.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import numpy as np

from cdp_demo.sample_data import messiness as mess
from cdp_demo.sample_data.context import Context
from cdp_demo.sample_data.ids import base62
from cdp_demo.sample_data.locales import COUNTRIES
from cdp_demo.sample_data.people import Population
from cdp_demo.sample_data.records import TruthSink, VersionSink
from cdp_demo.sample_data.systems.pos import LoyaltyCards
from cdp_demo.sample_data.systems.shop import ShopAccounts
from cdp_demo.sample_data.tables import CRM_CONTACTS
from cdp_demo.sample_data.timeline import DAY, HOUR
from cdp_demo.sample_data.writers import Batch

DUPLICATE_CONTACT_RATE = 0.04
SALUTATION_MISSING_RATE = 0.2
NAME_TYPO_RATE, NAME_CASE_RATE, NAME_SPACE_RATE, NICKNAME_RATE = 0.03, 0.03, 0.03, 0.05
LAST_NAME_CAPS_RATE, GREEK_LATIN_RATE, FIRST_SURNAME_ONLY_RATE = 0.04, 0.3, 0.4
WORK_EMAIL_RATE, EMAIL_PLACEHOLDER_RATE, EMAIL_MISSING_RATE = 0.5, 0.05, 0.1
WORK_PHONE_RATE, MOBILE_RATE, BIRTHDATE_RATE = 0.3, 0.6, 0.5
LOYALTY_RECORDED_RATE, SHOP_LINKED_RATE = 0.3, 0.4
UPDATE_EMAIL_RATE, UPDATE_PHONE_RATE, UPDATE_ADDRESS_RATE, EDIT_RATE = 0.4, 0.4, 0.5, 0.1
LATE_TOUCH_RATE = 0.05
LEAD_SOURCES = (
    "Web",
    "Store",
    "Event",
    "Referral",
    "Phone Inquiry",
    "Trade Show",
    "Partner",
    "Other",
)
PHONE_STYLES = (
    ("national", 0.35),
    ("intl", 0.25),
    ("e164", 0.1),
    ("intl00", 0.08),
    ("intl_trunk", 0.08),
    ("dashed", 0.06),
    ("dotted", 0.04),
    ("slashed", 0.04),
)


@dataclass
class CrmContacts:
    """Per contact record: id, person, when created, phone and email as typed."""

    contact_id: list[str]
    person: list[int]
    created_at: list[int]
    email: list[str | None]
    phone: list[str | None]


def _contact_ids(values: np.ndarray) -> list[str]:
    """18-character record ids in the style of a well-known CRM (003 prefix = contact)."""
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
    out = []
    for body in base62(values, 7):
        check = alphabet[sum(ord(ch) * (k + 1) for k, ch in enumerate(body)) % len(alphabet)]
        out.append(f"0035g00000{body}{check}")
    return out


def _staff_name(value: str, r: random.Random) -> str:
    value = mess.latin(value, r, GREEK_LATIN_RATE)
    return str(
        mess.messy_text(
            value, r, typo_rate=NAME_TYPO_RATE, case_rate=NAME_CASE_RATE, space_rate=NAME_SPACE_RATE
        )
    )


def _staff_email(pop: Population, i: int, t: int, r: random.Random) -> str | None:
    pick = r.random()
    if pick < EMAIL_MISSING_RATE:
        return None
    if pick < EMAIL_MISSING_RATE + EMAIL_PLACEHOLDER_RATE:
        return mess.placeholder_email(r)
    work = pop.work_email[i]
    email = work if work and r.random() < WORK_EMAIL_RATE else pop.email_at(i, t)
    return mess.email_as_typed(email, r, case_rate=0.08, space_rate=0.03, broken_rate=0.01)


def _text(value: object) -> str | None:
    return None if value is None else str(value)


def _loyalty_as_typed(number: str, r: random.Random) -> str:
    if r.random() < 0.2:
        return " ".join(number[k : k + 4] for k in range(0, len(number), 4))
    return number


def build_contacts(
    ctx: Context,
    pop: Population,
    shop: ShopAccounts,
    cards: LoyaltyCards,
    rng: np.random.Generator,
    r: random.Random,
    truth: TruthSink,
) -> tuple[CrmContacts, Batch]:
    """CRM contacts of the chunk (with duplicates) and the export rows of their versions."""
    tl = ctx.timeline
    people = np.flatnonzero(pop.has_crm)
    twice = rng.random(len(people)) < DUPLICATE_CONTACT_RATE
    plan: list[tuple[int, int, bool]] = []
    for k, i in enumerate(people.tolist()):
        base = int(pop.acquired_at[i])
        created = base + r.randrange(0, 365 * DAY)
        created = min(created, tl.end_s - HOUR)
        plan.append((i, created, False))
        if twice[k]:
            again = created + r.randrange(DAY, max(2 * DAY, tl.end_s - created))
            if again < tl.end_s:
                plan.append((i, again, True))
    ids = _contact_ids(ctx.ids["contact"].take(len(plan)))
    out = CrmContacts([], [], [], [], [])
    sink = VersionSink(CRM_CONTACTS)
    for k, (i, created, duplicate) in enumerate(plan):
        cid = ids[k]
        truth.add("crm_contacts", cid, pop.person_id[i])
        row = _first_version(pop, i, cid, created, duplicate, shop, cards, r)
        out.contact_id.append(cid)
        out.person.append(i)
        out.created_at.append(created)
        out.email.append(_text(row["email"]))
        out.phone.append(_text(row["mobile_phone"]) or _text(row["phone"]))
        sink.add(k, created, row)
        _later_versions(ctx, pop, i, k, created, row, r, sink)
    return out, sink.to_batch(tl)


def _first_version(
    pop: Population,
    i: int,
    cid: str,
    created: int,
    duplicate: bool,
    shop: ShopAccounts,
    cards: LoyaltyCards,
    r: random.Random,
) -> dict[str, object]:
    code = pop.country[i]
    country = COUNTRIES[code]
    female = bool(pop.female[i])
    first = mess.first_name_variant(pop.first_name[i], r, 0.5 if duplicate else NICKNAME_RATE)
    last = pop.last_name[i]
    if code == "ES" and r.random() < FIRST_SURNAME_ONLY_RATE:
        last = mess.first_surname(last)
    last = _staff_name(last, r)
    if r.random() < LAST_NAME_CAPS_RATE:
        last = last.upper()
    salutations = country.salutations_female if female else country.salutations_male
    street, city, postcode = pop.address_at(i, created)
    email = _staff_email(pop, i, created, r)
    if duplicate and r.random() < 0.4:
        email = None
    work_phone = None
    if r.random() < WORK_PHONE_RATE:
        work_phone = mess.phone_as_typed(
            pop.phone_at(i, created), code, r, PHONE_STYLES, extension_rate=0.25
        )
    mobile = None
    if r.random() < MOBILE_RATE:
        mobile = mess.phone_as_typed(pop.phone_at(i, created), code, r, PHONE_STYLES)
    loyalty = cards.number[i]
    shop_id = int(shop.customer_id[i])
    return {
        "contact_id": cid,
        "salutation": None if r.random() < SALUTATION_MISSING_RATE else r.choice(salutations),
        "first_name": _staff_name(first, r),
        "last_name": last,
        "email": email,
        "phone": work_phone,
        "mobile_phone": mobile,
        "birthdate": (
            mess.birthdate_as_typed(pop.birth_date[i], code, r)
            if r.random() < BIRTHDATE_RATE
            else None
        ),
        "mailing_street": mess.street_as_typed(street, code, r, 0.35),
        "mailing_city": mess.city_as_typed(city.name, city.aliases, r, 0.3),
        "mailing_postal_code": mess.postcode_as_typed(postcode, code, r, 0.2),
        "mailing_country": mess.country_as_typed(code, r),
        "loyalty_number": (
            _loyalty_as_typed(loyalty, r)
            if loyalty is not None and r.random() < LOYALTY_RECORDED_RATE
            else None
        ),
        "shop_customer_id": (
            shop_id
            if shop_id >= 0
            and shop.created_at[i] <= created
            and r.random() < SHOP_LINKED_RATE
            and not duplicate
            else None
        ),
        "lead_source": r.choice(LEAD_SOURCES) if r.random() < 0.8 else None,
        "created_at": created,
        "last_modified_at": created,
    }


def _later_versions(
    ctx: Context,
    pop: Population,
    i: int,
    record: int,
    created: int,
    row: dict[str, object],
    r: random.Random,
    sink: VersionSink,
) -> None:
    tl = ctx.timeline
    code = pop.country[i]
    changes: list[tuple[int, str]] = []
    if created < pop.email_changed_at[i] <= tl.end_s and r.random() < UPDATE_EMAIL_RATE:
        changes.append((int(pop.email_changed_at[i]) + r.randrange(0, 120 * DAY), "email"))
    if created < pop.phone_changed_at[i] <= tl.end_s and r.random() < UPDATE_PHONE_RATE:
        changes.append((int(pop.phone_changed_at[i]) + r.randrange(0, 120 * DAY), "phone"))
    if created < pop.moved_at[i] <= tl.end_s and r.random() < UPDATE_ADDRESS_RATE:
        changes.append((int(pop.moved_at[i]) + r.randrange(0, 120 * DAY), "address"))
    if r.random() < EDIT_RATE:
        changes.append((created + r.randrange(HOUR, max(2 * HOUR, tl.end_s - created)), "edit"))
    if r.random() < LATE_TOUCH_RATE:
        changes.append((max(created + HOUR, tl.end_s - r.randrange(1, 60) * DAY), "edit"))
    for at, kind in sorted(changes):
        if at > tl.end_s:
            continue
        row = dict(row)
        if kind == "email":
            row["email"] = pop.email_at(i, at)
        elif kind == "phone":
            row["mobile_phone"] = mess.phone_as_typed(pop.phone_at(i, at), code, r, PHONE_STYLES)
        elif kind == "address":
            street, city, postcode = pop.address_at(i, at)
            row["mailing_street"] = street
            row["mailing_city"] = city.name
            row["mailing_postal_code"] = postcode
        elif row["lead_source"] is None:
            row["lead_source"] = r.choice(LEAD_SOURCES)
        elif row["birthdate"] is None:
            row["birthdate"] = mess.birthdate_as_typed(pop.birth_date[i], code, r)
        else:
            row["first_name"] = mess.latin(pop.first_name[i], r, GREEK_LATIN_RATE)
        row["last_modified_at"] = at
        sink.add(record, at, row)
