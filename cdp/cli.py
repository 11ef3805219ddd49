"""The `cdp` command: generate sample data, land it, build the dbt project, report.

Every step prints progress as it goes; errors are one line on stderr with a
non-zero exit code (2 for bad input such as a missing folder, 1 for a failed build).
"""

from __future__ import annotations

import os
import sys
import time
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click

from cdp.config import Settings
from cdp.dbt import DbtError, manifest_path, run_dbt
from cdp.demo import missing_demo
from cdp.identity.cli import identity
from cdp.privacy.cli import privacy
from cdp.serve.cli import serve
from cdp.serve.store.cli import store
from cdp.summary import collect_summary
from cdp.warehouse import WarehouseError
from reverse_etl.cli import sync

if TYPE_CHECKING:
    from cdp.build import BuildOptions

DEFAULT_CUSTOMERS = 5_000
DEFAULT_SEED = 42
DEFAULT_END_DATE = "2026-06-30"


class _Progress:
    """Prints `[  12.3s] message` lines so long steps show they are alive."""

    def __init__(self) -> None:
        self.started = time.monotonic()

    def __call__(self, message: str) -> None:
        click.echo(f"[{time.monotonic() - self.started:7.1f}s] {message}", err=False)


def _fail(message: str, code: int) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(code)


def _step(title: str) -> None:
    click.secho(f"\n== {title}", bold=True)


class _Group(click.Group):
    """The `cdp` group: a warehouse that cannot be opened (locked by another process,
    wrong credentials, a target the command cannot serve) ends any sub-command with
    one line and exit code 2, never a traceback."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except WarehouseError as exc:
            _fail(str(exc), 2)
            return None


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Warehouse-native customer data platform.

    Paths come from the environment: CDP_HOME (repository root), CDP_DATA_DIR
    (sample and landing files, default <home>/data), CDP_DUCKDB_PATH (the
    warehouse file, default <home>/warehouse/cdp.duckdb) and CDP_SYNCS_PATH
    (sync definitions, default <home>/syncs.yml).
    """
    # `cdp sync` reads its --config and --warehouse defaults from the environment.
    settings = Settings.from_env()
    os.environ.setdefault("CDP_SYNCS_PATH", str(settings.syncs_path))
    os.environ.setdefault("CDP_DUCKDB_PATH", str(settings.warehouse_path))
    os.environ.setdefault("CDP_DBT_MANIFEST", str(manifest_path(settings)))


def _customers_option(func):  # type: ignore[no-untyped-def]
    return click.option(
        "--customers",
        type=click.IntRange(min=1),
        default=DEFAULT_CUSTOMERS,
        show_default=True,
        help="Number of real people behind the generated records (1k to 1M+).",
    )(func)


def _seed_option(func):  # type: ignore[no-untyped-def]
    return click.option(
        "--seed", type=int, default=DEFAULT_SEED, show_default=True, help="Random seed."
    )(func)


def _end_date_option(func):  # type: ignore[no-untyped-def]
    return click.option(
        "--end-date",
        type=click.DateTime(formats=["%Y-%m-%d"]),
        default=DEFAULT_END_DATE,
        show_default=True,
        help="Last day of generated history (data is reproducible, not tied to today).",
    )(func)


def _do_generate(
    settings: Settings,
    customers: int,
    seed: int,
    end_date: date,
    malformed_rate: float,
    activity: float = 1.0,
) -> None:
    problem = missing_demo("generating sample data")
    if problem:
        _fail(problem, 2)
    from cdp_demo.sample_data import generate

    progress = _Progress()
    progress(f"generating {customers:,} people (seed {seed}) into {settings.data_dir}")
    result = generate(
        out_dir=settings.data_dir,
        customers=customers,
        seed=seed,
        end_date=end_date,
        malformed_rate=malformed_rate,
        progress=progress,
        activity=activity,
    )
    progress(f"done: {result.describe()}")


def _do_ingest(settings: Settings, input_dir: Path) -> None:
    from cdp.landing import LandingError, ingest

    progress = _Progress()
    try:
        result = ingest(
            input_dir=input_dir,
            warehouse_path=settings.warehouse_path,
            dbt_project_dir=settings.dbt_project_dir,
            progress=progress,
            target=settings.target,
        )
    except LandingError as exc:
        _fail(str(exc), 2)
    click.echo(result.render())


