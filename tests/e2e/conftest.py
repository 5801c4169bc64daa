"""A real browser: Debian's Chromium driven by Playwright (never a downloaded browser).

Outside CI a machine without Chromium skips these stories; with CI=true they must run."""

import asyncio
import contextlib
import os
import shutil
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from prepskul.services.demo import demo_user

SHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


@pytest.fixture(autouse=True)
def _clean(fresh_db: None) -> None:
    """Each story starts from the demo users."""


def chromium_path() -> str | None:
    return os.environ.get("PREPSKUL_CHROMIUM") or shutil.which("chromium") or shutil.which(
        "chromium-browser")


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Any]:
    path = chromium_path()
    if path is None:
        if os.environ.get("CI") == "true":
            pytest.fail("Chromium is required in CI (.ci/run installs Debian's package)")
        pytest.skip("no Chromium on this machine (apt-get install chromium)")
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=path, args=[
            "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync"])
        yield browser
        await browser.close()


@pytest.fixture
async def person(browser: Any, settings: Any) -> AsyncIterator[Callable[..., Any]]:
    """A signed-in browser page for a demo user, through the sign-in page's demo buttons."""
    contexts: list[Any] = []

    async def open_as(who: str, **options: Any) -> Any:
        context = await browser.new_context(base_url=settings.public_base_url,
                                            viewport=PHONE, **options)
        contexts.append(context)
        page = await context.new_page()
        await page.goto("/signin")
        await page.click(f"button[data-user='{who}']")
        await page.wait_for_url("**/sessions")
        assert demo_user(who).name in await page.inner_text("header")
        return page

    yield open_as
    for context in contexts:
        await context.close()


@pytest.fixture
async def live_worker(worker: Any) -> AsyncIterator[Any]:
    """The job worker running in the background, as in the demo."""
    worker.poll = 0.2
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))
    yield worker
    stop.set()
    with contextlib.suppress(asyncio.CancelledError, TimeoutError):
        await asyncio.wait_for(task, timeout=5)


async def snap(page: Any, name: str) -> None:
    """Screenshots at phone and desktop widths, kept as test artifacts."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    for label, size in (("phone", PHONE), ("desktop", DESKTOP)):
        await page.set_viewport_size(size)
        await page.screenshot(path=str(SHOTS / f"{name}-{label}.png"), full_page=True)
    await page.set_viewport_size(PHONE)


async def until_status(page: Any, status: str, seconds: float = 40) -> None:
    """Wait for the session page to show `status` — by its live update, or else on a reload.
    The worker runs beside the browser: twice in full-suite runs the live `scheduled` after
    a payment did not show within 20 s (never reproduced alone); a reload reads the database,
    so a slow worker passes and a lost job still fails."""
    from playwright.async_api import TimeoutError as PageTimeout

    deadline = asyncio.get_running_loop().time() + seconds
    while True:
        try:
            await page.locator(f"#status[data-status={status}]").wait_for(timeout=5000)
            return
        except PageTimeout:
            if asyncio.get_running_loop().time() > deadline:
                raise
            await page.reload()
