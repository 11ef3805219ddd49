"""The privacy gate: consent and suppression, applied to every row before the diff.

Declared once per sync definitions file, under `privacy:`:

    privacy:
      consent:
        relation: marts.customer_consent_eligibility
        customer_key: customer_id
        purposes:
          email_marketing: {column: is_email_marketing_eligible, unknown: deny}
          ads_personalisation: {column: is_ads_personalisation_eligible}
      suppression:
        relation: marts.customer_suppressions
        customer_key: customer_id

A sync with `consent_purpose: P` sends a row only when the consent relation
holds `true` in P's column for the row's customer (the sync's `customer_key`
column, default its primary key). No row or a NULL there is *unknown*, which
counts as no unless the purpose says `unknown: allow`. Every customer in the
suppression relation is withheld from every sync. A withheld row is treated as
absent from the model: never sent, and removed from the destination through the
normal remove path if it was sent before (consent revoked, newly suppressed).
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from reverse_etl.engine.dialect import json_string_array
from reverse_etl.engine.sql import literal, quote

Relation = str  # schema.table, validated by pattern where used
RELATION_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]*\.[A-Za-z_][A-Za-z0-9_]*$"
COLUMN_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]*$"


class UnknownConsent(StrEnum):
    DENY = "deny"
    ALLOW = "allow"


class ConsentPurpose(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    column: str = Field(pattern=COLUMN_PATTERN, description="Boolean column: consent given.")
    unknown: UnknownConsent = Field(
        UnknownConsent.DENY,
        description="What no row or NULL means: deny (default) or allow.",
    )


class ConsentSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    relation: str = Field("marts.customer_consent_eligibility", pattern=RELATION_PATTERN)
    customer_key: str = Field("customer_id", pattern=COLUMN_PATTERN)
    purposes: dict[str, ConsentPurpose] = Field(
        default_factory=lambda: {
            "email_marketing": ConsentPurpose.model_validate(
                {"column": "is_email_marketing_eligible"}
            ),
            "ads_personalisation": ConsentPurpose.model_validate(
                {"column": "is_ads_personalisation_eligible"}
            ),
        }
    )


class SuppressionSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    relation: str = Field(pattern=RELATION_PATTERN)
    customer_key: str = Field("customer_id", pattern=COLUMN_PATTERN)
    reason_column: str | None = Field(
        None, pattern=COLUMN_PATTERN, description="Column shown as the reason in plans."
    )


class PrivacySettings(BaseModel):
    """The `privacy:` block of a sync definitions file (applies to every sync in it)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    consent: ConsentSettings = Field(default_factory=lambda: ConsentSettings.model_validate({}))
    suppression: SuppressionSettings | None = None


def missing_relations(
    privacy: PrivacySettings, consent_purpose: str | None, existing: set[str]
) -> list[str]:
    """Problems for gate relations the sync needs that are not in `existing`
    (lower-cased schema.table names)."""
    needed = []
    if privacy.suppression is not None:
        needed.append(("privacy.suppression.relation", privacy.suppression.relation))
    if consent_purpose is not None:
        needed.append(("privacy.consent.relation", privacy.consent.relation))
    return [
        f"{where}: {relation} does not exist in the warehouse (build it first)"
        for where, relation in needed
        if relation.lower() not in existing
    ]


def _relation(name: str) -> str:
    schema, table = name.split(".", 1)
    return f"{quote(schema)}.{quote(table)}"


def gate_sql(
    privacy: PrivacySettings, consent_purpose: str | None, customer_expr: str
) -> tuple[list[str], str]:
    """(joins, reason expression) that withhold rows; reason is NULL for rows that pass.

    `customer_expr` is the source's customer key (a column of alias `src`).
    """
    joins: list[str] = []
    reasons: list[str] = []
    if privacy.suppression is not None:
        s = privacy.suppression
        key = quote(s.customer_key)
        joins.append(
            f"left join (select distinct cast({key} as varchar) as customer_key "
            f"from {_relation(s.relation)} where {key} is not null) retl_suppressed "
            f"on retl_suppressed.customer_key = cast({customer_expr} as varchar)"
        )
        reasons.append("case when retl_suppressed.customer_key is not null then 'suppressed' end")
    if consent_purpose is not None:
        c = privacy.consent
        purpose = c.purposes[consent_purpose]
        key = quote(c.customer_key)
        joins.append(
            f"left join (select cast({key} as varchar) as customer_key, "
            f"bool_and({quote(purpose.column)}) as granted, "
            f"count({quote(purpose.column)}) as known "
            f"from {_relation(c.relation)} group by 1) retl_consent "
            f"on retl_consent.customer_key = cast({customer_expr} as varchar)"
        )
        allow_unknown = "true" if purpose.unknown is UnknownConsent.ALLOW else "false"
        no = literal(f"no {consent_purpose} consent")
        unknown = literal(f"unknown {consent_purpose} consent")
        reasons.append(
            "case when coalesce(retl_consent.known, 0) = 0 then "
            f"case when {allow_unknown} then null else {unknown} end "
            f"when not retl_consent.granted then {no} end"
        )
    expr = f"coalesce({', '.join(reasons)})" if reasons else "cast(null as varchar)"
    return joins, expr


ERASURE_LOG = "privacy.erasure_log"
"""Where `cdp privacy erase` records erasures: `customer_hashes` (a JSON list of the
SHA-256 of each erased customer id) is what the diff reads."""


def erased_keys_sql(existing: set[str], dialect: str = "duckdb") -> str:
    """SELECT key_hash: the SHA-256 of every erased customer id (none without a log).

    A sync key whose hash is listed and that left the model is an *erasure*, sent
    as Phase.ERASE whatever the mode (docs/privacy.md, "Destinations"). Keys are
    compared by hash, so the log never needs a customer id in clear."""
    if ERASURE_LOG not in existing:
        return "select cast(null as varchar) as key_hash where false"
    return (
        f"select distinct {json_string_array(dialect, 'customer_hashes')}"
        f" as key_hash from {_relation(ERASURE_LOG)} where customer_hashes is not null"
    )