def _do_build(settings: Settings, options: BuildOptions | None = None) -> None:
    """The build routine (cdp/build.py) with progress lines; exit 1 when it fails."""
    from cdp.build import BuildError, build

    try:
        result = build(settings, options, _Progress())
    except BuildError as exc:
        _fail(str(exc), exc.exit_code)
    for erasure_id in result.erasures_rebuilt:
        click.echo(
            f"erasure {erasure_id}: models rebuilt without the person; "
            "`cdp sync` then `cdp privacy finish` complete it"
        )


@main.command()
@_customers_option
@_seed_option
@_end_date_option
@click.option(
    "--malformed-rate",
    type=click.FloatRange(0, 0.5),
    default=0.0005,
    show_default=True,
    help="Share of CSV/JSONL rows written deliberately broken, to exercise the rejects path.",
)
@click.option(
    "--activity",
    type=click.FloatRange(0.01, 10.0),
    default=1.0,
    show_default=True,
    help="Event volume per person: scales purchases, web sessions and campaign sends "
    "(0.15 gives about 10 events per person instead of about 53; "
    "see demo/cdp_demo/sample_data/README.md).",
)
def generate(
    customers: int, seed: int, end_date: datetime, malformed_rate: float, activity: float
) -> None:
    """Generate the sample retail business's source files.

    Writes one folder per raw table under <data>/landing (CSV, JSON lines and
    Parquet, as each source system would export them) and the true person behind
    every record under <data>/ground_truth, which is never loaded. The same seed
    and size always give byte-identical files.
    """
    settings = Settings.from_env()
    _step("generate")
    _do_generate(settings, customers, seed, end_date.date(), malformed_rate, activity)


@main.command()
@click.option(
    "--input",
    "input_dir",
    type=click.Path(path_type=Path),
    default=None,
    help="Folder with one sub-folder per raw table [default: <data>/landing].",
)
def ingest(input_dir: Path | None) -> None:
    """Land new raw files into the warehouse's `raw` schema.

    Only files not landed before are read (by content hash), so running it twice
    adds nothing. Rows that do not fit their table's declaration go to
    raw._rejects with the file, line and reason; the rest land.
    """
    settings = Settings.from_env()
    _step("ingest")
    _do_ingest(settings, input_dir or settings.landing_dir)


@main.command()
@click.option(
    "--select",
    "-s",
    multiple=True,
    help="dbt node selection, as `dbt build --select` takes it, e.g. '+customers' "
    "or 'staging.shop'; repeat or separate with spaces for a union.",
)
@click.option("--exclude", multiple=True, help="dbt nodes to leave out, as `dbt --exclude`.")
@click.option(
    "--vars",
    "dbt_vars",
    default=None,
    help="dbt vars as a YAML or JSON mapping, e.g. '{cdp__as_of_date: 2026-05-31}', "
    "passed to every dbt step of the build (dbt_project/dbt_project.yml lists them).",
)
@click.option("--full-refresh", is_flag=True, help="Rebuild incremental models from scratch.")
@click.option(
    "--tests",
    type=click.Choice(["auto", "gate", "all"]),
    default=None,
    help="Data tests to run: gate (the blocking checks that scale with the change), all "
    "(the full suite and dbt's unit tests) or auto: all on a full build (--full-refresh, "
    "or a warehouse without an earlier build), the gate otherwise. "
    "[default: CDP_BUILD_TESTS, else auto; docs/testing.md]",
)
def build(
    select: tuple[str, ...],
    exclude: tuple[str, ...],
    dbt_vars: str | None,
    full_refresh: bool,
    tests: str | None,
) -> None:
    """Build every dbt model with its tests (`dbt build`: seeds, models, tests).

    It runs in three phases: dbt build of everything except what reads the
    `predictions` source, the scoring step (churn probability and 12-month
    CLV, written to the predictions schema), then dbt build of the rest. A
    complete build without errors marks the erasures awaiting their rebuild.

    With --select or --exclude only the selection is built, with
    `--indirect-selection cautious` (no test of a model outside it runs). The
    scoring step then runs only when the selection builds one of its inputs
    (int_prediction_windows, int_prediction_features,
    int_prediction_recommendation_evaluation); selected models that read the
    scores are built after it (or on the scores already there). A subset
    build marks no erasure. A selection that matches nothing is an error.

    An incremental build runs the gate of data tests only; a full build, or
    --tests all, runs every data test and dbt's unit tests.
    """
    from cdp.build import BuildOptions

    settings = Settings.from_env()
    _step("build")
    _do_build(settings, BuildOptions.of(select, exclude, dbt_vars, full_refresh, tests))


