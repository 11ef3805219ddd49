"""The suite's shared business landed without its last month of events, built
once; tests copy it, land the held-back month as a new batch and rebuild.

This package keeps a build of its own because its warehouse must not hold the
last month yet; the files are the shared business's (tests/business.py),
copied without that month. The build is models and seeds only (the layers
test themselves in the shared build).

The files, that build and the complete build the harness starts from
(`complete_base`) are made once per run for every xdist worker
(tests/once.py), so that the package's modules are scheduling groups of their
own (tests/scheduling.py) and run on both workers. They start at the
session's first test, in a background thread (`start_shared_builds`, called
by `incremental_builds_started` in tests/conftest.py), so that no worker
reaching the package waits for all three from the beginning.

The held-back files are the `__2026-06` exports of the event tables (web and
email events, shop orders and lines, store receipts and lines): a new batch
like the ones a daily `cdp ingest` lands, with late re-deliveries of older
events in it when the generator writes them.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Collection, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

from cdp.landing import ingest
from tests.engines.digest import TableDigest, duckdb_digests
from tests.engines.engine_builds import base_env, run_cdp
from tests.once import once, shared_root

REPO = Path(__file__).resolve().parents[2]
DBT_PROJECT = REPO / "dbt_project"
DBT = Path(sys.executable).parent / "dbt"

EVENT_TABLES = (
    "web_events",
    "email_events",
    "shop_orders",
    "shop_order_lines",
    "store_transactions",
    "store_transaction_lines",
)
HELD_BACK_MONTH = "2026-06"
# The incremental models and what they feed, compared with a full build.
INCREMENTAL_MODELS = (
    "staging.stg_web__events",
    "staging.stg_email__events",
    "staging.stg_shop__orders",
    "staging.stg_shop__order_lines",
    "staging.stg_pos__store_transactions",
    "staging.stg_pos__store_transaction_lines",
    "intermediate.int_activities_unioned",
)
COMPARED = (*INCREMENTAL_MODELS, "marts.customer_activities", "marts.customer_source_records")
# When a row was processed differs between an incremental and a full build.
NOT_COMPARED = {"*": {"_processed_at"}}
SELECTION = [
    "+path:models/marts/identity",
    "stg_shop__order_lines",
    "stg_pos__store_transaction_lines",
]


@dataclass(frozen=True)
class Batch:
    """A warehouse built without the held-back month, and that month's files."""

    warehouse: Path
    landing: Path
    held_back: Path
    work: Path


def run_dbt(
    work: Path,
    warehouse: Path,
    args: Sequence[str],
    engine_env: Mapping[str, str] | None = None,
    environ: Mapping[str, str] | None = None,
) -> str:
    """Run dbt on the DuckDB warehouse, or on the engine `engine_env` names;
    fail the test with dbt's output when it fails. The environment is
    `environ` (os.environ by default) with dbt's settings on top."""
    env = {
        **(os.environ if environ is None else environ),
        # relative to dbt's working folder (the warehouse's): every test's profile
        # is the same, so dbt's partial parse of the shared target folder holds
        # (an absolute path differing per test made dbt parse the whole project)
        "CDP_DUCKDB_PATH": warehouse.name,
        "CDP_TARGET": "duckdb",
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        # one target folder for the session's tests (they run one after the
        # other, on one xdist worker), so dbt parses the project once and then
        # only partially
        "DBT_TARGET_PATH": str(work.parent / "dbt_target"),
        "DBT_LOG_PATH": str(work / "logs"),
        **(engine_env or {}),
    }
    completed = subprocess.run(
        [str(DBT), *args, "--project-dir", str(DBT_PROJECT), "--profiles-dir", str(REPO)],
        env=env,
        cwd=warehouse.parent,
        capture_output=True,
        text=True,
        check=False,
        timeout=900,
    )
    assert completed.returncode == 0, completed.stdout[-6000:] + completed.stderr[-2000:]
    return completed.stdout


def build(
    work: Path,
    warehouse: Path,
    *extra: str,
    select: Sequence[str] = SELECTION,
    engine_env: Mapping[str, str] | None = None,
    environ: Mapping[str, str] | None = None,
) -> str:
    """Models and seeds of the selection, without tests (the layers test themselves)."""
    return run_dbt(
        work,
        warehouse,
        [
            "build",
            "--select",
            *select,
            "--exclude",
            "resource_type:test",
            "resource_type:unit_test",
            *extra,
        ],
        engine_env,
        environ,
    )


def land(batch_dir: Path, warehouse: Path) -> int:
    """`cdp ingest` of a folder of new files; the rows it landed."""
    result = ingest(input_dir=batch_dir, warehouse_path=warehouse, dbt_project_dir=DBT_PROJECT)
    assert result.files_failed == 0 and result.files_loaded > 0, result.render()
    return result.rows_loaded


