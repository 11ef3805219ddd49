"""The customer page /ui in headless Chromium (Debian's chromium through Playwright),
on a serving store refreshed from the shared business's warehouse.

One `cdp serve` app (uvicorn in a thread, a free port) over a copy of the warehouse.
Screenshots of a real profile, desktop and phone (390x844), go to
tests/artifacts/ui/ (CDP_TEST_ARTIFACTS moves them).
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from cdp.config import Settings
from cdp.serve.settings import ServeSettings
from cdp.serve.store.refresh import refresh
from cdp.serve.store.settings import StoreSettings
from cdp.serve.store.sqlite import SQLiteStore
from cdp.serve.ui.passwords import hash_password
from tests.business import Business
from tests.lock_holder import holding
from tests.serve.conftest import REPO, free_port

CHROMIUM = Path(os.environ.get("CDP_CHROMIUM", "/usr/bin/chromium"))
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-sync"]
ARTIFACTS = Path(os.environ.get("CDP_TEST_ARTIFACTS", REPO / "tests" / "artifacts")) / "ui"
PASSWORD = "correct horse battery"


class Site:
    def __init__(self, url: str, store_path: Path, warehouse: Path) -> None:
        self.url, self.store_path, self.warehouse = url, store_path, warehouse


@pytest.fixture(scope="module")
def site(shared_business: Business, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    import uvicorn

    from cdp.serve.app import create_app

    work = tmp_path_factory.mktemp("ui")
    warehouse = shared_business.copy_warehouse(work / "wh")
    settings = Settings(home=REPO, data_dir=work / "data", warehouse_path=warehouse)
    store_path = work / "profiles.sqlite"
    refresh(settings, StoreSettings("sqlite", store_path, None, 50), full=True)
    env = {
        "CDP_UI_USERS": f"agent={hash_password(PASSWORD)}",
        "CDP_UI_SESSION_SECRET": "a-test-secret-of-enough-length",
        "CDP_UI_EXPORT_WAIT": "0.5",
        "CDP_DUCKDB_PATH": str(warehouse),
        "CDP_DATA_DIR": str(work / "data"),
        "CDP_COLLECT_WRITE_KEYS": "website=test-web-key",
    }
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    app = create_app(ServeSettings.from_env(), profile_store=lambda: SQLiteStore(store_path))
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "cdp serve did not start"
        time.sleep(0.05)
    try:
        yield Site(url, store_path, warehouse)
    finally:
        server.should_exit = True
        thread.join(10)
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


def _linked_customer(store_path: Path) -> tuple[str, str]:
    """A customer of several linked records with activity: (customer_id, last name)."""
    store = SQLiteStore(store_path)
    for summary in store.search("@", 300):
        explain = store.explain(summary.customer_id)
        events, _ = store.events(summary.customer_id, 5)
        if explain and explain.links and events and summary.name:
            return summary.customer_id, summary.name.split()[-1]
    raise AssertionError("the shared business has no linked customer with activity")


def _sign_in(page: Any, url: str, password: str = PASSWORD) -> None:
    page.goto(f"{url}/ui")
    page.fill("input[name=username]", "agent")
    page.fill("input[name=password]", password)
    page.click("#sign-in")


def test_sign_in_search_profile_export_sign_out(site: Site, browser: Any) -> None:
    customer_id, last_name = _linked_customer(site.store_path)
    store = SQLiteStore(site.store_path)
    explain = store.explain(customer_id)
    assert explain is not None
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(viewport={"width": 1366, "height": 900}, accept_downloads=True)
    page = context.new_page()
    _sign_in(page, site.url)
    assert page.url.endswith("/ui") and page.locator("#sign-out").is_visible()

    page.fill("form.search input[name=q]", last_name)
    page.click("#search")
    page.click(f"a[href='/ui/customers/{customer_id}']")
    assert page.locator("#customer-id").inner_text() == customer_id
    links = page.locator("#explain li.link")
    assert links.count() == len(explain.links)
    first = explain.links[0]
    assert f"rule {first.rule_order}: {first.rule}" in links.first.inner_text()
    events, _ = store.events(customer_id, 25)
    assert page.locator("#timeline ol.timeline li").count() == len(events)
    assert events[0].type in page.locator("#timeline li").first.inner_text()
    page.screenshot(path=str(ARTIFACTS / "profile_desktop.png"), full_page=True)

    with page.expect_download() as info:
        page.click("#export")
    document = json.loads(Path(info.value.path()).read_text())
    assert document["customer_ids"] == [customer_id]
    assert len(document["source_records"]) == len(explain.records)

    phone = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    phone.add_cookies(context.cookies())
    mobile = phone.new_page()
    mobile.goto(f"{site.url}/ui/customers/{customer_id}")
    assert mobile.locator("#customer-id").inner_text() == customer_id
    width = mobile.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page scrolls sideways on a phone: {width}px"
    mobile.screenshot(path=str(ARTIFACTS / "profile_phone.png"), full_page=True)
    phone.close()

    page.click("#sign-out")
    assert "/ui/sign-in" in page.url
    page.goto(f"{site.url}/ui/customers/{customer_id}")
    assert "/ui/sign-in" in page.url  # the session is gone
    context.close()


def test_wrong_password_unknown_customer_and_store_unavailable(site: Site, browser: Any) -> None:
    context = browser.new_context()
    page = context.new_page()
    _sign_in(page, site.url, password="not it")
    assert "Wrong user name or password" in page.locator("#message").inner_text()
    _sign_in(page, site.url)
    answer = page.goto(f"{site.url}/ui/customers/cus_no_such_person")
    assert answer is not None and answer.status == 404
    assert "No such customer" in page.inner_text("h1")

    moved = site.store_path.with_name("moved.sqlite")
    site.store_path.rename(moved)
    try:
        answer = page.goto(f"{site.url}/ui?q=anything")
        assert answer is not None and answer.status == 503
        assert "cannot answer" in page.locator("#reason").inner_text()
    finally:
        moved.rename(site.store_path)
    answer = page.goto(f"{site.url}/ui?q=zzzz-nobody")  # recovers by itself
    assert answer is not None and answer.status == 200
    context.close()


def test_export_needs_the_csrf_token_and_says_when_a_build_holds_the_warehouse(
    site: Site, browser: Any
) -> None:
    customer_id, _ = _linked_customer(site.store_path)
    context = browser.new_context()
    page = context.new_page()
    _sign_in(page, site.url)
    cookies = {c["name"]: c["value"] for c in context.cookies()}
    forged = requests.post(
        f"{site.url}/ui/customers/{customer_id}/export",
        data={"csrf": "guessed"},
        cookies=cookies,
        timeout=30,
        allow_redirects=False,
    )
    assert forged.status_code == 403 and "access-" not in forged.headers.get(
        "content-disposition", ""
    )
    page.goto(f"{site.url}/ui/customers/{customer_id}")
    with holding(site.warehouse):
        page.click("#export")
        assert "Export waits for the build" in page.inner_text("h1")
        assert "in use by" in page.locator("#reason").inner_text()
    page.goto(f"{site.url}/ui/customers/{customer_id}")  # the page itself reads the store
    assert page.locator("#customer-id").inner_text() == customer_id
    context.close()


def test_a_person_erased_by_cdp_privacy_is_gone_from_the_page_at_once(
    site: Site, browser: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`cdp privacy erase --no-build` (no rebuild, no store refresh): the page that
    showed the person a moment ago answers 404, and a search for their email, which
    opened their profile, finds them no more."""
    from urllib.parse import quote

    from click.testing import CliRunner

    from cdp.cli import main

    linked, _ = _linked_customer(site.store_path)  # the other tests' customer stays
    person = next(
        s
        for s in SQLiteStore(site.store_path).search("@", 300)
        if s.email and s.name and s.customer_id != linked
    )
    context = browser.new_context()
    page = context.new_page()
    _sign_in(page, site.url)
    profile_url = f"{site.url}/ui/customers/{person.customer_id}"
    search_url = f"{site.url}/ui?q={quote(str(person.email))}"
    answer = page.goto(profile_url)
    assert answer is not None and answer.status == 200
    assert page.locator("#customer-id").inner_text() == person.customer_id
    page.goto(search_url)  # an identifier the store resolves opens the profile
    assert page.url == profile_url

    monkeypatch.setenv("CDP_DUCKDB_PATH", str(site.warehouse))
    monkeypatch.setenv("CDP_STORE_PATH", str(site.store_path))
    erased = CliRunner().invoke(
        main, ["privacy", "erase", "--email", str(person.email), "--no-build"]
    )
    assert erased.exit_code == 0, erased.output

    answer = page.goto(profile_url)
    assert answer is not None and answer.status == 404
    assert "No such customer" in page.inner_text("h1")
    page.goto(search_url)
    assert page.url == search_url  # no profile to open: the result list, without them
    assert page.locator(f"a[href='/ui/customers/{person.customer_id}']").count() == 0
    assert page.locator("#no-results").is_visible()
    context.close()
