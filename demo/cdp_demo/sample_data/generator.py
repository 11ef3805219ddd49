"""Runs the generation: people in chunks, each system's records, files, ground truth, manifest."""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np

from cdp_demo.sample_data.behaviour import simulate_purchases
from cdp_demo.sample_data.context import Context
from cdp_demo.sample_data.ground_truth import PERSONS, RECORD_PERSONS, GroundTruthWriter
from cdp_demo.sample_data.people import Population, build_population
from cdp_demo.sample_data.randomness import np_rng, py_rng
from cdp_demo.sample_data.records import TruthSink
from cdp_demo.sample_data.systems import consent, crm, email, pos, shop, support, web
from cdp_demo.sample_data.tables import TABLES
from cdp_demo.sample_data.timeline import Timeline
from cdp_demo.sample_data.writers import Batch, FileRecord, LandingWriter, MalformedRow

GENERATOR_VERSION = "1.0.0"
CHUNK_PEOPLE = 5_000
MANIFEST = "manifest.json"
MIN_ACTIVITY, MAX_ACTIVITY = 0.01, 10.0


@dataclass(frozen=True)
class GeneratedFile:
    """One landing file: table, path relative to the output folder, data rows, broken rows."""

    table: str
    path: str
    format: str
    rows: int
    malformed: tuple[MalformedRow, ...]


@dataclass(frozen=True)
class GenerationResult:
    """What a run wrote: the files, rows per table and how many rows were broken on purpose."""

    out_dir: Path
    manifest_path: Path
    ground_truth_dir: Path
    people: int
    seed: int
    end_date: date
    files: tuple[GeneratedFile, ...]
    table_rows: Mapping[str, int]
    malformed_count: int

    @property
    def paths(self) -> tuple[Path, ...]:
        """Absolute paths of the landing files."""
        return tuple(self.out_dir / f.path for f in self.files)

    def describe(self) -> str:
        total = sum(self.table_rows.values())
        return (
            f"{self.people:,} people, {total:,} rows in {len(self.files)} files "
            f"across {len(self.table_rows)} tables, {self.malformed_count:,} malformed rows"
        )


def _simulate_chunk(
    ctx: Context, calendar: email.Campaigns, chunk: int, first: int, n: int
) -> tuple[Population, list[Batch], TruthSink]:
    """Every system's rows for one chunk of people."""
    seed = ctx.seed

    def streams(name: str) -> tuple[np.random.Generator, random.Random]:
        return np_rng(seed, chunk, name), py_rng(seed, chunk, name)

    truth = TruthSink()
    pop = build_population(ctx, chunk, first, n)
    buys = simulate_purchases(ctx, pop, np_rng(seed, chunk, "purchases"))
    accounts, customers = shop.build_accounts(ctx, pop, buys, *streams("shop"), truth)
    cards, members = pos.build_members(ctx, pop, buys, *streams("loyalty"), truth)
    subs, email_batches = email.build_email(ctx, pop, accounts, calendar, *streams("email"), truth)
    contacts, crm_batch = crm.build_contacts(ctx, pop, accounts, cards, *streams("crm"), truth)
    orders, order_batches = shop.build_orders(ctx, pop, buys, accounts, *streams("orders"), truth)
    store_batches = pos.build_transactions(ctx, pop, buys, cards, *streams("stores"))
    devices, web_batch = web.build_web(ctx, pop, buys, accounts, orders, *streams("web"), truth)
    tickets = support.build_tickets(ctx, pop, buys, orders, cards, *streams("support"), truth)
    consents = consent.build_consent(
        ctx, pop, accounts, subs, cards, contacts, devices, *streams("consent"), truth
    )
    batches = [
        customers,
        *order_batches,
        crm_batch,
        *email_batches,
        members,
        *store_batches,
        consents,
        tickets,
        web_batch,
    ]
    return pop, batches, truth


def _clear_previous(out_dir: Path) -> None:
    """Remove files an earlier run wrote (only the generator's own file names)."""
    for table in TABLES.values():
        folder = out_dir / "landing" / table.name
        if folder.is_dir():
            for path in folder.glob(f"{table.name}__*.{table.extension}"):
                path.unlink()
    for path in (out_dir / "ground_truth" / RECORD_PERSONS, out_dir / "ground_truth" / PERSONS):
        path.unlink(missing_ok=True)
    (out_dir / MANIFEST).unlink(missing_ok=True)


