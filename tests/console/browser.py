"""The console's browser walk-throughs share this: Debian's chromium through Playwright (`executable_path`; no
Playwright browser download), a tablet-sized page in Chinese, and logging in as a staff member."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
# no skip when the browser is missing: a CI without chromium must fail, not pass by running nothing
assert CHROMIUM is not None, "the console tests drive Debian's chromium: ./dev and .ci/run install it (apt)"


@dataclass
class Tablet:
    url: str  # the console
    password: str
    ctx: Any  # playwright BrowserContext
    page: Any  # playwright Page
    settle: str | None  # a selector every logged-in page shows; None: wait for the page to load

    async def log_in(self, staff_id: str) -> None:
        """A fresh session (cookies cleared) through the login form."""
        await self.ctx.clear_cookies()
        await self.page.goto(f"{self.url}/login")
        await self.page.fill("input[name=staff_id]", staff_id)
        await self.page.fill("input[name=password]", self.password)
        await self.page.click("button[type=submit]")
        if self.settle:
            await self.page.wait_for_selector(self.settle)
        else:
            await self.page.wait_for_load_state()


@asynccontextmanager
async def tablet(url: str, password: str, *, width: int = 820, height: int = 1180, locale: str = "zh-CN",
                 settle: str | None = "[data-nav=profile]", **context: Any) -> AsyncIterator[Tablet]:
    """A chromium page the size of a tablet held upright, in Chinese first; closed afterwards."""
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            ctx = await browser.new_context(viewport={"width": width, "height": height}, locale=locale, **context)
            yield Tablet(url, password, ctx, await ctx.new_page(), settle)
        finally:
            await browser.close()
