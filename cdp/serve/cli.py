"""`cdp serve`: start the HTTP service (uvicorn, one process)."""

from __future__ import annotations

import os
import sys

import click

from cdp.serve.settings import DEFAULT_HOST, DEFAULT_PORT


@click.command()
@click.option(
    "--host",
    default=lambda: os.environ.get("CDP_SERVE_HOST", DEFAULT_HOST),
    show_default=DEFAULT_HOST,
    help="Interface to listen on (CDP_SERVE_HOST); 0.0.0.0 for every interface.",
)
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=lambda: int(os.environ.get("CDP_SERVE_PORT", DEFAULT_PORT)),
    show_default=str(DEFAULT_PORT),
    help="TCP port (CDP_SERVE_PORT).",
)
def serve(host: str, port: int) -> None:
    """Run the collection API (Segment's HTTP Tracking API) until stopped.

    Events are acknowledged once they are on disk in the spool, which rolls
    into <data>/landing/web_events for `cdp ingest`. Settings: docs/configuration.md.
    """
    import uvicorn

    from cdp.serve.app import create_app
    from cdp.serve.settings import ServeSettings, SettingsError
    from cdp.serve.store.hooks import identify_overlay
    from cdp.serve.store.settings import StoreSettings

    try:
        settings = ServeSettings.from_env()
    except SettingsError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    from cdp.serve.store import open_store
    from cdp.serve.store.settings import StoreSettingsError

    try:
        store = StoreSettings.from_env()
    except StoreSettingsError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    app = create_app(
        settings,
        identify_listeners=[identify_overlay(store)],
        profile_store=lambda: open_store(store),
    )
    click.echo(
        f"cdp serve on http://{host}:{port} (sources: {', '.join(settings.write_keys.sources)}; "
        f"spool {settings.spool_dir} -> {settings.landing_dir})"
    )
    uvicorn.run(
        app,
        host=host,
        port=port,
        log_level=os.environ.get("CDP_SERVE_LOG_LEVEL", "warning"),
        access_log=False,
        timeout_keep_alive=30,
        limit_concurrency=int(os.environ.get("CDP_SERVE_MAX_CONNECTIONS", "4096")),
        timeout_graceful_shutdown=10,
    )


if __name__ == "__main__":  # `python -m cdp.serve.cli`: the command without the cdp group's imports
    serve()
