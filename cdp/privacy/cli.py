"""`cdp privacy`: erase a person (right to erasure) or export everything held (access).

Output is counts, ids of erasures and file paths: never an email, phone, name
or customer id, so the command's log is safe to keep.
"""

from __future__ import annotations

import os
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from cdp.config import Settings
from cdp.privacy.connection import (
    Connection,
    PostgresConnection,
    SparkConnection,
    open_connection,
    text_type,
)
from cdp.privacy.subject import (
    ErasureRequest,
    IdentifierType,
    PrivacyError,
    read_requests,
    relation_exists,
)


def _fail(message: str, code: int) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(code)


def _progress() -> Callable[[str], None]:
    started = time.monotonic()
    return lambda message: click.echo(f"[{time.monotonic() - started:7.1f}s] {message}")


def _identifier_options(func: Any) -> Any:
    for name, kind in (
        ("--customer-id", "customer_id"),
        ("--phone", "phone"),
        ("--email", "email"),
    ):
        func = click.option(
            name, kind, default=None, help=f"The person's {kind.replace('_', ' ')}."
        )(func)
    return func


def _single_request(
    email: str | None, phone: str | None, customer_id: str | None, requested_by: str, reason: str
) -> ErasureRequest | None:
    candidates: tuple[tuple[IdentifierType, str | None], ...] = (
        ("email", email),
        ("phone", phone),
        ("customer_id", customer_id),
    )
    given = [(kind, value) for kind, value in candidates if value]
    if len(given) > 1:
        raise PrivacyError("give one of --email, --phone, --customer-id")
    if not given:
        return None
    kind, value = given[0]
    return ErasureRequest(kind, value, requested_by, reason)


def _connect(settings: Settings) -> Connection:
    """The target's connection (DuckDB, PostgreSQL or Spark)."""
    return open_connection(settings)


@click.group()
def privacy() -> None:
    """Erasure and access requests (docs/privacy.md)."""


@privacy.command()
@_identifier_options
@click.option(
    "--requests",
    "requests_file",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="CSV of requests: identifier_type,identifier_value[,requested_by,reason].",
)
@click.option(
    "--requested-by", default=lambda: os.environ.get("USER", "unknown"), show_default="$USER"
)
@click.option("--reason", default="erasure request", show_default=True)
@click.option("--no-build", is_flag=True, help="Skip the dbt rebuild (run `cdp build` later).")
@click.option("--no-sync", is_flag=True, help="Skip the syncs that send the removes.")
@click.option(
    "--demo-destinations", is_flag=True, help="Start the demo's contract servers for the syncs."
)
def erase(
    email: str | None,
    phone: str | None,
    customer_id: str | None,
    requests_file: Path | None,
    requested_by: str,
    reason: str,
    no_build: bool,
    no_sync: bool,
    demo_destinations: bool,
) -> None:
    """Erase a person: raw rows, derived models, destinations; keep a hashed tombstone.

    Deletes every raw row of the person (and rows of erased people in
    raw._rejects), records hashed identifiers so the loader never lands them
    again, rebuilds the dbt project, runs the syncs so destinations receive
    removes, then scrubs their sync history. Writes an audit record to
    privacy.erasure_log.
    """
    from cdp.privacy.destinations import finish_erasures
    from cdp.privacy.erase import erase_requests, mark_rebuilt
    from cdp.serve.store.hooks import erase_now

    settings = Settings.from_env()
    progress = _progress()
    try:
        if settings.target != "spark":  # a JVM start saved: Spark's failure is one line too
            _connect(settings).close()  # a target it cannot reach: said first
        single = _single_request(email, phone, customer_id, requested_by, reason)
        if (single is None) == (requests_file is None):
            raise PrivacyError("give one of --email, --phone, --customer-id or --requests FILE")
        if single is not None:
            requests = [single]
        else:
            assert requests_file is not None
            requests = read_requests(requests_file, requested_by, reason)
        with _connect(settings) as con:
            results = erase_requests(
                con, requests, progress, settings.data_dir / "privacy" / "exports"
            )
        ids = [r.erasure_id for r in results]
        erase_now(settings, requests, progress)
        if no_build:
            progress("rebuild skipped: run `cdp build`, then `cdp sync` and `cdp privacy finish`")
            return
        progress("rebuilding every model without them (cdp build)")
        _rebuild(settings, progress)
        if settings.target != "spark":  # on Spark the build marked them (one JVM less)
            with _connect(settings) as con:
                mark_rebuilt(con, ids)
        if no_sync or not settings.syncs_path.exists():
            progress("syncs not run: `cdp sync` then `cdp privacy finish` complete the erasure")
        else:
            _sync(settings, demo_destinations, progress)
        with _connect(settings) as con:
            for line in finish_erasures(con, settings.syncs_path):
                progress(line)
            con.execute("checkpoint")
    except PrivacyError as exc:
        _fail(str(exc), 2)


def _rebuild(settings: Settings, progress: Callable[[str], None]) -> None:
    """The complete build (cdp/build.py), which also marks these erasures rebuilt."""
    from cdp.build import BuildError, build

    try:
        build(settings, quiet=True)
    except BuildError as exc:
        _fail(f"rebuild failed; the raw rows are erased, run `cdp build` again: {exc}", 1)
    progress("rebuild done")


