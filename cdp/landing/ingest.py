"""The ingest run: check the input, read the declarations, land every new file."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from cdp.landing.engines import check_target, open_warehouse
from cdp.landing.engines.protocol import Warehouse
from cdp.landing.errors import FileFailed
from cdp.landing.files import FileStats, SourceFile, check_input_dir, discover, inspect_file
from cdp.landing.limits import ColumnLimits
from cdp.landing.manifest import ManifestEntry
from cdp.landing.registry import TableSpec, load_registry
from cdp.landing.result import FileResult, IngestResult, TableResult

Progress = Callable[[str], None]


def ingest(
    input_dir: Path,
    warehouse_path: Path,
    dbt_project_dir: Path,
    progress: Progress | None = None,
    *,
    target: str = "duckdb",
) -> IngestResult:
    """Land every new file of `input_dir` into the `raw` schema of the warehouse.

    `target` is duckdb (the file at `warehouse_path`), postgres or spark (their
    connection settings come from the environment, see engines.py; then
    `warehouse_path` is only reported).

    Raises LandingError, before the warehouse is opened or created, when the
    input folder is missing, not a folder or unreadable, or a source declaration
    is malformed, or a setting of `limits.py` is not a number. Bad rows and bad
    files never raise: see IngestResult.
    """
    say: Progress = progress or (lambda _message: None)
    check_target(target)
    limits = ColumnLimits.from_env()
    input_dir = Path(input_dir)
    check_input_dir(input_dir)
    registry = load_registry(Path(dbt_project_dir))
    found = discover(input_dir, registry)
    loaded_at = datetime.now(UTC).replace(tzinfo=None)
    result = IngestResult(input_dir, Path(warehouse_path), loaded_at, warnings=found.warnings)
    total = sum(len(files) for files in found.files.values())
    say(f"{total} file(s) for {len(registry.tables)} raw table(s) in {input_dir}")
    warehouse = open_warehouse(target, Path(warehouse_path))
    try:
        result.warnings += warehouse.prepare(registry)
        for spec in registry:
            table = TableResult(spec.name, warnings=found.table_warnings[spec.name])
            result.tables[spec.name] = table
            for file in found.files[spec.name]:
                table.files.append(land_one(warehouse, spec, file, loaded_at, say, limits))
    finally:
        warehouse.close()
    say(
        f"landed {result.rows_loaded:,} row(s) from {result.files_loaded} file(s), "
        f"rejected {result.rows_rejected:,}, skipped {result.files_skipped} file(s) "
        f"already landed, {result.files_failed} failed"
    )
    return result


def land_one(
    warehouse: Warehouse,
    spec: TableSpec,
    file: SourceFile,
    loaded_at: datetime,
    say: Progress,
    limits: ColumnLimits | None = None,
) -> FileResult:
    """Land one file unless its content was landed before; never raises for bad input."""
    try:
        stats = inspect_file(file.path)
    except OSError as exc:
        reason = (
            f"cannot read file: {exc.strerror or exc}: make it a readable regular file, "
            "then run cdp ingest again"
        )
        return _failed(warehouse, spec, file, None, reason, loaded_at, say)
    if not file.name_is_utf8:
        reason = (
            f"the file name is not valid UTF-8: rename {file.relative} to a UTF-8 name, "
            "then run cdp ingest again"
        )
        return _failed(warehouse, spec, file, stats, reason, loaded_at, say)
    same = warehouse.landed_as(spec.name, stats.sha256)
    if same is not None:
        note = "" if same == file.relative else f" (same content as {same})"
        say(f"{file.relative}: skipped, already landed{note}")
        return FileResult(file.relative, "skipped", same_as=same)
    say(f"{file.relative}: landing {stats.size:,} bytes")
    try:
        landed = warehouse.land_file(spec, file, stats, loaded_at, limits or ColumnLimits())
    except FileFailed as exc:
        return _failed(warehouse, spec, file, stats, str(exc), loaded_at, say)
    say(
        f"{file.relative}: {landed.rows_in:,} row(s) in, {landed.rows_loaded:,} landed, "
        f"{landed.rows_rejected:,} rejected"
    )
    return landed


def _failed(
    warehouse: Warehouse,
    spec: TableSpec,
    file: SourceFile,
    stats: FileStats | None,
    reason: str,
    loaded_at: datetime,
    say: Progress,
) -> FileResult:
    warehouse.record_failure(
        ManifestEntry(
            source_file=file.relative,
            table_name=spec.name,
            sha256=stats.sha256 if stats else None,
            size_bytes=stats.size if stats else None,
            status="failed",
            rows_in=0,
            rows_loaded=0,
            rows_rejected=0,
            error=reason,
            loaded_at=loaded_at,
        )
    )
    say(f"{file.relative}: FAILED: {reason}")
    return FileResult(file.relative, "failed", error=reason)
