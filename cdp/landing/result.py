"""What an ingest run did, per table and per file, and its plain-text summary."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Literal

FileOutcomeStatus = Literal["loaded", "skipped", "failed"]


@dataclass
class FileResult:
    """One file: loaded (with row counts), skipped as already landed, or failed."""

    path: str
    status: FileOutcomeStatus
    rows_in: int = 0
    rows_loaded: int = 0
    rows_rejected: int = 0
    warnings: list[str] = field(default_factory=list)
    error: str | None = None
    same_as: str | None = None  # for a skipped file: the landed file with the same content
    rows_erased: int = 0  # rows of erased people dropped before landing (not in rows_in)

    @classmethod
    def loaded(cls, path: str, rows_in: int, rows_rejected: int, warnings: list[str]) -> FileResult:
        """A file that landed: every row in is loaded or rejected."""
        return cls(
            path=path,
            status="loaded",
            rows_in=rows_in,
            rows_loaded=rows_in - rows_rejected,
            rows_rejected=rows_rejected,
            warnings=warnings,
        )


@dataclass
class TableResult:
    table: str
    files: list[FileResult] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)  # about the table folder itself

    @property
    def files_found(self) -> int:
        return len(self.files)

    @property
    def files_loaded(self) -> int:
        return sum(f.status == "loaded" for f in self.files)

    @property
    def files_skipped(self) -> int:
        return sum(f.status == "skipped" for f in self.files)

    @property
    def files_failed(self) -> int:
        return sum(f.status == "failed" for f in self.files)

    @property
    def rows_in(self) -> int:
        return sum(f.rows_in for f in self.files)

    @property
    def rows_loaded(self) -> int:
        return sum(f.rows_loaded for f in self.files)

    @property
    def rows_rejected(self) -> int:
        return sum(f.rows_rejected for f in self.files)

    @property
    def rows_erased(self) -> int:
        return sum(f.rows_erased for f in self.files)

    def all_warnings(self) -> list[str]:
        """Folder warnings, then each file's warnings and failure prefixed with its path."""
        notes = list(self.warnings)
        for f in self.files:
            notes += [f"{f.path}: {w}" for w in f.warnings]
            if f.error:
                notes.append(f"{f.path}: FAILED: {f.error}")
        return notes


@dataclass
class IngestResult:
    input_dir: Path
    warehouse_path: Path
    loaded_at: datetime
    tables: dict[str, TableResult] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)  # about the input folder

    @property
    def files_loaded(self) -> int:
        return sum(t.files_loaded for t in self.tables.values())

    @property
    def files_skipped(self) -> int:
        return sum(t.files_skipped for t in self.tables.values())

    @property
    def files_failed(self) -> int:
        return sum(t.files_failed for t in self.tables.values())

    @property
    def rows_loaded(self) -> int:
        return sum(t.rows_loaded for t in self.tables.values())

    @property
    def rows_rejected(self) -> int:
        return sum(t.rows_rejected for t in self.tables.values())

    @property
    def rows_erased(self) -> int:
        return sum(t.rows_erased for t in self.tables.values())

    def all_warnings(self) -> list[str]:
        notes = list(self.warnings)
        for name in sorted(self.tables):
            notes += [f"{name}: {w}" for w in self.tables[name].all_warnings()]
        return notes

    def render(self) -> str:
        """A short plain-text table: files and rows per raw table, then the warnings."""
        return render_summary(self)


_HEADERS = ("table", "files", "loaded", "skipped", "failed", "rows in", "landed", "rejected")


def render_summary(result: IngestResult) -> str:
    """Tables that had files, one line each, a total line, then every warning."""
    shown = {name: t for name, t in result.tables.items() if t.files or t.warnings}
    idle = sorted(set(result.tables) - set(shown))
    rows = [
        (
            t.table,
            t.files_found,
            t.files_loaded,
            t.files_skipped,
            t.files_failed,
            t.rows_in,
            t.rows_loaded,
            t.rows_rejected,
        )
        for _, t in sorted(shown.items())
    ]
    totals = ("total", *(sum(int(r[i]) for r in rows) for i in range(1, len(_HEADERS))))
    cells = [[str(v) if i == 0 else f"{v:,}" for i, v in enumerate(r)] for r in [*rows, totals]]
    widths = [max(len(h), *(len(c[i]) for c in cells)) for i, h in enumerate(_HEADERS)]

    def line(values: list[str] | tuple[str, ...]) -> str:
        first = values[0].ljust(widths[0])
        rest = (v.rjust(w) for v, w in zip(values[1:], widths[1:], strict=True))
        return "  ".join([first, *rest]).rstrip()

    out = [line(_HEADERS), line(["-" * w for w in widths])]
    out += [line(c) for c in cells[:-1]]
    out += [line(["-" * w for w in widths]), line(cells[-1])]
    if idle:
        out.append(f"no files for: {', '.join(idle)}")
    warnings = result.all_warnings()
    if warnings:
        out.append(f"\n{len(warnings)} warning(s):")
        out += [f"  - {w}" for w in warnings]
    if result.rows_rejected:
        out.append("rejected rows and their reasons: select * from raw._rejects")
    if result.rows_erased:
        out.append(
            f"{result.rows_erased:,} row(s) of erased people not landed "
            "(counted in privacy.erasure_skips)"
        )
    return "\n".join(out)
