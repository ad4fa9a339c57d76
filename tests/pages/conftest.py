"""Browser fixtures: Debian's Chromium driven by Playwright, and logged-in pages."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, ViewportSize, sync_playwright

from reeldocs.core import security

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
LAPTOP: ViewportSize = {"width": 1280, "height": 800}
PHONE: ViewportSize = {"width": 375, "height": 740}
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


# For the pages' tests alone: Playwright's synchronous API keeps an event loop running in
# the main thread while it is open, and the asynchronous tests that come after them need
# that thread's loop to themselves.
@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


def session_cookie(client: httpx.Client) -> str:
    value = client.cookies.get(security.SESSION_COOKIE)
    assert value, "the client holds no session cookie"
    return value


def csrf_header(client: httpx.Client, settings_secret: str) -> dict[str, str]:
    """The header a page's own script sends with a cookie session."""
    return {security.CSRF_HEADER: security.csrf_token(settings_secret, session_cookie(client))}


@pytest.fixture
def open_context(browser: Browser, base_url: str) -> Iterator[Callable[..., BrowserContext]]:
    """A browser context, optionally logged in as the user of an httpx client (and with
    scripts turned off, to use the pages as a browser without JavaScript does)."""
    contexts: list[BrowserContext] = []

    def make(
        client: httpx.Client | None = None,
        viewport: ViewportSize | None = None,
        *,
        javascript: bool = True,
    ) -> BrowserContext:
        context = browser.new_context(
            base_url=base_url, viewport=viewport or LAPTOP, java_script_enabled=javascript
        )
        if client is not None:
            context.add_cookies(
                [
                    {
                        "name": security.SESSION_COOKIE,
                        "value": session_cookie(client),
                        "url": base_url,
                        "httpOnly": True,
                        "sameSite": "Lax",
                    }
                ]
            )
        contexts.append(context)
        return context

    yield make
    for context in contexts:
        context.close()


def screenshot(page: Page, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def no_horizontal_scroll(page: Page) -> tuple[int, int]:
    return page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