def _sync(settings: Settings, demo: bool, progress: Callable[[str], None]) -> None:
    from cdp.syncs import run_all_syncs
    from reverse_etl.errors import ReverseEtlError

    try:
        result = run_all_syncs(settings, demo=demo, progress=lambda _message: None)
    except ReverseEtlError as exc:
        progress(f"syncs not run ({exc}); `cdp sync` then `cdp privacy finish` complete it")
        return
    for report in result.reports:
        click.echo(report)
    if result.failed:
        progress(
            f"sync failed: {', '.join(result.failed)}; rerun `cdp sync`, then `cdp privacy finish`"
        )


@privacy.command()
@click.option(
    "--compact",
    is_flag=True,
    help="Then rewrite the warehouse into a fresh file and swap it in, so deleted rows "
    "leave no bytes in free blocks (docs/privacy.md).",
)
def finish(compact: bool) -> None:
    """Complete erasures whose removes the destinations have acknowledged since."""
    from cdp.privacy.compact import copy_to_fresh_file, swap_in
    from cdp.privacy.destinations import finish_erasures

    settings = Settings.from_env()
    started = time.monotonic()
    try:
        with _connect(settings) as con:
            if compact and isinstance(con, SparkConnection):
                click.echo(
                    "on Spark --compact has nothing to do: each erasure rewrote the tables "
                    "it deleted from into new Parquet files (docs/privacy.md)"
                )
                compact = False
            if compact and isinstance(con, PostgresConnection):
                click.echo(
                    "on PostgreSQL --compact runs VACUUM (FULL) on every table of the schemas "
                    "privacy deletes from, so the deleted rows' old versions leave the table "
                    "files (docs/privacy.md)"
                )
            lines = finish_erasures(con, settings.syncs_path)
            copied = None
            if compact and isinstance(con, PostgresConnection):
                vacuumed = con.vacuum_full(_pg_tables(con))
                lines.append(
                    f"compacted: VACUUM (FULL) of {vacuumed} table(s) in "
                    f"{time.monotonic() - started:.1f}s"
                )
            elif compact:
                copied = copy_to_fresh_file(con, settings.warehouse_path)  # type: ignore[arg-type]
        for line in lines or ["no erasure awaiting removal"]:
            click.echo(line)
        if copied is not None:  # the connection is closed: the file can be replaced
            size = swap_in(copied, settings.warehouse_path)
            click.echo(copied.render(size, time.monotonic() - started))
    except PrivacyError as exc:
        _fail(str(exc), 2)


def _pg_tables(con: PostgresConnection) -> list[str]:
    """The base tables of the schemas an erasure deletes from (raw, privacy, syncs, derived)."""
    from cdp.privacy.erase import DERIVED_SCHEMAS

    schemas = ("raw", "privacy", "reverse_etl", "staging", *DERIVED_SCHEMAS)
    marks = ", ".join("?" for _ in schemas)
    rows = con.execute(
        "select table_schema, table_name from information_schema.tables "
        f"where table_type = 'BASE TABLE' and table_schema in ({marks}) order by 1, 2",
        list(schemas),
    ).fetchall()
    return [f'"{s}"."{t}"' for s, t in rows]


@privacy.command()
def log() -> None:
    """List the erasure audit records (no personal data: hashes and counts)."""
    settings = Settings.from_env()
    rows: list[tuple[object, ...]] = []
    try:
        with _connect(settings) as con:
            if not relation_exists(con, "privacy", "erasure_log"):
                raise PrivacyError("no erasure log")
            if not isinstance(con, SparkConnection):  # Spark's log was made with it
                con.execute(  # logs written before the column existed
                    "alter table if exists privacy.erasure_log "
                    "add column if not exists attribution json"
                )
            text = text_type(con)
            rows = con.execute(
                "select erasure_id, requested_at, requested_by, request_type, status, "
                f"cast(rows_deleted as {text}), cast(destinations as {text}), "
                f"cast(attribution as {text}) from privacy.erasure_log order by requested_at"
            ).fetchall()
    except PrivacyError:
        rows = []
    for row in rows or [("no erasures recorded",)]:
        click.echo("  ".join(str(v) for v in row))


@privacy.command()
@_identifier_options
@click.option(
    "--out",
    type=click.Path(path_type=Path, dir_okay=False, allow_dash=True),
    default=None,
    help="Where to write the JSON ('-' for stdout) [default: <data>/privacy/exports/].",
)
def export(email: str | None, phone: str | None, customer_id: str | None, out: Path | None) -> None:
    """Write everything held about a person as one JSON document (access request)."""
    from cdp.privacy.export import dumps, export_person

    settings = Settings.from_env()
    try:
        request = _single_request(email, phone, customer_id, "access", "access request")
        if request is None:
            raise PrivacyError("give one of --email, --phone, --customer-id")
        with _connect(settings) as con:
            document = export_person(con, request)
    except PrivacyError as exc:
        _fail(str(exc), 2)
    text = dumps(document)
    if str(out) == "-":
        click.echo(text)
        return
    if out is None:
        # the random part keeps two exports in one second apart (one used to overwrite)
        stamp = time.strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:8]
        out = settings.data_dir / "privacy" / "exports" / f"access-{stamp}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.touch(mode=0o600, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    raw = sum(len(rows) for rows in document["raw_rows"].values())
    click.echo(
        f"wrote {out}: {len(document['customer_ids'])} customer(s), "
        f"{len(document.get('source_records', []))} source record(s), {raw} raw row(s), "
        f"{len(document.get('consent_ledger', []))} consent signal(s), "
        f"{len(document['syncs'])} sync(s)"
    )
