"""What to land: the raw tables declared in the dbt source YAMLs.

Each `models/staging/*/_*__sources.yml` source with `schema: raw` lists tables
whose `meta.landing` says the file format and the columns a row cannot do
without; each column's `data_type` is the portable type a value must cast to.
Tables without `meta.landing` are not landed by this package and are ignored.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml

from cdp.landing.errors import LandingError

FileFormat = Literal["csv", "jsonl", "parquet"]
FORMATS: tuple[FileFormat, ...] = ("csv", "jsonl", "parquet")
EXTENSIONS: Mapping[FileFormat, str] = {"csv": ".csv", "jsonl": ".jsonl", "parquet": ".parquet"}
SOURCES_GLOB = "models/staging/*/_*__sources.yml"
RAW_SCHEMA = "raw"

_SIMPLE_TYPES = frozenset({"bigint", "integer", "varchar", "boolean", "date", "timestamp", "json"})
_DECIMAL = re.compile(r"decimal\(\s*(\d+)\s*,\s*(\d+)\s*\)")
_IDENTIFIER = re.compile(r"[a-z_][a-z0-9_]*")


@dataclass(frozen=True)
class DataType:
    """A portable column type: one of the simple names, or decimal with precision and scale."""

    name: str
    precision: int | None = None
    scale: int | None = None

    def __str__(self) -> str:
        if self.name == "decimal":
            return f"decimal({self.precision},{self.scale})"
        return self.name

    @classmethod
    def parse(cls, text: str) -> DataType:
        """Parse `bigint`, `decimal(12,2)`, ... (case and spaces ignored); ValueError if unknown."""
        cleaned = text.strip().lower()
        if cleaned in _SIMPLE_TYPES:
            return cls(cleaned)
        match = _DECIMAL.fullmatch(cleaned)
        if match:
            precision, scale = int(match.group(1)), int(match.group(2))
            if 1 <= precision <= 38 and scale <= precision:
                return cls("decimal", precision, scale)
        allowed = ", ".join(sorted(_SIMPLE_TYPES)) + ", decimal(p,s)"
        raise ValueError(f"unknown data_type {text!r} (allowed: {allowed})")


VARCHAR = DataType("varchar")


@dataclass(frozen=True)
class ColumnSpec:
    name: str
    data_type: DataType


@dataclass(frozen=True)
class TableSpec:
    """One raw table: where its files come from and what its rows must look like."""

    name: str
    source: str
    format: FileFormat
    columns: tuple[ColumnSpec, ...]
    required: tuple[str, ...]
    declared_in: Path

    @property
    def extension(self) -> str:
        return EXTENSIONS[self.format]

    def column(self, name: str) -> ColumnSpec | None:
        return next((c for c in self.columns if c.name == name), None)


@dataclass(frozen=True)
class Registry:
    """Every landed raw table by name."""

    tables: Mapping[str, TableSpec]

    def __iter__(self) -> Iterator[TableSpec]:
        """The tables in name order."""
        return iter([self.tables[name] for name in sorted(self.tables)])

    def get(self, name: str) -> TableSpec | None:
        return self.tables.get(name)


class _Malformed(Exception):
    """A declaration problem; turned into a LandingError naming file and table."""


def load_registry(dbt_project_dir: Path) -> Registry:
    """Read every source YAML of the dbt project into a Registry.

    Raises LandingError (one line, naming the file and table) when the project
    folder is missing or a declaration is malformed: unknown format or
    data_type, a required column that is not declared, a duplicate table.
    """
    if not dbt_project_dir.is_dir():
        raise LandingError(f"dbt project folder not found: {dbt_project_dir}")
    tables: dict[str, TableSpec] = {}
    for path in sorted(dbt_project_dir.glob(SOURCES_GLOB)):
        for spec in _read_sources_file(path):
            if spec.name in tables:
                earlier = tables[spec.name].declared_in
                raise LandingError(
                    f"{path}: table {spec.name}: raw table already declared in {earlier}"
                )
            tables[spec.name] = spec
    return Registry(tables)


def _read_sources_file(path: Path) -> list[TableSpec]:
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        detail = " ".join(str(exc).split())
        raise LandingError(f"{path}: cannot read source declarations: {detail}") from exc
    if not isinstance(document, dict):
        raise LandingError(f"{path}: expected a mapping with a `sources` list")
    specs: list[TableSpec] = []
    for source in _as_list(document.get("sources"), path, "sources"):
        if not isinstance(source, dict) or not source.get("name"):
            raise LandingError(f"{path}: every source needs a name")
        for table in _as_list(source.get("tables"), path, f"source {source['name']} tables"):
            name = table.get("name") if isinstance(table, dict) else None
            if not name:
                raise LandingError(f"{path}: source {source['name']}: a table has no name")
            try:
                spec = _table_spec(source, table, path)
            except _Malformed as exc:
                raise LandingError(f"{path}: table {name}: {exc}") from exc
            if spec is not None:
                specs.append(spec)
    return specs


def _as_list(value: Any, path: Path, what: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise LandingError(f"{path}: {what} must be a list")
    return value


def _landing_meta(table: Mapping[str, Any]) -> Any:
    """`meta.landing`, also accepted under `config.meta` (dbt 1.10 style)."""
    for holder in (table, table.get("config") or {}):
        meta = holder.get("meta") if isinstance(holder, dict) else None
        if isinstance(meta, dict) and "landing" in meta:
            return meta["landing"]
    return None


def _table_spec(
    source: Mapping[str, Any], table: Mapping[str, Any], path: Path
) -> TableSpec | None:
    landing = _landing_meta(table)
    if landing is None:
        return None
    if not isinstance(landing, dict):
        raise _Malformed("meta.landing must be a mapping with format and required")
    schema = source.get("schema")
    if schema != RAW_SCHEMA:
        raise _Malformed(f"landed tables must be in schema {RAW_SCHEMA!r}, not {schema!r}")
    name = str(table["name"])
    if not _IDENTIFIER.fullmatch(name):
        raise _Malformed("table name must be lowercase letters, digits and underscores")
    file_format = landing.get("format")
    if file_format not in FORMATS:
        raise _Malformed(f"meta.landing.format must be one of {', '.join(FORMATS)}")
    columns = _columns(table.get("columns"))
    required = landing.get("required") or []
    if not isinstance(required, list) or not all(isinstance(r, str) for r in required):
        raise _Malformed("meta.landing.required must be a list of column names")
    declared = {c.name for c in columns}
    unknown = [r for r in required if r not in declared]
    if unknown:
        raise _Malformed(f"required column {unknown[0]!r} is not among the declared columns")
    return TableSpec(
        name=name,
        source=str(source["name"]),
        format=file_format,
        columns=columns,
        required=tuple(dict.fromkeys(required)),
        declared_in=path,
    )


def _columns(raw_columns: Any) -> tuple[ColumnSpec, ...]:
    if not isinstance(raw_columns, list) or not raw_columns:
        raise _Malformed("needs a non-empty columns list")
    columns: list[ColumnSpec] = []
    seen: set[str] = set()
    for column in raw_columns:
        if not isinstance(column, dict) or not column.get("name"):
            raise _Malformed("every column needs a name")
        name = str(column["name"])
        if not _IDENTIFIER.fullmatch(name) or name.startswith("_"):
            raise _Malformed(
                f"column {name!r}: names must be lowercase letters, digits and underscores "
                "and must not start with '_' (reserved for load metadata)"
            )
        if name in seen:
            raise _Malformed(f"column {name!r} is declared twice")
        seen.add(name)
        if not column.get("data_type"):
            raise _Malformed(f"column {name!r} has no data_type")
        try:
            data_type = DataType.parse(str(column["data_type"]))
        except ValueError as exc:
            raise _Malformed(f"column {name!r}: {exc}") from exc
        columns.append(ColumnSpec(name, data_type))
    return tuple(columns)
