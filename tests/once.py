"""Work done once per test run, whichever pytest-xdist worker asks for it first.

`make test` runs the suite on two xdist workers (docs/testing.md). A session
fixture is set up once per worker, so a build behind one would run on both.
`once()` makes the work itself shared: the first process to ask takes an
exclusive lock (fcntl) on `<name>.lock` in a folder every worker of the run
sees, does the work in `<name>/`, and writes what it produced to
`<name>.json`; a process that asks later waits for the lock and reads the
JSON. When the work raised, the JSON holds the error, and the later processes
fail with it instead of doing the work again. Without xdist the folder is the
run's own temporary folder, and `once()` is just a call.

The folder is new for every run (pytest's numbered base temp), so nothing is
read from an earlier run.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import pytest

T = TypeVar("T")


class SharedWorkFailed(RuntimeError):
    """The work failed in another worker; its traceback is the message."""


def shared_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The folder every worker of this run shares: the base temp folder, or its
    parent under xdist (each worker's base temp is `<run>/popen-gwN`)."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


@contextmanager
def _exclusive(lock: Path) -> Iterator[None]:
    with lock.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def once(
    root: Path,
    name: str,
    make: Callable[[Path], T],
    dump: Callable[[T], Any],
    load: Callable[[Any], T],
) -> T:
    """`make(root / name)` in the first process that asks; `load` of what it
    `dump`ed in every other one. Blocks while another process is making it."""
    folder, record = root / name, root / f"{name}.json"
    with _exclusive(root / f"{name}.lock"):
        if record.exists():
            saved = json.loads(record.read_text(encoding="utf-8"))
            if "error" in saved:
                raise SharedWorkFailed(f"{name} failed in another worker:\n{saved['error']}")
            return load(saved["value"])
        if folder.exists():  # left by a worker that died while making it
            shutil.rmtree(folder)
        folder.mkdir(parents=True)
        try:
            value = make(folder)
        except BaseException:
            _write(record, {"error": traceback.format_exc()})
            raise
        _write(record, {"value": dump(value)})
        return value


def _write(record: Path, content: dict[str, Any]) -> None:
    partial = record.with_suffix(".partial")
    partial.write_text(json.dumps(content), encoding="utf-8")
    partial.replace(record)