def generate(
    out_dir: Path,
    customers: int = 5000,
    seed: int = 42,
    end_date: date = date(2026, 6, 30),
    malformed_rate: float = 0.0005,
    progress: Callable[[str], None] | None = None,
    activity: float = 1.0,
) -> GenerationResult:
    """Generate the sample business into out_dir; same arguments give byte-identical files.

    Writes landing/<table>/<table>__<part>.<ext>, ground_truth/record_persons.csv,
    ground_truth/persons.csv and manifest.json. `activity` scales the event volume
    (purchases, web sessions, campaign sends) per person; 1.0 is the default business.
    """
    if customers < 1:
        raise ValueError("customers must be at least 1")
    if not 0 <= malformed_rate <= 0.5:
        raise ValueError("malformed_rate must be between 0 and 0.5")
    if seed < 0:
        raise ValueError("seed must not be negative")
    if not MIN_ACTIVITY <= activity <= MAX_ACTIVITY:
        raise ValueError(f"activity must be between {MIN_ACTIVITY} and {MAX_ACTIVITY}")
    say = progress or (lambda _message: None)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    _clear_previous(out_dir)

    timeline = Timeline.build(end_date)
    ctx = Context.create(seed, timeline, activity)
    calendar = email.campaign_calendar(ctx)
    excel = frozenset({("crm_contacts", timeline.exports[1].part)})
    writer = LandingWriter(out_dir, malformed_rate, excel)
    truth_writer = GroundTruthWriter(out_dir / "ground_truth", ctx.catalog)
    chunks = (customers + CHUNK_PEOPLE - 1) // CHUNK_PEOPLE
    for chunk in range(chunks):
        first = chunk * CHUNK_PEOPLE
        n = min(CHUNK_PEOPLE, customers - first)
        pop, batches, truth = _simulate_chunk(ctx, calendar, chunk, first, n)
        for batch in batches:
            writer.write(batch, py_rng(seed, chunk, f"malformed:{batch.table.name}"))
        truth_writer.write(pop, truth)
        written = sum(f.rows for f in writer.files.values())
        say(f"chunk {chunk + 1}/{chunks}: {first + n:,} of {customers:,} people, {written:,} rows")

    records = writer.close()
    table_rows = {name: 0 for name in TABLES}
    files_per_table = {name: 0 for name in TABLES}
    for record in records:
        table_rows[record.table] += record.rows
        files_per_table[record.table] += 1
    for name, rows in table_rows.items():
        say(f"{name}: {rows:,} rows in {files_per_table[name]} files")
    manifest_path = out_dir / MANIFEST
    _write_manifest(
        manifest_path,
        seed,
        customers,
        end_date,
        malformed_rate,
        activity,
        timeline,
        records,
        truth_writer,
    )
    files = tuple(
        GeneratedFile(r.table, r.path, r.format, r.rows, tuple(r.malformed)) for r in records
    )
    return GenerationResult(
        out_dir=out_dir,
        manifest_path=manifest_path,
        ground_truth_dir=out_dir / "ground_truth",
        people=customers,
        seed=seed,
        end_date=end_date,
        files=files,
        table_rows=table_rows,
        malformed_count=sum(len(f.malformed) for f in files),
    )


def _write_manifest(
    path: Path,
    seed: int,
    customers: int,
    end_date: date,
    malformed_rate: float,
    activity: float,
    timeline: Timeline,
    records: list[FileRecord],
    truth: GroundTruthWriter,
) -> None:
    table_rows = {name: 0 for name in TABLES}
    for record in records:
        table_rows[record.table] += record.rows
    manifest = {
        "generator": "cdp_demo.sample_data",
        "generator_version": GENERATOR_VERSION,
        "seed": seed,
        "customers": customers,
        "end_date": end_date.isoformat(),
        "malformed_rate": malformed_rate,
        # Only written when set, so default manifests stay byte-identical to earlier runs.
        **({"activity": activity} if activity != 1.0 else {}),
        "exports": [e.part for e in timeline.exports],
        "tables": table_rows,
        "files": [
            {
                "table": r.table,
                "path": r.path,
                "format": r.format,
                "rows": r.rows,
                "malformed": [
                    {"line": m.line, "kind": m.kind, "column": m.column} for m in r.malformed
                ],
            }
            for r in records
        ],
        "ground_truth": {
            "record_persons": f"ground_truth/{RECORD_PERSONS}",
            "record_persons_rows": truth.record_rows,
            "persons": f"ground_truth/{PERSONS}",
            "persons_rows": truth.person_rows,
        },
    }
    path.write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
