"""`cdp identity ...`: report on and explain identity resolution."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from cdp.config import Settings
from cdp.identity.explain import CustomerNotFound, explain
from cdp.identity.readonly import IdentityDataMissing, connect
from cdp.identity.report import build_report, plot_cluster_sizes


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
