"""The consent platform: grants and revocations gathered from every other system.

Grants come from shop sign-up checkboxes, newsletter forms (double opt-in with
a confirmation time where required), in-store loyalty forms, CRM calls and
the web cookie banner. Email unsubscribes are revoked at the moment of the
unsubscribe event; a few people later withdraw other permissions in the
preference centre.
"""

from __future__ import annotations

import random

import numpy as np

from cdp_demo.sample_data.context import Context
from cdp_demo.sample_data.ids import hex_ids
from cdp_demo.sample_data.locales import PLACEHOLDER_EMAILS, PLACEHOLDER_PHONES
from cdp_demo.sample_data.people import Population
from cdp_demo.sample_data.records import EventSink, TruthSink
from cdp_demo.sample_data.systems.crm import CrmContacts
from cdp_demo.sample_data.systems.email import Subscriptions
from cdp_demo.sample_data.systems.pos import LoyaltyCards
from cdp_demo.sample_data.systems.shop import ShopAccounts
from cdp_demo.sample_data.systems.web import Devices
from cdp_demo.sample_data.tables import CONSENT_EVENTS
from cdp_demo.sample_data.timeline import DAY, NO_TIME
from cdp_demo.sample_data.writers import Batch

SHOP_PROFILING_RATE, PREFERENCE_REVOKE_RATE = 0.4, 0.05
STORE_EMAIL_RATE, STORE_SMS_RATE, SMS_STOP_RATE = 0.5, 0.35, 0.1
CRM_PHONE_RATE, CRM_PHONE_REVOKED_RATE = 0.3, 0.2
BANNER_ANSWER_RATE, ANALYTICS_GRANT_RATE, ADS_GRANT_RATE = 0.6, 0.7, 0.45


def _usable(value: str | None, placeholders: tuple[str, ...]) -> str | None:
    return None if value is None or value in placeholders else value


def build_consent(
    ctx: Context,
    pop: Population,
    shop: ShopAccounts,
    subs: Subscriptions,
    cards: LoyaltyCards,
    crm: CrmContacts,
    devices: Devices,
    rng: np.random.Generator,
    r: random.Random,
    truth: TruthSink,
) -> Batch:
    """Consent events of the chunk, from every collecting system."""
    tl = ctx.timeline
    sink = EventSink(CONSENT_EVENTS)
    persons: list[int] = []

    def add(person: int, at: int, **values: object) -> None:
        if at > tl.end_s:
            return
        sink.add(at, {"occurred_at": at, **values})
        persons.append(person)

    for i in np.flatnonzero(shop.customer_id >= 0).tolist():
        created = int(shop.created_at[i])
        base = {
            "subject_email": shop.login_email[i],
            "source_system": "shop",
            "source_record_id": str(int(shop.customer_id[i])),
            "method": "checkbox",
        }
        if shop.accepts_marketing[i]:
            add(i, created, channel="email", purpose="marketing", status="granted", **base)
        if r.random() < SHOP_PROFILING_RATE:
            add(i, created, channel="web", purpose="profiling", status="granted", **base)
            if r.random() < PREFERENCE_REVOKE_RATE:
                later = created + r.randrange(DAY, max(2 * DAY, tl.end_s - created))
                revoke = dict(base, method="preference_centre")
                add(i, later, channel="web", purpose="profiling", status="revoked", **revoke)

    for k, sid in enumerate(subs.subscriber_id):
        i = subs.person[k]
        if subs.via_shop[k]:
            continue  # the shop's sign-up checkbox already recorded it
        doi = subs.double_opt_in[k]
        confirmed = subs.confirmed_at[k]
        base = {"subject_email": subs.email[k], "source_system": "email", "source_record_id": sid}
        add(
            i,
            subs.opted_in_at[k],
            channel="email",
            purpose="marketing",
            status="granted",
            method="double_opt_in" if doi else "checkbox",
            confirmed_at=confirmed if doi and confirmed != NO_TIME else None,
            **base,
        )
    for k, sid in enumerate(subs.subscriber_id):
        if subs.unsubscribed_at[k] != NO_TIME:
            add(
                subs.person[k],
                subs.unsubscribed_at[k],
                subject_email=subs.email[k],
                source_system="email",
                source_record_id=sid,
                channel="email",
                purpose="marketing",
                status="revoked",
                method="unsubscribe_link",
            )

    for i, number in enumerate(cards.number):
        if number is None:
            continue
        enrolled = int(cards.enrolled_at[i])
        email = _usable(cards.email[i], PLACEHOLDER_EMAILS)
        phone = _usable(cards.phone[i], PLACEHOLDER_PHONES)
        base = {"source_system": "pos", "source_record_id": number, "method": "in_store_form"}
        if email and r.random() < STORE_EMAIL_RATE:
            add(
                i,
                enrolled,
                subject_email=email,
                channel="email",
                purpose="marketing",
                status="granted",
                **base,
            )
        if phone and r.random() < STORE_SMS_RATE:
            add(
                i,
                enrolled,
                subject_phone=phone,
                channel="sms",
                purpose="marketing",
                status="granted",
                **base,
            )
            if r.random() < SMS_STOP_RATE:
                later = enrolled + r.randrange(DAY, max(2 * DAY, tl.end_s - enrolled))
                stop = dict(base, method="preference_centre")
                add(
                    i,
                    later,
                    subject_phone=phone,
                    channel="sms",
                    purpose="marketing",
                    status="revoked",
                    **stop,
                )

    for k, cid in enumerate(crm.contact_id):
        phone = crm.phone[k]
        if phone is None or r.random() >= CRM_PHONE_RATE:
            continue
        status = "revoked" if r.random() < CRM_PHONE_REVOKED_RATE else "granted"
        at = crm.created_at[k] + r.randrange(0, 30 * DAY)
        add(
            crm.person[k],
            at,
            subject_email=_usable(crm.email[k], PLACEHOLDER_EMAILS),
            subject_phone=phone,
            source_system="crm",
            source_record_id=cid,
            channel="phone",
            purpose="marketing",
            status=status,
            method="preference_centre",
        )

    for d, anon in enumerate(devices.anonymous_id):
        first = int(devices.first_seen[d])
        if first == NO_TIME or r.random() >= BANNER_ANSWER_RATE:
            continue
        p = int(devices.person[d])
        base = {"source_system": "web", "source_record_id": anon, "method": "checkbox"}
        analytics = "granted" if r.random() < ANALYTICS_GRANT_RATE else "revoked"
        ads = "granted" if r.random() < ADS_GRANT_RATE else "revoked"
        add(p, first, channel="web", purpose="analytics", status=analytics, **base)
        add(p, first + 1, channel="ads", purpose="ads_personalisation", status=ads, **base)

    ids = hex_ids(rng, len(persons))
    sink.rows["consent_event_id"] = ids
    for event_id, p in zip(ids, persons, strict=True):
        truth.add("consent_events", event_id, pop.person_id[p])
    return sink.to_batch(tl)
