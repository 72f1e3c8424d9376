"""Fixtures for the browser tests: Debian's Chromium driven through Playwright, against
pytest-django's live server."""

from __future__ import annotations

from typing import Any

import pytest

PASSWORD = "Strong-pass-2026"


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


def log_in(page: Any, username: str) -> None:
    """Log in through the login form (every test user's password is PASSWORD)."""
    page.goto("/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("form.form button[type=submit]")
    page.wait_for_load_state()


@pytest.fixture
def logged_in_page(page: Any, worker: Any) -> Any:
    """The community worker, logged in through the login form and landed on the console."""
    log_in(page, worker.username)
    page.wait_for_url("**/console/")
    return page
