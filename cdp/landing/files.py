"""The input folder: which files wait to be landed, and their content hashes.

Layout: `<input>/<table_name>/*.<csv|jsonl|parquet>`, one sub-folder per raw
table. Only the direct children of a table folder are read; hidden entries
(names starting with '.') are ignored without a word, anything else that does
not fit gives a warning.
"""

from __future__ import annotations

import hashlib
import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path

from cdp.landing.errors import LandingError
from cdp.landing.registry import Registry

_HASH_CHUNK = 4 * 1024 * 1024
_UTF8_BOM = b"\xef\xbb\xbf"


@dataclass(frozen=True)
class SourceFile:
    """One input file: its path, and its path relative to the input folder (for the record)."""

    table: str
    path: Path
    relative: str  # always valid UTF-8: bytes of a name that are not show as \xNN

    @property
    def name_is_utf8(self) -> bool:
        """Whether the file's name is valid UTF-8 (the database readers need it to be)."""
        return is_utf8(str(self.path))


@dataclass
class Discovery:
    """The files found per declared table, plus warnings about everything else."""

    files: dict[str, list[SourceFile]] = field(default_factory=dict)
    table_warnings: dict[str, list[str]] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


def is_utf8(name: str) -> bool:
    """Whether a name from the file system decoded cleanly (no surrogate escapes)."""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def shown(name: str) -> str:
    """A file system name as text that can be printed and stored: bad bytes as \\xNN."""
    return os.fsencode(name).decode("utf-8", "backslashreplace")


def _kind(entry: Path) -> str:
    """What a directory entry that is not a regular file or folder is, for warnings."""
    try:
        mode = entry.stat().st_mode
    except OSError:
        return "a broken symbolic link" if entry.is_symlink() else "cannot be examined"
    if stat.S_ISFIFO(mode):
        return "not a regular file (a FIFO)"
    if stat.S_ISSOCK(mode):
        return "not a regular file (a socket)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "not a regular file (a device)"
    return "not a regular file"


def check_input_dir(input_dir: Path) -> None:
    """Raise LandingError unless input_dir is a folder we can list."""
    if not input_dir.exists():
        raise LandingError(f"input folder not found: {input_dir}")
    if not input_dir.is_dir():
        raise LandingError(f"input path is not a folder: {input_dir}")
    if not os.access(input_dir, os.R_OK | os.X_OK):
        raise LandingError(f"input folder is not readable: {input_dir}")
    try:
        with os.scandir(input_dir):
            pass
    except OSError as exc:
        raise LandingError(f"input folder is not readable: {input_dir} ({exc.strerror})") from exc


def discover(input_dir: Path, registry: Registry) -> Discovery:
    """List the landing files of every declared table, in path order."""
    found = Discovery()
    for table in registry:
        found.files[table.name] = []
        found.table_warnings[table.name] = []
    for entry in sorted(input_dir.iterdir()):
        if entry.name.startswith("."):
            continue
        spec = registry.get(entry.name)
        if not entry.is_dir():
            found.warnings.append(
                f"ignored {shown(entry.name)}: files belong in a sub-folder per table"
            )
        elif spec is None:
            found.warnings.append(
                f"ignored sub-folder {shown(entry.name)}/: no raw table of that name is declared"
            )
        else:
            _discover_table(input_dir, entry, spec.extension, found)
    return found


def _discover_table(input_dir: Path, folder: Path, extension: str, found: Discovery) -> None:
    table = folder.name
    warnings = found.table_warnings[table]
    try:
        entries = sorted(folder.iterdir())
    except OSError as exc:
        warnings.append(f"cannot list {table}/: {exc.strerror}")
        return
    for entry in entries:
        relative = shown(entry.relative_to(input_dir).as_posix())
        if entry.name.startswith("."):
            continue
        if entry.is_file() and entry.suffix.lower() == extension:
            found.files[table].append(SourceFile(table, entry, relative))
        elif entry.suffix.lower() == extension and not entry.is_dir():
            warnings.append(
                f"ignored {relative}: {_kind(entry)}; put the data in a regular file to land it"
            )
        elif entry.is_dir():
            warnings.append(f"ignored {relative}/: sub-folders of a table folder are not read")
        else:
            warnings.append(f"ignored {relative}: {table} is landed from {extension} files")


