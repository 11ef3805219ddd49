"""Which landing files are ready: complete, visible, with the table's extension.

A file is never read while it may still be written. Names starting with '.' and
the usual temporary suffixes (.part, .tmp, .crdownload, .partial, .filepart) are
skipped; everything else must keep the same size and modification time between two
sensor ticks and be at least `settle_seconds` old before it counts as ready.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from cdp.landing import Registry

TEMPORARY_SUFFIXES = (".part", ".tmp", ".crdownload", ".partial", ".filepart", ".swp")


@dataclass(frozen=True)
class SeenFile:
    """A landing file as observed: path relative to the landing folder, size, mtime."""

    table: str
    relative: str
    size: int
    mtime_ns: int

    @property
    def signature(self) -> list[int]:
        return [self.size, self.mtime_ns]


def is_temporary(name: str) -> bool:
    lowered = name.lower()
    return lowered.startswith(".") or lowered.endswith(TEMPORARY_SUFFIXES)


def scan(landing_dir: Path, registry: Registry) -> list[SeenFile]:
    """Every candidate file of every declared table, in path order."""
    seen: list[SeenFile] = []
    if not landing_dir.is_dir():
        return seen
    for spec in registry:
        folder = landing_dir / spec.name
        if not folder.is_dir():
            continue
        for entry in sorted(folder.iterdir()):
            if is_temporary(entry.name) or entry.suffix.lower() != spec.extension:
                continue
            try:
                stat = entry.stat()
            except OSError:
                continue
            if entry.is_file():
                seen.append(
                    SeenFile(spec.name, f"{spec.name}/{entry.name}", stat.st_size, stat.st_mtime_ns)
                )
    return seen


def settled(file: SeenFile, previous: list[int] | None, settle_seconds: float) -> bool:
    """Same size and mtime as on the previous tick, and old enough."""
    if previous is None or list(previous) != file.signature:
        return False
    return time.time() - file.mtime_ns / 1e9 >= settle_seconds
