"""One ingestion asset per raw table, one multi-asset (op) per source system.

Asset keys are `raw/<table>`; the dbt translator maps dbt sources to the same keys
so the graph is connected. Tables come from the dbt source YAMLs (the landing
registry), so a new declared raw table gets its asset without code here.
"""

import os
import tempfile
from collections import defaultdict
from pathlib import Path
from typing import Any

from dagster import (
    AssetExecutionContext,
    AssetKey,
    AssetSpec,
    Config,
    Definitions,
    Failure,
    MaterializeResult,
    MetadataValue,
    definitions,
    multi_asset,
)
from pydantic import Field

from cdp.landing import IngestResult, Registry, TableSpec, ingest, load_registry
from orchestration.defs.landing_files import SeenFile, scan
from orchestration.defs.project import settings
from orchestration.defs.resources import LandingResource, WarehouseResource

RAW_PREFIX = "raw"
GROUP = "raw"


def raw_asset_key(table: str) -> AssetKey:
    return AssetKey([RAW_PREFIX, table])


class IngestConfig(Config):
    """Which files to land. Empty `files` (the daily run, a click in the UI): every file of
    the selected tables with a final name (temporary names such as `.part` are skipped)."""

    files: list[str] = Field(
        default_factory=list,
        description="Paths relative to the landing folder, e.g. shop_orders/2026-07.csv.",
    )
    sizes: dict[str, int] = Field(
        default_factory=dict,
        description="Size in bytes each file had when the sensor saw it settled; a file "
        "whose size changed since is refused (it is still being written).",
    )


def _chosen_files(
    landing_dir: Path, tables: list[TableSpec], registry: Registry, config: IngestConfig
) -> list[SeenFile]:
    names = {t.name for t in tables}
    present = [f for f in scan(landing_dir, registry) if f.table in names]
    if not config.files:
        return present
    wanted = {path for path in config.files if path.split("/", 1)[0] in names}
    by_path = {f.relative: f for f in present}
    missing = sorted(wanted - set(by_path))
    if missing:
        raise Failure(
            description=f"landing file(s) vanished before ingestion: {', '.join(missing)}",
            metadata={"missing": MetadataValue.text("\n".join(missing))},
        )
    changed = [
        f"{path}: {config.sizes[path]} bytes when seen, {by_path[path].size} now"
        for path in sorted(wanted)
        if path in config.sizes and config.sizes[path] != by_path[path].size
    ]
    if changed:
        raise Failure(
            description="landing file(s) changed after the sensor saw them complete (still "
            "being written?); nothing was landed: " + "; ".join(changed),
            metadata={"changed": MetadataValue.text("\n".join(changed))},
        )
    return [by_path[path] for path in sorted(wanted)]


def land(
    landing_dir: Path,
    warehouse_path: Path,
    dbt_project_dir: Path,
    files: list[SeenFile],
    log: object | None = None,
    target: str = "duckdb",
) -> IngestResult:
    """Land exactly `files` through `cdp.landing.ingest` (the same code as `cdp ingest`).

    The files are linked into a scratch folder with the landing layout, so the
    recorded source paths are the same as when the whole folder is landed.
    """
    say = getattr(log, "info", None)
    with tempfile.TemporaryDirectory(prefix="cdp-ingest-") as scratch:
        root = Path(scratch)
        for file in files:
            link = root / file.relative
            link.parent.mkdir(parents=True, exist_ok=True)
            os.symlink(landing_dir / file.relative, link)
        return ingest(root, warehouse_path, dbt_project_dir, progress=say, target=target)


def _raw_row_count(warehouse: WarehouseResource, table: str) -> int | None:
    import dataclasses

    from cdp.warehouse import connect_duckdb, open_warehouse

    query = f'select count(*) from raw."{table}"'
    try:  # informative only: no waiting when another process holds the DuckDB file
        if warehouse.target == "duckdb":
            with connect_duckdb(warehouse.path, read_only=True, timeout=0) as con:
                row = con.execute(query).fetchone()
        else:
            found = dataclasses.replace(settings(), target=warehouse.target)
            with open_warehouse(found) as opened:
                row = opened.one(query)
    except Exception:  # the table may not exist yet; the count is informative only
        return None
    return int(row[0]) if row else None


def build_ingestion_assets(registry: Registry) -> list:
    by_source: dict[str, list[TableSpec]] = defaultdict(list)
    for spec in registry:
        by_source[spec.source].append(spec)
    return [_source_asset(source, tables, registry) for source, tables in sorted(by_source.items())]


def _source_asset(source: str, tables: list[TableSpec], registry: Registry):  # type: ignore[no-untyped-def]
    specs = [
        AssetSpec(
            key=raw_asset_key(t.name),
            group_name=GROUP,
            description=f"Raw `{t.name}` landed from {t.format} files in "
            f"<landing>/{t.name}/ (declared in {t.declared_in.name}).",
            kinds={settings().target, t.format},
            metadata={"source_system": source, "file_format": t.format},
            skippable=True,
        )
        for t in tables
    ]

    @multi_asset(name=f"ingest_{source}", specs=specs, can_subset=True)
    def _ingest(
        context: AssetExecutionContext,
        config: IngestConfig,
        warehouse: WarehouseResource,
        landing: LandingResource,
    ):  # type: ignore[no-untyped-def]
        selected = [t for t in tables if raw_asset_key(t.name) in context.selected_asset_keys]
        files = _chosen_files(landing.landing_dir, selected, registry, config)
        context.log.info(f"landing {len(files)} file(s) for {', '.join(t.name for t in selected)}")
        result = land(
            landing.landing_dir,
            warehouse.path,
            settings().dbt_project_dir,
            files,
            context.log,
            target=warehouse.target,
        )
        if result.files_failed:
            failed = [
                f"{f.path}: {f.error}"
                for table in result.tables.values()
                for f in table.files
                if f.status == "failed"
            ]
            raise Failure(
                description=f"{result.files_failed} landing file(s) failed; downstream models "
                "are not built on partial data:\n" + "\n".join(failed),
                metadata={"failed_files": MetadataValue.text("\n".join(failed))},
            )
        for table in selected:
            outcome = result.tables.get(table.name)
            metadata: dict[str, Any] = {
                "files_loaded": outcome.files_loaded if outcome else 0,
                "files_skipped": outcome.files_skipped if outcome else 0,
                "rows_loaded": outcome.rows_loaded if outcome else 0,
                "rows_rejected": outcome.rows_rejected if outcome else 0,
            }
            total = _raw_row_count(warehouse, table.name)
            if total is not None:
                metadata["dagster/row_count"] = total
            if outcome and outcome.all_warnings():
                metadata["warnings"] = MetadataValue.text("\n".join(outcome.all_warnings()))
            yield MaterializeResult(asset_key=raw_asset_key(table.name), metadata=metadata)

    return _ingest


def load_landing_registry() -> Registry:
    return load_registry(settings().dbt_project_dir)


@definitions
def defs() -> Definitions:
    """The ingestion assets of the tables declared when the definitions load."""
    return Definitions(assets=build_ingestion_assets(load_landing_registry()))
