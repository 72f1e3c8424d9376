"""Fixtures for the browser tests: Debian's Chromium driven through Playwright, against
pytest-django's live server."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

# Playwright's sync API runs an event loop in the test thread, which Django's async-unsafe
# check mistakes for async code calling the ORM; the tests themselves are plain sync code.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = Path("/usr/bin/chromium")
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
PASSWORD = "Strong-pass-2026"


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        reason = f"browser tests need Chromium at {CHROMIUM} (apt-get install chromium)"
        if os.environ.get("CI") == "true":
            pytest.fail(reason, pytrace=False)
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser: Any, live_server: Any) -> Iterator[Any]:
    """A fresh browser context per test: no cookies, so no language or elder-mode choice."""
    context = browser.new_context(
        base_url=live_server.url, locale="zh-CN", viewport={"width": 1280, "height": 900}
    )
    context.set_default_timeout(15_000)
    page = context.new_page()
    try:
        yield page
    finally:
        context.close()


@pytest.fixture
def community(transactional_db: None) -> Any:
    from doorstep.orgs.services import unit_create

    city = unit_create(kind="city", name="白银市", code="620400", lat=36.54, lng=104.14)
    district = unit_create(kind="district", name="白银区", code="620402", parent=city)
    street = unit_create(kind="street", name="人民路街道", code="620402001000", parent=district)
    return unit_create(kind="community", name="颐和社区", code="620402001001", parent=street)


@pytest.fixture
def worker(community: Any) -> Any:
    from doorstep.accounts.services import role_grant, user_create

    user = user_create(username="worker", password=PASSWORD, display_name="王芳")
    role_grant(actor=None, user=user, role="community_staff", scope=community)
    return user


@pytest.fixture
def logged_in_page(page: Any, worker: Any) -> Any:
    """The community worker, logged in through the login form and landed on the console."""
    page.goto("/accounts/login/")
    page.fill("input[name=username]", worker.username)
    page.fill("input[name=password]", PASSWORD)
    page.click("form.form button[type=submit]")
    page.wait_for_url("**/console/")
    return page
