"""A real `cdp serve` process per test (or module), on a free localhost port.

`Collector` starts the command as a subprocess with its own data folder, waits
for `/health`, and can be stopped gracefully (SIGTERM: the spool rolls) or
killed (SIGKILL, for the durability tests) and started again on the same
folders."""

from __future__ import annotations

import base64
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

REPO = Path(__file__).resolve().parents[2]
CDP = Path(sys.executable).parent / "cdp"
WRITE_KEY = "test-web-key"
APP_KEY = "test-app-key"
START_TIMEOUT = 30.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def basic(key: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{key}:".encode()).decode()}


class Collector:
    """One `cdp serve` subprocess over `data_dir`."""

    def __init__(
        self, data_dir: Path, env: dict[str, str] | None = None, light: bool = False
    ) -> None:
        # light: `python -m cdp.serve.cli`, the same command without the imports
        # of the whole `cdp` group (seconds per start under load; the kill test
        # restarts a dozen times).
        self.command = [sys.executable, "-m", "cdp.serve.cli"] if light else [str(CDP), "serve"]
        self.data_dir = data_dir
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = dict(os.environ)
        self.env.update(
            {
                "CDP_HOME": str(REPO),
                "CDP_DATA_DIR": str(data_dir),
                "CDP_COLLECT_WRITE_KEYS": f"website={WRITE_KEY},app={APP_KEY}",
                "CDP_COLLECT_ROLL_SECONDS": "0.5",
                "PYTHONPATH": os.pathsep.join(
                    filter(None, [str(REPO), os.environ.get("PYTHONPATH")])
                ),
            }
        )
        self.env.update(env or {})
        self.process: subprocess.Popen[bytes] | None = None
        self.log = data_dir.parent / f"serve-{self.port}.log"

    @property
    def spool_dir(self) -> Path:
        return Path(self.env.get("CDP_COLLECT_SPOOL_DIR", self.data_dir / "spool"))

    @property
    def landing_dir(self) -> Path:
        return self.data_dir / "landing" / "web_events"

    def start(self) -> Collector:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [*self.command, "--port", str(self.port)],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"cdp serve exited:\n{self.log.read_text()[-3000:]}")
            try:
                if requests.get(f"{self.url}/health", timeout=1).status_code == 200:
                    return self
            except requests.ConnectionError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"cdp serve did not start:\n{self.log.read_text()[-3000:]}")
            time.sleep(0.05)

    def stop(self) -> None:
        """Graceful stop: the active segment rolls into landing."""
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def kill(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait()
        self.process = None

    def post(
        self, path: str, body: Any, key: str | None = WRITE_KEY, **kwargs: Any
    ) -> requests.Response:
        headers = basic(key) if key else {}
        headers.update(kwargs.pop("headers", {}))
        data = body if isinstance(body, bytes | str) else json.dumps(body)
        return requests.post(f"{self.url}{path}", data=data, headers=headers, timeout=30, **kwargs)


def landed_rows(landing_dir: Path) -> list[dict[str, Any]]:
    """Every row of the collector's landing files."""
    rows = []
    for path in sorted(landing_dir.glob("collect-*.jsonl")):
        rows.extend(json.loads(line) for line in path.read_text().splitlines() if line)
    return rows


@pytest.fixture
def collector(tmp_path: Path) -> Iterator[Collector]:
    service = Collector(tmp_path / "data").start()
    yield service
    service.stop()
