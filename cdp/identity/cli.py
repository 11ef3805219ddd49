"""`cdp identity ...`: report on and explain identity resolution, review its doubtful pairs."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from cdp.config import Settings
from cdp.identity import review
from cdp.identity.explain import CustomerNotFound, explain
from cdp.identity.readonly import IdentityDataMissing, connect
from cdp.identity.report import build_report, plot_cluster_sizes
from cdp.warehouse import Warehouse, open_warehouse


def _fail(message: str, code: int = 2) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(code)


@click.group()
def identity() -> None:
    """Inspect identity resolution (the customers built by `cdp build`)."""


@identity.command()
@click.option(
    "--ground-truth",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="record_persons.csv (source_table, source_record_id, person_id): adds pairwise "
    "precision, recall and F1.",
)
@click.option(
    "--plot",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write the cluster-size distribution as a PNG here.",
)
@click.option("--largest", type=click.IntRange(min=1), default=10, show_default=True)
def report(ground_truth: Path | None, plot: Path | None, largest: int) -> None:
    """Match rate, cluster sizes, largest clusters, edges per rule, blocked values."""
    settings = Settings.from_env()
    try:
        connection = connect(settings)
    except IdentityDataMissing as exc:
        _fail(str(exc))
    with connection:
        result = build_report(connection, ground_truth=ground_truth, largest=largest)
    click.echo(result.render())
    if plot is not None:
        click.echo(f"\ncluster-size plot: {plot_cluster_sizes(result, plot)}")


@identity.command(name="explain")
@click.argument("target")
def explain_command(target: str) -> None:
    """Show which records formed a customer (by customer id or email) and by which rules."""
    settings = Settings.from_env()
    try:
        connection = connect(settings)
    except IdentityDataMissing as exc:
        _fail(str(exc))
    with connection:
        try:
            click.echo(explain(connection, target).render())
        except CustomerNotFound as exc:
            _fail(str(exc), 1)


# --- `cdp identity review` (issue #19 item 4): cdp/identity/review.py ---------------


def _open_for_review(settings: Settings) -> Warehouse:
    if settings.target == "duckdb" and not settings.warehouse_path.exists():
        _fail(f"no warehouse at {settings.warehouse_path}; run `cdp run` or `cdp build`")
    return open_warehouse(settings, read_only=True)


@identity.group(name="review", invoke_without_command=True)
@click.option("--limit", type=click.IntRange(min=1), default=20, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print the pairs as JSON.")
@click.option(
    "--interactive",
    is_flag=True,
    help="Ask about each listed pair: accept, reject, skip or quit (reads answers from stdin).",
)
@click.pass_context
def review_command(ctx: click.Context, limit: int, as_json: bool, interactive: bool) -> None:
    """List the pairs near the match threshold, both records side by side.

    `accept PAIR` writes an always-match override, `reject PAIR` a never-match one
    (dbt_project/seeds/identity/); the next `cdp build` applies them."""
    if ctx.invoked_subcommand is not None:
        return
    if as_json and interactive:
        _fail("--json and --interactive do not go together")
    settings = Settings.from_env()
    with _open_for_review(settings) as connection:
        try:
            pairs = review.load_queue(connection, limit)
            total = review.queue_size(connection)
        except review.ReviewError as exc:
            _fail(str(exc))
        try:
            pairs = review.with_pending(settings, pairs)
        except review.ReviewError as exc:
            click.echo(f"warning: {exc}; decisions not yet built are not marked", err=True)
        if interactive:
            _ask_each(settings, connection, pairs, total)
            return
    click.echo(review.queue_json(pairs) if as_json else review.render_queue(pairs, total))


def _ask_each(
    settings: Settings, connection: Warehouse, pairs: list[review.ReviewPair], total: int
) -> None:
    """The interactive review: one pair at a time, each answer written at once."""
    if not pairs:
        click.echo("the review queue is empty")
        return
    click.echo(f"{len(pairs)} of {total} pair(s) to review, closest to the threshold first")
    decided = 0
    for pair in pairs:
        click.echo("\n" + pair.render())
        if pair.pending:
            continue  # decided, not built yet: the heading says so
        answer = click.prompt(
            "[a]ccept, [r]eject, [s]kip, [q]uit",
            type=click.Choice(["a", "r", "s", "q"]),
            show_choices=False,
        )
        if answer == "q":
            break
        if answer == "s":
            continue
        decision = "accepted" if answer == "a" else "rejected"
        try:
            click.echo(review.decide(settings, connection, pair.pair_id, decision).render())
        except review.ReviewError as exc:
            _fail(str(exc))
        decided += 1
    click.echo(f"\n{decided} decision(s) written; the next `cdp build` applies them")


def _decide(pair_id: str, decision: str, reason: str | None, decided_by: str | None) -> None:
    settings = Settings.from_env()
    with _open_for_review(settings) as connection:
        try:
            result = review.decide(
                settings, connection, pair_id, decision, reason=reason, decided_by=decided_by
            )
        except review.ReviewError as exc:
            _fail(str(exc))
    click.echo(result.render())


_reason = click.option("--reason", default=None, help="Why (written to the override row).")
_by = click.option(
    "--by", "decided_by", default=None, help="Who decides (default: $CDP_REVIEWER or $USER)."
)


@review_command.command(name="accept")
@click.argument("pair_id")
@_reason
@_by
def review_accept(pair_id: str, reason: str | None, decided_by: str | None) -> None:
    """The two records are one person: an always-match override."""
    _decide(pair_id, "accepted", reason, decided_by)


@review_command.command(name="reject")
@click.argument("pair_id")
@_reason
@_by
def review_reject(pair_id: str, reason: str | None, decided_by: str | None) -> None:
    """The two records are different people: a never-match override."""
    _decide(pair_id, "rejected", reason, decided_by)
