"""The raw tables of sources that declare identity in YAML, from the dbt manifest.

A staging model's `config.meta.cdp_identity` (docs/identity.md, "Declared
identifiers") names the identity record its rows are: `source_name`,
`record_id` and, when staging renamed it, `raw_record_id` (the raw column).
Its raw table (the model's one dbt source) then matches an erased person's
rows by the record key `<source_name>:<raw_record_id>`, like the shipped
tables of `cdp.landing.tombstones.TABLE_KEYS`, without a Python change. The
manifest is the one the CLI names in `CDP_DBT_MANIFEST` (else the settings'
default); without one, only the shipped tables are known, and an erasure
reports the others as not searched.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any, Generic, TypeVar

Keys = TypeVar("Keys")


def declared_record_keys(manifest: Mapping[str, Any]) -> dict[str, tuple[str, str]]:
    """raw table -> (namespace, column template) of every declaring staging model."""
    nodes = manifest.get("nodes") or {}
    sources = manifest.get("sources") or {}
    found: dict[str, tuple[str, str]] = {}
    for node in nodes.values():
        declaration = (node.get("config") or {}).get("meta", {}).get("cdp_identity")
        if node.get("resource_type") != "model" or not isinstance(declaration, Mapping):
            continue
        parents = [p for p in node.get("depends_on", {}).get("nodes", []) if p in sources]
        column = declaration.get("raw_record_id") or declaration.get("record_id")
        namespace = declaration.get("source_name")
        if len(parents) != 1 or not isinstance(column, str) or not isinstance(namespace, str):
            continue
        source = sources[parents[0]]
        found[str(source.get("identifier") or source["name"])] = (namespace, "{" + column + "}")
    return found


def manifest_path() -> Path | None:
    named = os.environ.get("CDP_DBT_MANIFEST")
    if named:
        return Path(named)
    from cdp.config import Settings
    from cdp.dbt import manifest_path as settings_manifest

    return settings_manifest(Settings.from_env())


class DeclaredTableKeys(Mapping[str, Keys], Generic[Keys]):
    """`shipped`, then a `make(namespace, column)` entry per declared raw table the
    shipped ones do not cover; the manifest is re-read when it changes."""

    def __init__(self, shipped: Mapping[str, Keys], make: Callable[[str, str], Keys]) -> None:
        self._shipped = dict(shipped)
        self._make = make
        self._seen: tuple[Path, float] | None = None
        self._all: dict[str, Keys] = self._shipped

    def _current(self) -> dict[str, Keys]:
        path = manifest_path()
        if path is None or not path.is_file():
            return self._shipped
        stamp = (path, path.stat().st_mtime)
        if stamp != self._seen:
            try:
                declared = declared_record_keys(json.loads(path.read_text()))
            except (ValueError, AttributeError, KeyError, TypeError):
                declared = {}  # not a manifest dbt wrote: the shipped tables only
            self._all = {
                **self._shipped,
                **{
                    table: self._make(*key)
                    for table, key in declared.items()
                    if table not in self._shipped
                },
            }
            self._seen = stamp
        return self._all

    def __getitem__(self, table: str) -> Keys:
        return self._current()[table]

    def __iter__(self) -> Iterator[str]:
        return iter(self._current())

    def __len__(self) -> int:
        return len(self._current())
