"""A real browser draws the connected lineage graph in the Dagster UI.

Starts `dagster-webserver` on a free localhost port, opens the global asset lineage
in headless Chromium (Debian's `chromium`, driven by Playwright; Playwright's own
browser download is not used), filtered to the assets on the path from a raw table
to the sync the package declares (tests/orchestration/conftest.py). Every edge of
that path (raw → staging → ... → customers → segment → sync) must
be drawn between the two nodes it joins. The screenshot is saved to
tests/artifacts/orchestration_asset_graph.png (CDP_TEST_ARTIFACTS moves it).
"""

from __future__ import annotations

import itertools
import os
import re
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from dagster import AssetKey

from tests.orchestration.conftest import REPO, SYNC_NAME

CHROMIUM = Path(os.environ.get("CDP_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(os.environ.get("CDP_TEST_ARTIFACTS", REPO / "tests" / "artifacts"))
START_TIMEOUT = 120
SOURCE = AssetKey(["raw", "shop_customers"])
GOLDEN = AssetKey(["marts", "customers"])


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def webserver(orchestration_env: dict[str, str]) -> Iterator[str]:
    port = _free_port()
    env = dict(os.environ) | orchestration_env
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    log_path = Path(orchestration_env["DAGSTER_HOME"]) / "webserver.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [
                str(Path(sys.executable).parent / "dagster-webserver"),
                *("-m", "orchestration.definitions", "-h", "127.0.0.1", "-p", str(port)),
            ],
            cwd=REPO,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if process.poll() is not None:
                pytest.fail(f"dagster-webserver exited:\n{log_path.read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(f"{url}/server_info", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(
                    f"dagster-webserver not up in {START_TIMEOUT}s:\n{log_path.read_text()}"
                )
            time.sleep(1)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def _target_and_path() -> list[AssetKey]:
    """The chain to find drawn: raw table → staging → ... → customers → segment → sync."""
    from orchestration.definitions import load_definitions as build_definitions

    graph = build_definitions().get_repository_def().asset_graph
    sync = AssetKey(["syncs", SYNC_NAME])
    assert sync in graph.get_all_asset_keys(), "the package's declared sync has no asset"
    chain = _shortest_path(graph, SOURCE, GOLDEN) + _shortest_path(graph, GOLDEN, sync)[1:]
    assert any(k.path[-1].startswith("stg_") for k in chain), chain
    assert any(k.path[-1].startswith("segment_") for k in chain), chain
    return chain


def _shortest_path(graph: Any, start: AssetKey, end: AssetKey) -> list[AssetKey]:
    previous: dict[AssetKey, AssetKey | None] = {start: None}
    queue = [start]
    while queue:
        key = queue.pop(0)
        if key == end:
            break
        for child in sorted(graph.get(key).child_keys):
            if child not in previous:
                previous[child] = key
                queue.append(child)
    assert end in previous, f"no path from {start} to {end} in the definitions"
    path = [end]
    while previous[path[-1]] is not None:
        path.append(previous[path[-1]])  # type: ignore[arg-type]
    return path[::-1]


def _matches(label: str, name: str) -> bool:
    """The UI shortens long names with an ellipsis in the middle."""
    label = label.strip()
    if "…" not in label:
        return label == name
    head, tail = label.split("…", 1)
    return name.startswith(head) and name.endswith(tail) and len(name) >= len(head + tail)


_POINTS = re.compile(r"-?\d+(?:\.\d+)?")


def _edges(paths: list[str]) -> list[tuple[float, float, float, float]]:
    edges = []
    for d in paths:
        if not d.startswith("M") or "C" not in d:
            continue
        numbers = [float(n) for n in _POINTS.findall(d)]
        edges.append((numbers[0], numbers[1], numbers[-2], numbers[-1]))
    return edges


def _drawn(source: dict[str, float], target: dict[str, float], edges: list[Any]) -> bool:
    for x1, y1, x2, y2 in edges:
        leaves = abs(x1 - (source["x"] + source["w"])) <= 15 and (
            source["y"] <= y1 <= source["y"] + source["h"]
        )
        enters = abs(x2 - target["x"]) <= 15 and target["y"] <= y2 <= target["y"] + target["h"]
        if leaves and enters:
            return True
    return False


def test_asset_graph_draws_the_connected_path(webserver: str) -> None:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} not found: apt-get install -y chromium (make test does this)")
    from playwright.sync_api import sync_playwright

    chain = _target_and_path()
    query = f'key:"{chain[0].to_user_string()}"+ and +key:"{chain[-1].to_user_string()}"'
    groups = sorted({"raw", "staging", "intermediate", "marts", "reference", "syncs"})
    expanded = ",".join(f"global@global:{g}" for g in groups)
    url = f"{webserver}/asset-groups~{urllib.parse.quote(query, safe='')}/?expanded={expanded}"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shot = ARTIFACTS / "orchestration_asset_graph.png"

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        try:
            page = browser.new_page(viewport={"width": 1800, "height": 1000})
            page.goto(url, wait_until="networkidle", timeout=90_000)
            skip = page.get_by_role("button", name="Skip")
            if skip.count():
                skip.first.click()
            hide = page.get_by_text("Hide navigation")
            if hide.count():  # more room for the graph; the graph fits itself on reload
                hide.first.click()
                page.reload(wait_until="networkidle", timeout=90_000)
            page.wait_for_function(
                "n => [...document.querySelectorAll('foreignObject')]"
                ".filter(f => (f.textContent || '').trim() === 'customers').length >= 1"
                " && document.querySelectorAll('foreignObject').length >= n",
                arg=len(chain),
                timeout=60_000,
            )
            page.wait_for_timeout(1500)  # let the zoom-to-fit animation finish
            page.screenshot(path=str(shot))
            drawn = page.evaluate(
                """() => ({
                  nodes: [...document.querySelectorAll('foreignObject')].map(f => ({
                    x: +f.getAttribute('x'), y: +f.getAttribute('y'),
                    w: +f.getAttribute('width'), h: +f.getAttribute('height'),
                    text: (f.textContent || '').trim()})),
                  paths: [...document.querySelectorAll('svg path')]
                    .map(p => p.getAttribute('d') || ''),
                })"""
            )
        finally:
            browser.close()

    assert shot.stat().st_size > 10_000
    edges = _edges(drawn["paths"])
    groups_drawn = {n["text"]: n for n in drawn["nodes"] if n["text"] in groups}
    node_boxes = [n for n in drawn["nodes"] if n["text"] and n["text"] not in groups]

    def boxes_for(key: AssetKey) -> list[dict[str, float]]:
        group = groups_drawn.get(key.path[0])
        found = [n for n in node_boxes if _matches(n["text"], key.path[-1])]
        if group is not None:
            found = [n for n in found if group["x"] <= n["x"] <= group["x"] + group["w"]] or found
        assert found, f"{key.to_user_string()} not drawn; nodes: {[n['text'] for n in node_boxes]}"
        return found

    for source, target in itertools.pairwise(chain):
        assert any(_drawn(a, b, edges) for a in boxes_for(source) for b in boxes_for(target)), (
            f"no edge drawn from {source.to_user_string()} to {target.to_user_string()}"
        )
