"""Every service's /docs works with no internet (issue 10): Swagger UI's assets come from the service
itself, so the page renders in a real browser that may reach nothing but loopback."""

from __future__ import annotations

import shutil
from urllib.parse import urlparse

import pytest
from devstack.testing import SERVICES, Stack

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.integration


async def test_docs_render_offline_in_a_browser(stack: Stack) -> None:
    from playwright.async_api import Route, async_playwright

    # no skip when the browser is missing: a CI without chromium must fail, not pass by running nothing
    assert CHROMIUM is not None, "this test drives Debian's chromium: ./dev and .ci/run install it (apt)"

    outside: list[str] = []

    async def loopback_only(route: Route) -> None:
        host = urlparse(route.request.url).hostname or ""
        if host in ("127.0.0.1", "localhost", "::1"):
            await route.continue_()
        else:
            outside.append(route.request.url)
            await route.abort()

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            page = await browser.new_page()
            await page.route("**/*", loopback_only)
            for service in SERVICES:
                await page.goto(f"{stack.url(service)}/docs")
                # the title comes from the OpenAPI document, the operation blocks from its paths
                await page.wait_for_selector(".swagger-ui .info .title", timeout=15_000)
                await page.wait_for_selector(".opblock", timeout=15_000)
                assert await page.locator(".opblock").count() > 3, service
                assert not await page.locator(".errors-wrapper").count(), f"{service}: Swagger UI shows errors"
        finally:
            await browser.close()
    assert outside == [], f"the docs page asked for outside resources: {outside[:3]}"
