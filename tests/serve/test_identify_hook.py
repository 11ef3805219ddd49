"""The identify hook the profile store's overlay will use (docs/collect.md,
"Hot path"): listeners get the identify and alias rows of a request only once
they are durable, and a failing listener costs the client nothing."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import uvicorn

from cdp.serve.app import create_app
from cdp.serve.keys import load_write_keys
from cdp.serve.settings import ServeSettings
from tests.serve.conftest import WRITE_KEY, basic, free_port


@pytest.fixture
def hooked(tmp_path: Path) -> Iterator[tuple[str, list[list[dict[str, Any]]], Path]]:
    seen: list[list[dict[str, Any]]] = []
    spool_dir = tmp_path / "spool"

    def record(rows: list[dict[str, Any]]) -> None:
        # Durable already: the rows are in the spool segment on disk.
        on_disk = b"".join(path.read_bytes() for path in spool_dir.glob("*.jsonl"))
        assert all(str(row["message_id"]).encode() in on_disk for row in rows)
        seen.append(rows)

    def broken(rows: list[dict[str, Any]]) -> None:
        raise RuntimeError("the overlay store is down")

    settings = ServeSettings(
        write_keys=load_write_keys(f"website={WRITE_KEY}", None),
        spool_dir=spool_dir,
        landing_dir=tmp_path / "landing" / "web_events",
        roll_seconds=60,
    )
    app = create_app(settings, identify_listeners=[broken, record])
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}", seen, spool_dir
    server.should_exit = True
    thread.join(timeout=20)


def test_listeners_get_durable_identifies_only(hooked: tuple[str, list, Path]) -> None:
    url, seen, _ = hooked
    batch = [
        {"type": "page", "anonymousId": "a1", "messageId": "p1"},
        {"type": "identify", "anonymousId": "a1", "userId": "42", "messageId": "i1"},
        {"type": "alias", "previousId": "a1", "userId": "42", "messageId": "al1"},
    ]
    response = requests.post(f"{url}/v1/batch", json={"batch": batch}, headers=basic(WRITE_KEY))
    assert response.status_code == 200, response.text
    assert [[row["message_id"] for row in rows] for rows in seen] == [["i1", "al1"]]
    assert seen[0][0]["anonymous_id"] == "a1" and seen[0][0]["user_id"] == "42"
    # A duplicate identify is not new, but listeners still see it (idempotent overlay).
    again = requests.post(f"{url}/v1/identify", json=batch[1], headers=basic(WRITE_KEY))
    assert again.json() == {"success": True, "accepted": 0, "duplicates": 1}
    assert [row["message_id"] for row in seen[-1]] == ["i1"]
