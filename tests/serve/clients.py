"""Segment's own libraries, unchanged but for the host, driving `cdp serve`.

`python_session` uses segment-analytics-python; `browser_session` opens a page
(served from another origin, so CORS is real) in headless Chromium that loads
`@segment/analytics-next` from the collector (the npm package, `make vendor-js`)
with the standard standalone script URL. Both browse anonymously, then
identify with an email, and return the anonymous id the library used."""

from __future__ import annotations

import http.server
import json
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests

from cdp.serve.analytics_js import BUNDLES
from tests.serve.conftest import Collector, free_port

CHROMIUM = Path(os.environ.get("CDP_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"]

PAGE = """<!doctype html>
<html><head><title>shop</title>
<script>
  // What Segment's snippet sets before loading the library; _cdn because the
  // standalone bundle finds its CDN from the script URL only over https.
  window.analytics = [];
  window.analytics._writeKey = "{key}";
  window.analytics._cdn = "{collector}";
</script>
<script src="{collector}/analytics.js/v1/{key}/analytics.min.js"></script>
</head><body><h1>A shop page</h1>
<script>
  window.done = (async () => {{
    for (let i = 0; i < 200 && typeof window.analytics.user !== "function"; i++) {{
      await new Promise((resolve) => setTimeout(resolve, 50));
    }}
    await analytics.ready();
    await analytics.page("Home", {{url: location.href}});
    await analytics.track("Product Viewed", {{product_id: "p-7", price: "19.90"}});
    await analytics.identify({traits});
    return analytics.user().anonymousId();
  }})();
</script></body></html>
"""


def python_session(
    collector: Collector, key: str, traits: dict[str, str], anonymous_id: str
) -> list[str]:
    """Two anonymous calls and an identify through analytics-python; its errors."""
    from segment.analytics.client import Client

    errors: list[str] = []
    client = Client(
        write_key=key,
        host=collector.url,
        on_error=lambda error, batch: errors.append(repr(error)),
        max_retries=3,
    )
    client.page(anonymous_id=anonymous_id, name="Product", properties={"url": "/p/7"})
    client.track(anonymous_id=anonymous_id, event="Product Added", properties={"product_id": "p-7"})
    client.identify(anonymous_id=anonymous_id, traits=traits)
    client.flush()
    client.join()
    return errors


@contextmanager
def _site(html: str) -> Iterator[str]:
    body = html.encode()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://localhost:{server.server_address[1]}/shop"
    finally:
        server.shutdown()
        server.server_close()


def browser_session(collector: Collector, key: str, traits: dict[str, str]) -> str:
    """Page, track and identify from analytics.js in Chromium; its anonymous id."""
    if not (BUNDLES / "standalone.js").is_file():
        pytest.fail("analytics-next is not installed: run `make vendor-js`")
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} not found: apt-get install -y chromium (make test does this)")
    from playwright.sync_api import sync_playwright

    html = PAGE.format(collector=collector.url, key=key, traits=json.dumps(traits))
    with _site(html) as url, sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        try:
            page = browser.new_page()
            console: list[str] = []
            page.on("console", lambda message: console.append(message.text))
            page.goto(url, timeout=30_000)
            anonymous_id = page.evaluate("window.done", None)
        except Exception as exc:
            raise AssertionError(f"analytics.js failed: {exc}; console: {console}") from exc
        finally:
            browser.close()
    assert isinstance(anonymous_id, str) and anonymous_id, console
    return anonymous_id


def wait_for_events(collector: Collector, count: int, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        health = requests.get(f"{collector.url}/health", timeout=5).json()
        if health["events_written"] >= count:
            return
        time.sleep(0.1)
    raise AssertionError(f"only {json.dumps(health)} after {timeout} s")