def digests(warehouse: Path, relations: Sequence[str] = COMPARED) -> dict[str, TableDigest]:
    return duckdb_digests(warehouse, relations, NOT_COMPARED)


def query(warehouse: Path, sql: str) -> list[tuple[object, ...]]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(sql).fetchall()


def held_by_one(
    warehouse: Path, identifier_type: str, skip: str = "", avoid: Collection[str] = ()
) -> tuple[str, str]:
    """A customer and an identifier of the type only that customer holds; the
    customer is neither `skip` nor one of `avoid`."""
    avoided = ", ".join(f"'{c}'" for c in {skip, *avoid})
    rows = query(
        warehouse,
        f"""select min(customer_id), identifier_value
        from marts.customer_identifiers
        where identifier_type = '{identifier_type}'
        group by identifier_value
        having count(distinct customer_id) = 1
            and min(customer_id) not in ({avoided})
        order by identifier_value
        limit 1""",
    )
    assert rows, identifier_type
    return str(rows[0][0]), str(rows[0][1])


@dataclass(frozen=True)
class BatchFiles:
    """Generated landing files without the held-back month, and that month."""

    data: Path
    landing: Path
    held_back: Path

    def to_json(self) -> list[str]:
        return [str(self.data), str(self.landing), str(self.held_back)]

    @classmethod
    def from_json(cls, saved: list[str]) -> BatchFiles:
        return cls(*map(Path, saved))


def _batch_to_json(batch: Batch) -> list[str]:
    return [str(batch.warehouse), str(batch.landing), str(batch.held_back), str(batch.work)]


def _batch_from_json(saved: list[str]) -> Batch:
    return Batch(*map(Path, saved))


def _move_last_month(shared_data: Path, work: Path) -> BatchFiles:
    data = work / "data"
    shutil.copytree(shared_data, data)
    landing = data / "landing"
    held_back = work / "held_back"
    for table in EVENT_TABLES:
        (held_back / table).mkdir(parents=True)
        for path in (landing / table).glob(f"*__{HELD_BACK_MONTH}.*"):
            shutil.move(path, held_back / table / path.name)
    return BatchFiles(data, landing, held_back)


@pytest.fixture(scope="session")
def batch_files(shared_business_data: Path, tmp_path_factory: pytest.TempPathFactory) -> BatchFiles:
    """The shared business's files, the last month of events moved aside (once
    per run for every xdist worker: tests/once.py)."""
    return shared_files(shared_business_data, shared_root(tmp_path_factory))


def _build_base(files: BatchFiles, folder: Path, environ: Mapping[str, str]) -> Batch:
    """`cdp ingest` of the files and a build of SELECTION, in processes of their
    own with the environment `environ` (taken before a background thread starts,
    since the tests change os.environ meanwhile)."""
    work = folder / "base"
    work.mkdir()
    warehouse = work / "warehouse.duckdb"
    env = base_env(work, files.data, "duckdb", environ) | {"CDP_DUCKDB_PATH": str(warehouse)}
    landed = run_cdp(["ingest", "--input", str(files.landing)], env)
    assert landed.returncode == 0, landed.stdout[-6000:] + landed.stderr[-3000:]
    build(work, warehouse, environ=environ)  # dbt's target folder: folder / "dbt_target"
    return Batch(warehouse, files.landing, files.held_back, work)


@pytest.fixture(scope="session")
def base_batch(batch_files: BatchFiles, tmp_path_factory: pytest.TempPathFactory) -> Batch:
    """The files landed and built on DuckDB without the last month of events:
    built once per run, whichever xdist worker asks first (tests/once.py), so
    that the package's modules can run on different workers."""
    return shared_base(batch_files, shared_root(tmp_path_factory), os.environ)


