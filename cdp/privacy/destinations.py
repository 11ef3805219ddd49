"""What the syncs held about erased customers, and scrubbing it once removed.

Before an erasure deletes a customer, `syncs_holding` notes which syncs hold
their key in `reverse_etl.sync_state` (what a destination acknowledged), or a
key sent with their id in the payload's `customer_id` (a trigger's event ids:
the audit counts the events it sent them). The
rebuild drops them from every model, so the next sync's diff sees the key
gone; because the key's hash is in `privacy.erasure_log`, the engine sends it
as an *erasure* (reverse_etl Phase.ERASE) in every mode, through the normal
exactly-once path, and the destination deletes the record as far as its API
allows. What that is per destination type is its settings' `erasure`
("deleted: ...", "unlisted: ..." or "not deleted: <why>"), which the audit
records per sync.

An erasure whose rebuild has not happened (`cdp privacy erase --no-build`, or
a failed rebuild) waits in `awaiting_rebuild` until a complete `cdp build`
marks it (`erase.mark_rebuilt_before`); `finish_erasures` reports it.

`finish_erasures` completes an erasure once no sync still holds the key and
no outbox batch carries it: it deletes the keys' rows from
`reverse_etl.sync_rejections` (the state row went with the remove; the
outbox row with its acknowledgement) and marks the audit record completed,
listing per sync what its destination did. A sync whose destination refused
the erasure for good keeps the erasure waiting, and the line says why. Keys
are matched by their hash, so
the audit record never needs the customer id in clear.

On Spark the syncs' state is not in the warehouse but in their DuckDB state
file (`CDP_SYNC_STATE_PATH`, default `<CDP_SPARK_DIR>/sync_state.duckdb`,
docs/engines.md): `sync_state` opens it, with the request's customers copied
in, and the state's SQL runs there in DuckDB's dialect; the audit record stays
in Spark's `privacy.erasure_log`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from cdp.landing.tombstones import sha256_hex
from cdp.privacy.connection import (
    Connection,
    SparkConnection,
    dialect_of,
    temp_table,
    text_type,
    update_rows,
)
from cdp.privacy.subject import relation_exists

ERASURE_LOG = "privacy.erasure_log"


SENT_CUSTOMER_FIELD = "customer_id"
"""The payload field that names the customer of a key that is not a customer id: a
trigger's events (key: event id) carry it, and sync_state keeps what was sent, so an
erased person's event ids are known after the warehouse rows are gone."""


def sent_customer_sql(document: str, dialect: str = "duckdb") -> str:
    """The customer id a JSON `document` (a sent payload) was sent with, as text."""
    if dialect == "postgres":
        return f"(cast({document} as json) ->> '{SENT_CUSTOMER_FIELD}')"
    return f"json_extract_string({document}, '$.{SENT_CUSTOMER_FIELD}')"


def subject_held_sql(dialect: str = "duckdb", customers: str = "privacy_subject_customers") -> str:
    """Predicate on a reverse_etl.sync_state row: it is about one of `customers` (a
    relation with customer_id), by its key or by the customer id it was sent with."""
    return (
        f"(key in (select customer_id from {customers}) or "
        f"{sent_customer_sql('payload', dialect)} in (select customer_id from {customers}))"
    )


def _outbox_rows_sql(dialect: str) -> str:
    """Every row of every outbox batch: sync_name, its key, the customer id it carries."""
    field = SENT_CUSTOMER_FIELD
    if dialect == "postgres":
        return (
            f"select sync_name, r ->> 'key' as key, r -> 'payload' ->> '{field}' as sent "
            "from reverse_etl.sync_outbox, json_array_elements(cast(rows as json)) as r"
        )
    return (
        "select sync_name, json_extract_string(r, '$.key') as key, "
        f"json_extract_string(r, '$.payload.{field}') as sent from ("
        "select sync_name, unnest(json_extract(rows, '$[*]')) as r "
        "from reverse_etl.sync_outbox) as batches"
    )


@contextmanager
def sync_state(con: Connection, customers: bool = True) -> Iterator[Connection | None]:
    """The connection holding `reverse_etl.*`: `con` itself, or on Spark the syncs'
    DuckDB state file (None when no sync has run there), with `customers`: the
    request's `privacy_subject_customers` copied in as a temporary table."""
    if not isinstance(con, SparkConnection):
        yield con
        return
    from cdp.config import Settings
    from cdp.warehouse import connect_duckdb
    from reverse_etl.engine.db import spark_state_path

    path = spark_state_path(Settings.from_env())
    if not path.is_file():
        yield None
        return
    state = connect_duckdb(path)
    try:
        if customers:
            ids = con.execute("select customer_id from privacy_subject_customers").fetchall()
            temp_table(state, "privacy_subject_customers", "(customer_id varchar)")
            if ids:
                state.executemany("insert into privacy_subject_customers values (?)", ids)
        yield state
    finally:
        state.close()


def syncs_holding(con: Connection) -> dict[str, int]:
    """Syncs with state for the request's customers: {sync_name: keys}; a trigger
    counts the person's event ids it sent."""
    with sync_state(con) as state:
        if state is None or not relation_exists(state, "reverse_etl", "sync_state"):
            return {}
        rows = state.execute(
            f"""select sync_name, count(*) from reverse_etl.sync_state
            where {subject_held_sql(dialect_of(state))}
            group by sync_name order by sync_name"""
        ).fetchall()
    return {str(name): int(n) for name, n in rows}


def _erasure_outcomes(syncs_path: Path | None) -> dict[str, str]:
    """sync name -> what an erasure does at its destination (DestinationSettings.erasure)."""
    if syncs_path is None or not syncs_path.exists():
        return {}
    from reverse_etl.config import load_syncs

    return {
        d.name: f"{d.destination.erasure} [{d.destination.type}]" for d in load_syncs(syncs_path)
    }


