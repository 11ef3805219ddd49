"""`cdp store`: the serving store by hand (docs/serving-store.md)."""

from __future__ import annotations

import sys

import click

from cdp.config import Settings


@click.group()
def store() -> None:
    """The serving store the Profile API and the customer page read."""


@store.command()
@click.option("--full", is_flag=True, help="Rewrite every customer, not only a build's changes.")
def refresh(full: bool) -> None:
    """Refresh the serving store from the built warehouse.

    Incremental when the store holds the build before the newest one (only the
    customers its change set names are rewritten), full otherwise or with --full.
    Settings: CDP_STORE_BACKEND, CDP_STORE_PATH, CDP_STORE_ACTIVITY_LIMIT.
    """
    from cdp.serve.store.protocol import StoreUnavailable
    from cdp.serve.store.refresh import refresh as do_refresh
    from cdp.serve.store.settings import StoreSettingsError
    from cdp.warehouse import WarehouseError

    try:
        click.echo(do_refresh(Settings.from_env(), full=full).render())
    except (StoreUnavailable, StoreSettingsError, WarehouseError, OSError) as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