@dataclass(frozen=True)
class FileStats:
    """What one pass over a file's bytes tells: its identity, text size and line breaks.

    `text_bytes` is the size less a UTF-8 BOM and every CR and LF byte: the bytes
    a line reader must return as line content, which lets the loader prove that
    it read every byte of a text file.

    The line reader takes every CR and every LF byte as a line break, so a CRLF
    pair reads as two: the empty "line" between its CR and its LF is not a line
    of the file. `crlf_runs` lists those phantom lines (1-based, in the reader's
    numbering) as runs `(first, count)` of every other line: first, first + 2,
    ... (consecutive CRLF pairs). `reader_lines` is how many lines the reader
    must return.
    """

    sha256: str
    size: int
    text_bytes: int
    crlf_runs: tuple[tuple[int, int], ...] = ()
    reader_lines: int = 0

    @property
    def phantom_lines(self) -> int:
        return sum(count for _, count in self.crlf_runs)


_BREAK = re.compile(rb"\r\n|\r|\n")


class _BreakCounter:
    """Counts line-break bytes and finds CRLF pairs, one chunk of a file at a time."""

    def __init__(self) -> None:
        self.breaks = 0  # CR and LF bytes so far
        self.runs: list[list[int]] = []
        self._pending_cr = False  # the last byte seen was a CR
        self.tail = 0  # bytes after the last break

    def _phantoms(self, first: int, count: int) -> None:
        if count <= 0:
            return
        if self.runs and self.runs[-1][0] + 2 * self.runs[-1][1] == first:
            self.runs[-1][1] += count
        else:
            self.runs.append([first, count])

    def feed(self, chunk: bytes) -> None:
        if self._pending_cr and chunk.startswith(b"\n"):
            self._phantoms(self.breaks + 1, 1)  # the CR was break number self.breaks
            self.breaks += 1
            chunk = chunk[1:]
            self.tail = 0
        self._pending_cr = False
        if not chunk:
            return
        cr, lf = chunk.count(b"\r"), chunk.count(b"\n")
        last = max(chunk.rfind(b"\r"), chunk.rfind(b"\n"))
        self.tail = len(chunk) - 1 - last if last >= 0 else self.tail + len(chunk)
        if cr:
            crlf = chunk.count(b"\r\n")
            trailing_cr = chunk.endswith(b"\r")
            if lf == crlf and cr == crlf + trailing_cr:  # only CRLF pairs (and a last CR)
                self._phantoms(self.breaks + 2, crlf)
                self.breaks += cr + lf
            else:
                for found in _BREAK.finditer(chunk):
                    if found.end() - found.start() == 2:
                        self._phantoms(self.breaks + 2, 1)
                    self.breaks += found.end() - found.start()
            self._pending_cr = trailing_cr
        else:
            self.breaks += lf


def inspect_file(path: Path) -> FileStats:
    """Hash and measure a file in one streaming pass; raises OSError.

    Opened without blocking, and only read when it is a regular file: a FIFO
    swapped in after discovery fails instead of waiting for a writer forever.
    """
    digest = hashlib.sha256()
    size = 0
    bom = False
    counter = _BreakCounter()
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise OSError(0, "not a regular file")
    with os.fdopen(fd, "rb") as handle:
        while chunk := handle.read(_HASH_CHUNK):
            if size == 0:
                bom = chunk.startswith(_UTF8_BOM)
            digest.update(chunk)
            size += len(chunk)
            counter.feed(chunk)
    bom_bytes = len(_UTF8_BOM) if bom else 0
    text_bytes = size - counter.breaks - bom_bytes
    tail = counter.tail - (bom_bytes if counter.breaks == 0 else 0)
    return FileStats(
        digest.hexdigest(),
        size,
        text_bytes,
        crlf_runs=tuple((first, count) for first, count in counter.runs),
        reader_lines=counter.breaks + (1 if tail > 0 else 0),
    )
