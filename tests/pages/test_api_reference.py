"""The API reference at /docs works with no network: Swagger UI's files come from the app."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlparse

from playwright.sync_api import BrowserContext, Route, expect

from tests.pages.conftest import screenshot


def test_the_api_reference_renders_from_the_app_alone(
    open_context: Callable[..., BrowserContext], base_url: str
) -> None:
    context = open_context()
    page = context.new_page()
    elsewhere: list[str] = []
    own_host = urlparse(base_url).netloc

    def only_the_app(route: Route) -> None:
        # anything not served by the app is refused, as it would be on a laptop offline
        if urlparse(route.request.url).netloc != own_host:
            elsewhere.append(route.request.url)
            route.abort()
        else:
            route.continue_()

    page.route("**/*", only_the_app)
    page.goto("/docs")
    # Swagger UI drew the API from /openapi.json: its title and one block per operation
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("Reeldocs", timeout=15_000)
    expect(page.locator(".opblock").first).to_be_visible()
    assert page.locator(".opblock").count() > 20
    assert page.locator(".opblock-summary-path", has_text="/api/jobs/{job_id}").count() >= 1
    assert elsewhere == []
    screenshot(page, "api-reference")
