"""The diff, computed inside the state database (DuckDB or PostgreSQL) so it scales
to millions of keys; the expressions the two spell differently come from dialect.py.

1. Project the source relation onto the sync's fields: normalise emails and
   phones, validate them, hash the hashed identifiers, build the payload with
   `json_object` and its content hash with md5.
2. Full-outer-join that projection with `reverse_etl.sync_state` for the sync:
   add (key not acknowledged, or marked for full resync), change (hash differs),
   remove (acknowledged key no longer in the source), erase (a removed key of an
   erased person: `reverse_etl.privacy.erased_keys_sql`; matched by the key, or,
   when the key is not the customer id, by the `customer_field` sent with it, so a
   trigger's event ids of an erased person are erased too).
3. Apply the mode (see README "Modes"): which kinds are sent, forgotten or ignored
   (erasures are sent in every mode);
   an identity change (a new email for a key) becomes remove(old) + add(new)
   when the mode sends removes.
4. Set aside rows that fail validation and rows whose exact content was
   terminally rejected before.

Results land in temp tables `retl_send` (phase, seq, key, payload, ...),
`retl_invalid` (key, content_hash, reason) and `retl_forget` (key).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from reverse_etl.batch import Mode, Phase, Row
from reverse_etl.config import FieldMapping, FieldType, SyncDefinition
from reverse_etl.engine import dialect as d
from reverse_etl.engine.db import StatementError, SyncDatabase
from reverse_etl.engine.schema import SCHEMA
from reverse_etl.engine.sql import literal, quote
from reverse_etl.errors import SourceError
from reverse_etl.privacy import erased_keys_sql, gate_sql, missing_relations

# RFC 5322 "dot-atom" local part, LDH domain labels, alphabetic TLD; applied to
# the trimmed, lower-cased address. Deliberately strict: a rejected row is reported,
# a bad address sent to a destination is not.
EMAIL_PATTERN = (
    r"^[a-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$"
)
# E.164 after removing spaces, dots, dashes and brackets: + then 8 to 15 digits.
PHONE_PATTERN = r"^\+[1-9][0-9]{7,14}$"

SEND_KINDS: dict[Mode, frozenset[str]] = {
    Mode.AUDIENCE: frozenset({"add", "change", "remove"}),
    Mode.MIRROR: frozenset({"add", "change", "remove"}),
    Mode.UPSERT: frozenset({"add", "change"}),
    Mode.UPDATE_ONLY: frozenset({"add", "change"}),
    Mode.INSERT_ONLY: frozenset({"add"}),
}
"""Kinds of difference each mode sends. Removes not sent are forgotten (state row
deleted) except in insert-only, which keeps them so a key is never inserted twice."""


def _field_sql(
    name: str,
    mapping: FieldMapping,
    hashed: bool,
    phone_without_plus: bool = False,
    dialect: str = "duckdb",
) -> tuple[str, list[str]]:
    """(value expression, [problem expressions yielding a reason or NULL]).

    `phone_without_plus`: hash a phone as its E.164 digits without '+' (Meta)."""
    col = f"src.{quote(mapping.source)}"
    problems: list[str] = []
    if mapping.type is FieldType.EMAIL:
        value = f"nullif(lower(trim(cast({col} as varchar))), '')"
        problems.append(
            f"case when {value} is not null and (length({value}) > 254 or not "
            f"{d.regexp_full_match(dialect, value, EMAIL_PATTERN)}) then "
            f"{literal(f'invalid email address in {name}')} end"
        )
    elif mapping.type is FieldType.PHONE:
        stripped = f"regexp_replace(trim(cast({col} as varchar)), '[\\s().-]', '', 'g')"
        international = (
            f"case when {stripped} like '00%' then '+' || {d.substring_from(dialect, stripped, 3)} "
            f"else {stripped} end"
        )
        value = f"nullif({international}, '')"
        problems.append(
            f"case when {value} is not null and not "
            f"{d.regexp_full_match(dialect, value, PHONE_PATTERN)} then "
            f"{literal(f'invalid phone number in {name} (expected E.164, e.g. +4915112345678)')}"
            " end"
        )
    else:
        value = col
    if mapping.required:
        problems.insert(
            0,
            f"case when {value} is null or trim(cast({value} as varchar)) = '' then "
            f"{literal(f'missing {name}')} end",
        )
    if hashed:
        if phone_without_plus and mapping.type is FieldType.PHONE:
            value = f"ltrim({value}, '+')"
        value = d.sha256_hex(dialect, value)
    return value, problems


def source_sql(sync: SyncDefinition, dialect: str = "duckdb") -> str:
    """SELECT key, payload, content_hash, invalid_reason, identity FROM the source."""
    identity = sync.identity_field
    values: list[str] = []
    problems: list[str] = []
    identity_expr = "cast(null as varchar)"
    # Sorted, so the payload (and its hash) does not depend on the YAML's key order.
    for name, mapping in sorted(sync.fields.items()):
        value, field_problems = _field_sql(
            name,
            mapping,
            name in sync.hashed_identifiers,
            sync.destination.phone_hash_without_plus,
            dialect,
        )
        values.append(f"{literal(name)}, {value}")
        problems.extend(field_problems)
        if name == identity:
            identity_expr = value
            problems.insert(0, f"case when {value} is null then {literal(f'missing {name}')} end")
    invalid = f"coalesce({', '.join(problems)})" if problems else "cast(null as varchar)"
    relation = f"{quote(sync.source_schema)}.{quote(sync.source_table)}"
    joins, withheld = gate_sql(
        sync.privacy, sync.consent_purpose, f"src.{quote(sync.customer_column)}"
    )
    return f"""
        select
            cast(src.{quote(sync.primary_key)} as varchar) as key,
            {d.json_object(dialect, values)} as payload,
            {invalid} as invalid_reason,
            {identity_expr} as identity,
            {withheld} as withheld_reason
        from {relation} src
        {" ".join(joins)}
        where src.{quote(sync.primary_key)} is not null
    """


@dataclass(frozen=True)
class DiffCounts:
    """What a run would do. `skipped`: rows whose content was terminally rejected before."""

    adds: int = 0
    changes: int = 0
    removes: int = 0
    erasures: int = 0
    forgets: int = 0
    ignored: int = 0
    invalid: int = 0
    skipped: int = 0
    withheld: int = 0
    withheld_reasons: tuple[tuple[str, int], ...] = ()
    source_rows: int = 0
    null_keys: int = 0

    @property
    def to_send(self) -> int:
        return self.adds + self.changes + self.removes + self.erasures


def compute_diff(db: SyncDatabase, sync: SyncDefinition, rejection_epoch: int) -> DiffCounts:
    """Materialise retl_send / retl_invalid / retl_forget for `sync`; return the counts.

    `rejection_epoch`: rejections from runs before this run id are ignored (full resync).
    """
    relation = f"{quote(sync.source_schema)}.{quote(sync.source_table)}"
    dialect = db.dialect
    existing = db.relations()
    gate_problems = missing_relations(sync.privacy, sync.consent_purpose, existing)
    if gate_problems:
        raise SourceError(f"sync '{sync.name}': " + "; ".join(gate_problems))
    try:
        total, null_keys = db.one(
            f"select count(*), count(*) filter (where {quote(sync.primary_key)} is null) "
            f"from {relation}"
        )  # type: ignore[misc]
        db.create_temp("retl_raw", source_sql(sync, dialect))
    except StatementError as exc:
        raise SourceError(f"sync '{sync.name}': cannot read source {sync.source}: {exc}") from exc

    dupes = db.rows(
        "select key from retl_raw group by key having count(*) > 1 order by key limit 5"
    )
    if dupes:
        shown = ", ".join(repr(row[0]) for row in dupes)
        raise SourceError(
            f"sync '{sync.name}': primary_key {sync.primary_key} is not unique in "
            f"{sync.source} (e.g. {shown})"
        )
    identity = sync.identity_field
    db.create_temp(
        "retl_source",
        f"""
        select
            key,
            payload,
            md5(payload) as content_hash,
            coalesce(
                invalid_reason,
                case when identity is not null and key <> first_value(key) over w then
                    'duplicate {identity or "identity"}: the same value is mapped from key '
                    || first_value(key) over w
                end
            ) as invalid_reason,
            identity
        from retl_raw
        where withheld_reason is null
        window w as (partition by identity order by {d.ordered(dialect, "key")})
        """,
    )
    send = SEND_KINDS[sync.mode]
    split_identity = "true" if "remove" in send and identity is not None else "false"
    erased = f"{d.sha256_hex(dialect, 't.key')} in (select key_hash from erased)"
    if sync.customer_field is not None:
        # keyed by something else (a trigger's event id): the customer id sent with it
        sent = d.json_text(dialect, "t.payload", sync.customer_field)
        if sync.customer_field not in sync.hashed_identifiers:
            sent = d.sha256_hex(dialect, sent)
        erased = f"({erased} or {sent} in (select key_hash from erased))"
    db.create_temp(
        "retl_joined",
        f"""
        with state as (
            select key, content_hash, payload, destination_id
            from {SCHEMA}.sync_state where sync_name = {literal(sync.name)}
        ),
        erased as ({erased_keys_sql(existing, dialect)})
        select
            coalesce(s.key, t.key) as key,
            case
                when s.key is null and {erased} then 'erase'
                when s.key is null then 'remove'
                when t.key is null or t.content_hash is null then 'add'
                when s.content_hash <> t.content_hash then 'change'
            end as kind,
            s.payload,
            s.content_hash,
            s.invalid_reason,
            cast(t.payload as varchar) as previous,
            t.content_hash as previous_hash,
            t.destination_id,
            {split_identity} and t.key is not null and s.key is not null
                and s.identity is distinct from {d.json_text(dialect, "t.payload", identity)}
                as identity_changed
        from retl_source s
        full outer join state t on s.key = t.key
        where s.key is null or t.key is null or t.content_hash is null
            or s.content_hash <> t.content_hash
        """,
    )
    db.create_temp(
        "retl_candidates",
        f"""
        with terminal as (
            select distinct key, content_hash from {SCHEMA}.sync_rejections
            where sync_name = {literal(sync.name)} and terminal
                and run_id >= {literal(rejection_epoch)}
        ),
        expanded as (
            -- an identity change leaves as the old record and enters as the new one
            select key, case when kind = 'erase' then 'erase' else 'remove' end as kind,
                   previous as payload, previous_hash as content_hash,
                   null as invalid_reason, null as previous, destination_id
            from retl_joined
            where kind in ('remove', 'erase') or (kind = 'change' and identity_changed)
            union all
            select key, case when identity_changed then 'add' else kind end, payload,
                   content_hash, invalid_reason, previous, destination_id
            from retl_joined where kind in ('add', 'change')
        )
        select e.*, t.key is not null as was_terminal
        from expanded e
        left join terminal t on t.key = e.key and t.content_hash is not distinct from e.content_hash
        """,
    )
    kinds = ", ".join(literal(k) for k in sorted({*send, "erase"}))
    forget = "false" if sync.mode is Mode.INSERT_ONLY or "remove" in send else "kind = 'remove'"
    db.create_temp(
        "retl_send",
        f"""
        select kind as phase,
               row_number() over (partition by kind order by {d.ordered(dialect, "key")}) as seq,
               key, payload, content_hash, previous, destination_id
        from retl_candidates
        where kind in ({kinds}) and invalid_reason is null and not was_terminal
        order by phase, seq
        """,
    )
    db.create_temp(
        "retl_invalid",
        f"""
        select key, content_hash, invalid_reason as reason from retl_candidates
        where kind in ({kinds}) and invalid_reason is not null and not was_terminal
        order by key
        """,
    )
    db.create_temp("retl_forget", f"select key from retl_candidates where {forget} order by key")
    counts = dict(
        db.rows(
            f"""
            select 'send_' || phase, count(*) from retl_send group by phase
            union all select 'invalid', count(*) from retl_invalid
            union all select 'forget', count(*) from retl_forget
            union all select 'skipped', count(*) from retl_candidates
                where kind in ({kinds}) and was_terminal
            union all select 'ignored', count(*) from retl_candidates
                where kind not in ({kinds}) and not ({forget})
            """
        )
    )
    withheld = db.rows(
        "select withheld_reason, count(*) from retl_raw where withheld_reason is not null "
        "group by 1 order by 1"
    )
    return DiffCounts(
        withheld=sum(n for _, n in withheld),
        withheld_reasons=tuple((str(r), int(n)) for r, n in withheld),
        adds=int(counts.get("send_add", 0)),
        changes=int(counts.get("send_change", 0)),
        removes=int(counts.get("send_remove", 0)),
        erasures=int(counts.get("send_erase", 0)),
        forgets=int(counts.get("forget", 0)),
        ignored=int(counts.get("ignored", 0)),
        invalid=int(counts.get("invalid", 0)),
        skipped=int(counts.get("skipped", 0)),
        source_rows=int(total),
        null_keys=int(null_keys),
    )


def read_batch_rows(db: SyncDatabase, phase: Phase, first_seq: int, size: int) -> list[Row]:
    """Rows `first_seq .. first_seq + size - 1` of `phase` from retl_send, in key order."""
    records = db.rows(
        f"""
        select key, payload, content_hash, previous, destination_id from retl_send
        where phase = {literal(phase.value)} and seq >= {first_seq}
            and seq < {first_seq + size}
        order by seq
        """
    )
    return [
        Row(
            key=key,
            payload=json.loads(payload),
            content_hash=content_hash,
            previous=json.loads(previous) if previous is not None else None,
            destination_id=destination_id,
        )
        for key, payload, content_hash, previous, destination_id in records
    ]


def phase_size(db: SyncDatabase, phase: Phase) -> int:
    row = db.one(f"select count(*) from retl_send where phase = {literal(phase.value)}")
    return int(row[0]) if row else 0