def finish_erasures(con: Connection, syncs_path: Path | None) -> list[str]:
    """Complete every erasure whose keys no sync holds any more; one line per erasure."""
    with sync_state(con, customers=False) as state:
        return _finish(con, state, syncs_path)


def _finish(con: Connection, state: Connection | None, syncs_path: Path | None) -> list[str]:
    """finish_erasures with the sync state in `state` (None: no sync state)."""
    if not relation_exists(con, "privacy", "erasure_log"):
        return []
    unbuilt = con.execute(
        f"select erasure_id from {ERASURE_LOG} where status = 'awaiting_rebuild' "
        "order by requested_at"
    ).fetchall()
    lines = [
        f"erasure {row[0]}: waiting for a complete `cdp build` (incremental models keep the "
        "person's events until a build purges them), then `cdp sync` and `cdp privacy finish`"
        for row in unbuilt
    ]
    text = text_type(con)
    pending = con.execute(
        f"select erasure_id, cast(customer_hashes as {text}), cast(syncs_holding as {text}) "
        f"from {ERASURE_LOG} where status = 'awaiting_removal' order by requested_at"
    ).fetchall()
    outcomes = _erasure_outcomes(syncs_path)
    has_state = state is not None and relation_exists(state, "reverse_etl", "sync_state")
    for erasure_id, customer_hashes, holding_json in pending:
        hashes = json.loads(customer_hashes or "[]")
        holding: dict[str, int] = json.loads(holding_json or "{}")
        if state is not None:
            temp_table(state, "privacy_erased_hashes", "(h varchar)")
            if hashes:
                state.executemany(
                    "insert into privacy_erased_hashes values (?)", [[h] for h in hashes]
                )
        still = _still_held(state) if state is not None and has_state else {}
        if still:
            refused = _refusals(state) if state is not None else {}
            waiting = ", ".join(
                f"{s} ({n}" + (f"; refused: {refused[s]}" if s in refused else "") + ")"
                for s, n in sorted(still.items())
            )
            lines.append(f"erasure {erasure_id}: waiting for the deletion at {waiting}")
            # The audit says where it stands meanwhile: done, waiting, or refused (why).
            so_far = {
                name: (
                    f"not deleted yet: the destination refused it: {refused[name]}"
                    if name in refused
                    else "not deleted yet: waiting for the next sync"
                )
                if name in still
                else outcomes.get(name, "deleted")
                for name in holding
            }
            update_rows(
                con,
                ERASURE_LOG,
                {"destinations": "?"},
                "erasure_id = ?",
                [json.dumps(so_far, sort_keys=True), erasure_id],
            )
            continue
        scrubbed = 0
        if state is not None and relation_exists(state, "reverse_etl", "sync_rejections"):
            where = (
                f"{sha256_hex('key', dialect_of(state))} in (select h from privacy_erased_hashes)"
            )
            row = state.execute(
                f"select count(*) from reverse_etl.sync_rejections where {where}"
            ).fetchone()
            scrubbed = int(row[0]) if row else 0
            state.execute(f"delete from reverse_etl.sync_rejections where {where}")
        outcome = {
            name: outcomes.get(
                name,
                "not deleted: the sync is no longer in the sync definitions, so its "
                "destination is unknown; delete the person there by hand",
            )
            for name in holding
        }
        update_rows(
            con,
            ERASURE_LOG,
            {"destinations": "?", "status": "'completed'", "completed_at": "?"},
            "erasure_id = ?",
            [
                json.dumps(outcome, sort_keys=True),
                datetime.now(UTC).replace(tzinfo=None),
                erasure_id,
            ],
        )
        removed = ", ".join(f"{s}: {o}" for s, o in sorted(outcome.items())) or "none held"
        lines.append(
            f"erasure {erasure_id}: completed; destinations {removed}; "
            f"{scrubbed} rejection row(s) scrubbed"
        )
    return lines


def _refusals(con: Connection) -> dict[str, str]:
    """sync name -> the latest reason a destination refused one of the erased keys."""
    if not relation_exists(con, "reverse_etl", "sync_rejections"):
        return {}
    rows = con.execute(
        f"""select sync_name, reason from (
            select sync_name, reason,
                   row_number() over (partition by sync_name order by rejected_at desc) as n
            from reverse_etl.sync_rejections
            where {sha256_hex("key", dialect_of(con))} in (select h from privacy_erased_hashes)
        ) as latest where n = 1"""
    ).fetchall()
    return {str(s): str(r) for s, r in rows}


def _still_held(con: Connection) -> dict[str, int]:
    """Syncs whose state or outbox still carries one of the erased keys."""
    dialect = dialect_of(con)
    erased = "in (select h from privacy_erased_hashes)"
    sent = sent_customer_sql("payload", dialect)
    rows = con.execute(
        f"""select sync_name, count(*) from reverse_etl.sync_state
        where {sha256_hex("key", dialect)} {erased} or {sha256_hex(sent, dialect)} {erased}
        group by sync_name"""
    ).fetchall()
    held = {str(s): int(n) for s, n in rows}
    if relation_exists(con, "reverse_etl", "sync_outbox"):
        rows = con.execute(
            f"""select sync_name, count(*) from ({_outbox_rows_sql(dialect)}) as outbox
            where {sha256_hex("key", dialect)} {erased} or {sha256_hex("sent", dialect)} {erased}
            group by sync_name"""
        ).fetchall()
        for s, n in rows:
            held[str(s)] = held.get(str(s), 0) + int(n)
    return held
