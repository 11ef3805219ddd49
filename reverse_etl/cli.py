"""`cdp sync`: plan, check or run the syncs of a YAML file against the warehouse
CDP_TARGET names (the DuckDB file, PostgreSQL, or Spark with the state in a DuckDB
state file; reverse_etl/engine/db.py).

Exit codes: 0 all selected syncs succeeded; 1 a sync (or check) failed;
2 bad input (invalid YAML, unknown sync name, missing file).

A program that embeds the command may observe the engine's checkpoints by passing
`obj=SyncHooks(checkpoint=...)` to `sync.main(...)` (the kill tests install a crash
hook this way, tests/reverse_etl/crashing_sync.py); `cdp sync` passes none.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from pathlib import Path

import click

from cdp.config import Settings
from cdp.warehouse import WarehouseError
from reverse_etl.config import SyncDefinition, load_syncs
from reverse_etl.destinations import build_destination
from reverse_etl.engine.db import SparkTarget, SyncTarget, close_target, target_for
from reverse_etl.engine.plan import plan_sync
from reverse_etl.engine.runner import Checkpoint, run_sync
from reverse_etl.errors import ConfigError, ReverseEtlError
from reverse_etl.triggers import spark_runnable


@dataclass(frozen=True)
class SyncHooks:
    """What an embedding program hands the command through click's context object."""

    checkpoint: Checkpoint | None = None


def _select(syncs: list[SyncDefinition], names: tuple[str, ...]) -> list[SyncDefinition]:
    if not names:
        return syncs
    known = {s.name: s for s in syncs}
    unknown = [n for n in names if n not in known]
    if unknown:
        raise ConfigError(f"unknown sync {', '.join(unknown)}; defined: {', '.join(sorted(known))}")
    return [known[n] for n in names]


def _echo_progress(name: str):  # type: ignore[no-untyped-def]
    started = time.monotonic()

    def progress(message: str) -> None:
        click.echo(f"[{time.monotonic() - started:7.1f}s] {name}: {message}")

    return progress


@click.group(invoke_without_command=True, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--config",
    "config_path",
    type=click.Path(path_type=Path, dir_okay=False),
    envvar="CDP_SYNCS_PATH",
    required=True,
    help="Sync definitions YAML (see reverse_etl/README.md) [env: CDP_SYNCS_PATH].",
)
@click.option(
    "--warehouse",
    type=click.Path(path_type=Path, dir_okay=False),
    envvar="CDP_DUCKDB_PATH",
    default=None,
    help="DuckDB warehouse file, on CDP_TARGET=duckdb [env: CDP_DUCKDB_PATH; default "
    "<home>/warehouse/cdp.duckdb]. On postgres the state lives in the CDP_PG_* database; "
    "on spark in CDP_SYNC_STATE_PATH (default <CDP_SPARK_DIR>/sync_state.duckdb).",
)
@click.option(
    "--manifest",
    type=click.Path(path_type=Path, dir_okay=False),
    envvar="CDP_DBT_MANIFEST",
    default=None,
    help="dbt manifest.json: check the columns each sync reads against the models' "
    "contracts (skipped while the file does not exist) [env: CDP_DBT_MANIFEST].",
)
@click.option("--sync", "names", multiple=True, help="Only this sync (repeatable).")
@click.option(
    "--plan", is_flag=True, help="Show what would be added, updated, removed; send nothing."
)
@click.option("--full-resync", is_flag=True, help="Resend every row as if never sent.")
@click.option(
    "--check", is_flag=True, help="Check each destination's credentials and reachability."
)
def sync(
    config_path: Path,
    warehouse: Path | None,
    manifest: Path | None,
    names: tuple[str, ...],
    plan: bool,
    full_resync: bool,
    check: bool,
) -> None:
    """Sync warehouse models to destinations, sending only what changed.

    Each run first reconciles batches a crashed run left unrecorded, then diffs
    the source model against the state the destination acknowledged, and sends
    removes, adds and updates in batches, recording state after each
    acknowledgement.
    """
    hooks = click.get_current_context().find_object(SyncHooks) or SyncHooks()
    target: SyncTarget = warehouse or Path()
    try:
        if not check:  # --check talks to the destinations only
            target = target_for(Settings.from_env(), warehouse)
        selected = _select(load_syncs(config_path, manifest), names)
        if isinstance(target, SparkTarget):
            selected, note = spark_runnable(selected, names)
            if note:
                click.echo(f"note: {note}", err=True)
    except (ConfigError, WarehouseError) as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    if not plan and not check and isinstance(target, Path) and not target.parent.is_dir():
        click.echo(f"error: warehouse folder {target.parent} does not exist", err=True)
        sys.exit(2)

    try:
        failed = _run_selected(selected, target, hooks, plan=plan, check=check, full=full_resync)
    finally:
        close_target(target)  # the Spark session, on spark
    if failed:
        sys.exit(1)


def _run_selected(
    selected: list[SyncDefinition],
    target: SyncTarget,
    hooks: SyncHooks,
    *,
    plan: bool,
    check: bool,
    full: bool,
) -> bool:
    """Plan, check or run each sync; True when one failed (exit 2 when no sync can run)."""
    failed = False
    for definition in selected:
        try:
            if plan:
                click.echo(plan_sync(definition, target, full_resync=full).render())
            elif check:
                destination = build_destination(definition.destination, definition.context)
                try:
                    destination.check()
                finally:
                    destination.close()
                click.echo(f"sync {definition.name}: {definition.destination.type} destination ok")
            else:
                result = run_sync(
                    definition,
                    target,
                    full_resync=full,
                    progress=_echo_progress(definition.name),
                    checkpoint=hooks.checkpoint,
                )
                click.echo(result.render())
                failed |= result.status != "succeeded"
        except ReverseEtlError as exc:
            click.echo(f"error: sync {definition.name}: {exc}", err=True)
            failed = True
        except WarehouseError as exc:  # locked, unreachable, connection lost: no sync can run
            click.echo(f"error: sync {definition.name}: {exc}", err=True)
            sys.exit(2)
    return failed


def main() -> None:  # `python -m reverse_etl.cli`
    sync()


if __name__ == "__main__":
    main()