@pytest.fixture(scope="session")
def worker_dbt_target(base_batch: Batch, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """This worker's dbt target folder for the tests' dbt runs (`run_dbt` puts
    it beside the test's folder: the worker's base temp), started as a copy of
    the base build's, so that the first run on this worker parses partially."""
    target = tmp_path_factory.getbasetemp() / "dbt_target"
    if not target.exists():
        shutil.copytree(base_batch.work.parent / "dbt_target", target)
    return target


@pytest.fixture
def batch(base_batch: Batch, worker_dbt_target: Path, tmp_path: Path) -> Batch:
    """A copy of the base warehouse a test may land into and rebuild."""
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copy(base_batch.warehouse, warehouse)
    return Batch(warehouse, base_batch.landing, base_batch.held_back, tmp_path)


# --- the harness: an incremental `cdp build` equals a full refresh -------------------

# Data tests and unit tests are left out of the harness's builds (the shared
# business runs them); dbt reads this from the environment of every phase.
MODELS_ONLY = {"DBT_EXCLUDE_RESOURCE_TYPES": "test unit_test"}


@dataclass(frozen=True)
class Complete:
    """A warehouse with every model and the scores built, without the held-back month."""

    warehouse: Path
    held_back: Path
    dbt_target: Path


def cdp_build(
    warehouse: Path, dbt_target: Path, *args: str, environ: Mapping[str, str] | None = None
) -> str:
    """`cdp build` (dbt, the scoring step, dbt) of every model, without tests, on
    `warehouse`; fails the test with the output when it fails."""
    env = base_env(warehouse.parent, warehouse.parent / "data", "duckdb", environ) | MODELS_ONLY
    env |= {"CDP_DUCKDB_PATH": str(warehouse), "DBT_TARGET_PATH": str(dbt_target)}
    done = run_cdp(["build", *args], env, timeout=1800)
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-3000:]
    return done.stdout + done.stderr


def run_cli(warehouse: Path, *args: str) -> str:
    """Another `cdp` command on `warehouse` (ingest, privacy erase, ...)."""
    env = base_env(warehouse.parent, warehouse.parent / "data", "duckdb")
    env |= {"CDP_DUCKDB_PATH": str(warehouse)}
    done = run_cdp(list(args), env)
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-3000:]
    return done.stdout + done.stderr


def execute(warehouse: Path, sql: str, params: Sequence[object] = ()) -> None:
    """One write statement on `warehouse`, as a source system's new rows land."""
    with duckdb.connect(str(warehouse)) as con:
        con.execute(sql, list(params))


def _build_complete(base: Batch, folder: Path, environ: Mapping[str, str]) -> Complete:
    warehouse = Path(shutil.copy(base.warehouse, folder / base.warehouse.name))
    target = folder / "dbt_target"
    cdp_build(warehouse, target, environ=environ)
    return Complete(warehouse, base.held_back, target)


def _complete_to_json(complete: Complete) -> list[str]:
    return [str(complete.warehouse), str(complete.held_back), str(complete.dbt_target)]


def _complete_from_json(saved: list[str]) -> Complete:
    return Complete(*map(Path, saved))


@pytest.fixture(scope="session")
def complete_base(base_batch: Batch, tmp_path_factory: pytest.TempPathFactory) -> Complete:
    """The base warehouse with the rest of the project built by `cdp build`
    (measures, predictions, segments, memberships): the start of every shape.
    Built once per run for every xdist worker (tests/once.py)."""
    return shared_complete(base_batch, shared_root(tmp_path_factory), os.environ)


# --- the three shared builds, started at the session's first test --------------------


def shared_files(shared_data: Path, root: Path) -> BatchFiles:
    """The shared business's files without the held-back month, made once per
    run in `root` (tests/once.py)."""
    return once(
        root,
        "incremental_files",
        lambda work: _move_last_month(shared_data, work),
        BatchFiles.to_json,
        BatchFiles.from_json,
    )


def shared_base(files: BatchFiles, root: Path, environ: Mapping[str, str]) -> Batch:
    """The base build of `files`, made once per run in `root`."""
    environ = dict(environ)
    return once(
        root,
        "incremental_base",
        lambda folder: _build_base(files, folder, environ),
        _batch_to_json,
        _batch_from_json,
    )


def shared_complete(base: Batch, root: Path, environ: Mapping[str, str]) -> Complete:
    """The complete build on a copy of `base`, made once per run in `root`."""
    environ = dict(environ)
    return once(
        root,
        "incremental_complete",
        lambda folder: _build_complete(base, folder, environ),
        _complete_to_json,
        _complete_from_json,
    )


def _make_shared_builds(shared_data: Path, root: Path, environ: Mapping[str, str]) -> Complete:
    """The three shared builds in the order the fixtures need them."""
    files = shared_files(shared_data, root)
    return shared_complete(shared_base(files, root, environ), root, environ)


@contextmanager
def start_shared_builds(shared_data: Path, root: Path) -> Iterator[Future[Complete]]:
    """The package's three shared builds, running in a background thread while
    the context is open (tests/conftest.py opens it at the session's first test
    when the package's tests are collected).

    Each build goes through tests/once.py with the same name and the same work
    as the fixture that reads it, so a fixture that asks while the thread is
    still building waits on the lock and then reads the result, and a fixture on
    another xdist worker does the same. The environment is taken now, before the
    thread starts: tests change os.environ while it runs."""
    environ = dict(os.environ)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="incremental") as pool:
        yield pool.submit(_make_shared_builds, shared_data, root, environ)
