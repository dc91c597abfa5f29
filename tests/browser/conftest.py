"""Browser tests: Playwright for Python driving Debian's chromium against the whole system.

``.ci/run`` needs the Debian packages ``chromium`` (and ``chromium-driver``): Playwright's
own browser download cannot run here. A test that fails leaves a full-page screenshot of
every page it had open in ``test-artifacts/`` (named after the test) for the CI run to keep.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import (
    Browser,
    BrowserContext,
    Page,
    Playwright,
    ViewportSize,
    sync_playwright,
)

from clientops_shared.testing import System

CHROMIUM = os.environ.get("CLIENTOPS_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu",
                 "--disable-background-networking", "--disable-component-update",
                 "--no-first-run"]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
DESKTOP: ViewportSize = {"width": 1280, "height": 900}
PHONE: ViewportSize = {"width": 390, "height": 844}


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[Any]) -> Any:
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


# Module scope, not session: while Playwright's sync API is open it keeps an event loop
# running in this thread, and the async tests that run after the browser modules (the
# pytest-asyncio ones) could not start theirs.
@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: install the Debian packages chromium and "
                    "chromium-driver (apt-get install -y chromium chromium-driver)")
    with sync_playwright() as pw:
        yield pw


@pytest.fixture(scope="module")
def browser(playwright: Playwright) -> Iterator[Browser]:
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield browser
    browser.close()


class Browsing:
    """Opens contexts (one per person / viewport) and screenshots them all on failure."""

    def __init__(self, browser: Browser, web: str) -> None:
        self.browser = browser
        self.web = web
        self.contexts: list[BrowserContext] = []

    def page(self, viewport: ViewportSize | None = None) -> Page:
        context = self.browser.new_context(viewport=viewport or DESKTOP, locale="ru-RU",
                                           timezone_id="Europe/Moscow",
                                           base_url=self.web)
        context.set_default_timeout(15_000)
        self.contexts.append(context)
        return context.new_page()

    def tab(self, page: Page) -> Page:
        """Another page of the same person: each keeps its own screenshot on failure."""
        return page.context.new_page()

    def logged_in(self, username: str, viewport: ViewportSize | None = None) -> Page:
        page = self.page(viewport)
        login(page, username)
        return page

    def screenshots(self, name: str) -> list[Path]:
        ARTIFACTS.mkdir(exist_ok=True)
        saved = []
        for c, context in enumerate(self.contexts):
            for p, page in enumerate(context.pages):
                path = ARTIFACTS / f"{name}-{c}-{p}.png"
                try:
                    page.screenshot(path=str(path), full_page=True)
                except Exception:  # a crashed page still lets the others be saved
                    continue
                saved.append(path)
        return saved

    def close(self) -> None:
        for context in self.contexts:
            context.close()


@pytest.fixture
def browsing(request: pytest.FixtureRequest, system: System, browser: Browser
             ) -> Iterator[Browsing]:
    b = Browsing(browser, system.urls["web"])
    yield b
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.nodeid.split("::")[-1])
        b.screenshots(name)
    b.close()


def login(page: Page, username: str, password: str | None = None) -> None:
    page.goto("/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password or f"{username}-demo")
    page.click("form[action='/login'] button[type=submit]")
    page.wait_for_url(lambda url: "/login" not in url)


def api_token(system: System, username: str) -> dict[str, str]:
    """A bearer header from the public token endpoint (test set-up outside the browser)."""
    r = httpx.post(f"{system.urls['web']}/api/auth/token",
                   data={"username": username, "password": f"{username}-demo"})
    r.raise_for_status()
    return {"Authorization": f"Bearer {r.json()['access_token']}"}