def _do_sync(settings: Settings, demo: bool) -> None:
    from cdp.syncs import run_all_syncs
    from reverse_etl.errors import ReverseEtlError

    if not settings.syncs_path.exists():
        click.echo(f"no sync definitions at {settings.syncs_path}; nothing to sync")
        return
    try:
        result = run_all_syncs(settings, demo=demo, progress=_Progress())
    except (ReverseEtlError, WarehouseError) as exc:
        _fail(str(exc), 2)
    for report in result.reports:
        click.echo(report)
    if result.failed:
        _fail(f"sync failed: {', '.join(result.failed)} (see above)", 1)


@main.command("demo-destinations")
@click.option(
    "--print-env",
    is_flag=True,
    help="Print the demo's secrets as shell `export` lines and exit (make dev evaluates them).",
)
def demo_destinations_command(print_env: bool) -> None:
    """Serve the demo's destinations until interrupted (what `make dev` runs).

    Contract servers for Mailchimp, HubSpot and a webhook on 127.0.0.1, ports
    CDP_DEMO_PORT_BASE (default 8701) to +2, for the example syncs in syncs.yml.
    Their demo secrets are set in this command only; a process that syncs to
    them (Dagster, `cdp sync`) takes them from `eval "$(cdp demo-destinations
    --print-env)"`.
    """
    problem = missing_demo("cdp demo-destinations")
    if problem:
        _fail(problem, 2)
    from cdp_demo.destinations import demo_destinations, demo_secrets_shell

    from reverse_etl.errors import ConfigError

    if print_env:
        click.echo(demo_secrets_shell())
        return
    try:
        with demo_destinations() as servers:
            for name, server in servers.items():
                click.echo(f"demo {name} destination on {server.url}")
            while True:
                time.sleep(3600)
    except ConfigError as exc:
        _fail(str(exc), 2)
    except KeyboardInterrupt:
        click.echo("demo destinations stopped")


@main.command()
@_customers_option
@_seed_option
@_end_date_option
@click.option(
    "--demo-destinations",
    is_flag=True,
    help="Start the demo's contract servers for the sync step (what `make demo` does).",
)
@click.option("--no-sync", is_flag=True, help="Stop after the build; run no sync.")
def run(
    customers: int, seed: int, end_date: datetime, demo_destinations: bool, no_sync: bool
) -> None:
    """Run everything: generate, ingest, build, sync, then print a summary.

    The sync step runs every sync in the definitions file (CDP_SYNCS_PATH,
    default <home>/syncs.yml) when it exists.
    """
    settings = Settings.from_env()
    started = time.monotonic()
    _step("generate")
    _do_generate(settings, customers, seed, end_date.date(), 0.0005)
    _step("ingest")
    _do_ingest(settings, settings.landing_dir)
    _step("build")
    _do_build(settings)
    if not no_sync:
        _step("sync")
        _do_sync(settings, demo_destinations)
    _step(f"summary ({time.monotonic() - started:.0f}s)")
    click.echo(collect_summary(settings).render())
    from cdp.landing.engines import describe_warehouse

    click.echo(f"\nwarehouse: {describe_warehouse(settings.target, settings.warehouse_path)}")


@main.command()
def summary() -> None:
    """Print what the warehouse holds: rows landed and rejected, models, segments, syncs."""
    settings = Settings.from_env()
    click.echo(collect_summary(settings).render())


@main.command()
def freshness() -> None:
    """Check source freshness (`dbt source freshness`) against the sources YAML thresholds."""
    settings = Settings.from_env()
    try:
        run_dbt(settings, ["source", "freshness"])
    except DbtError as exc:
        _fail(str(exc), 1)


@main.command()
def docs() -> None:
    """Generate the dbt documentation site into dbt_project/target.

    Serve it with `.venv/bin/dbt docs serve --project-dir dbt_project --profiles-dir .`.
    """
    settings = Settings.from_env()
    try:
        run_dbt(settings, ["docs", "generate"])
    except DbtError as exc:
        _fail(str(exc), 1)
    click.echo(f"docs written to {settings.dbt_project_dir / 'target' / 'index.html'}")


main.add_command(identity)

main.add_command(privacy)

main.add_command(sync)
main.add_command(serve)
main.add_command(store)

if __name__ == "__main__":
    main()
