"""Another process holding a DuckDB file, for the lock-waiting tests
(tests/test_warehouse_access.py, tests/test_concurrency.py)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

SCRIPT_NAME = "lock_holder.py"
HOLDER = """\
import sys, time
from cdp.warehouse import connect_duckdb
con = connect_duckdb(sys.argv[1], read_only=sys.argv[2] == "ro")
print("ready", flush=True)
time.sleep(float(sys.argv[3]))
con.close()
"""


@contextmanager
def holding(path: Path, seconds: float = 300, mode: str = "rw") -> Iterator[subprocess.Popen[str]]:
    """Another process (`python .../lock_holder.py`, written beside `path`) holding the
    DuckDB file at `path` (read-write, or read-only with mode "ro") for up to `seconds`."""
    script = path.parent / SCRIPT_NAME
    script.write_text(HOLDER)
    process = subprocess.Popen(
        [sys.executable, str(script), str(path), mode, str(seconds)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        assert process.stdout.readline().strip() == "ready"
        yield process
    finally:
        process.kill()
        process.wait()
