"""Fixtures shared by every app's tests: two separate trees and a user for each role."""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from django.apps import apps

from doorstep.accounts.models import User
from doorstep.accounts.roles import ROLE_SCOPE_KIND, Role, available_roles
from doorstep.accounts.services import role_grant, user_create
from doorstep.grids.models import Grid
from doorstep.grids.services import grid_create, household_link
from doorstep.orgs.models import Department, PartyOrg, Unit
from doorstep.orgs.services import department_create, party_org_create, unit_create
from doorstep.people.models import Household, Person
from doorstep.people.services import household_create, person_create

PASSWORD = "Doorstep-test-2026"


@pytest.fixture(autouse=True)
def _fresh_cache() -> Iterator[None]:
    """Each test starts with an empty shared cache: rate-limit counters are keyed by user
    id, and ids come round again from test to test."""
    from django.core.cache import cache

    cache.clear()
    yield


@pytest.fixture(autouse=True)
def _default_language() -> Iterator[None]:
    """Each test starts in the project's default language: a request with
    ``Accept-Language: en`` or a test that activates English leaves the thread's
    language set, and the next test in the same worker would read English."""
    from django.conf import settings
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.activate(settings.LANGUAGE_CODE)


@dataclass
class Tree:
    """city → district → street → community → compound → building, with a party
    committee at the community and a department at the district."""

    city: Unit
    district: Unit
    street: Unit
    community: Unit
    compound: Unit
    building: Unit
    party_org: PartyOrg
    department: Department
    grid: Grid
    household: Household
    person: Person
    # Rows that apps' test scope modules create for this tree (an outlet, a site …).
    extras: dict[str, Any] = field(default_factory=dict)

    def extra(self, key: str, factory: Callable[[Tree], Any]) -> Any:
        """The tree's row called ``key``, made by ``factory`` the first time."""
        if key not in self.extras:
            self.extras[key] = factory(self)
        return self.extras[key]

    def scope_for(self, role: str) -> Any:
        scopes: dict[str, Any] = {
            Role.BUILDING_LEADER: self.building,
            Role.COMMUNITY_STAFF: self.community,
            Role.STREET_ADMIN: self.street,
            Role.DISTRICT_ADMIN: self.district,
            Role.COUNTY_ADMIN: None,
            Role.CITY_ADMIN: self.city,
            Role.PARTY_SECRETARY: self.party_org,
            Role.DEPARTMENT_STAFF: self.department,
            Role.GRID_MEMBER: self.grid,
            Role.GRID_LEADER: self.grid,
        }
        if role in scopes:
            return scopes[role]
        for module in app_scope_modules():
            hook = getattr(module, "scope_for", None)
            scope = hook(self, role) if hook else None
            if scope is not None:
                return scope
        return None


def app_scope_modules() -> list[ModuleType]:
    """Each installed app's ``tests/scope.py``, where an app that lands later declares the
    scope objects its roles need (``scope_for(tree, role)``) and its rows for the scope
    matrix (``OUTSIDE_ROW``, ``API_DETAIL``, ``CONSOLE_DETAIL``), so that it need not
    edit the shared fixtures."""
    found = []
    for config in apps.get_app_configs():
        if not config.name.startswith("doorstep."):
            continue
        name = f"{config.name}.tests.scope"
        try:
            found.append(importlib.import_module(name))
        except ModuleNotFoundError as error:
            if error.name != name:
                raise
    return found


def outsider(world: World) -> User:
    """A community worker of tree B: every row made for tree B is in their scope only.
    One account however often it is asked for, so that the scope modules of several apps
    can each make their rows in one world (as the fuzz tests do)."""
    existing = User.objects.filter(username="outsider").first()
    return existing or make_user("outsider", Role.COMMUNITY_STAFF, world.b.community)


def retry_while_locked(call: Callable[..., Any], *, within_s: float = 30, **kwargs: Any) -> Any:
    """``call(**kwargs)``, tried again while the database reports "locked": SQLite's
    shared in-memory test database reports it to a thread instead of waiting (its busy
    timeout does not apply). Concurrency tests give up after ``within_s`` seconds, not a
    number of tries: on a loaded machine two hundred quick tries were once too few."""
    import threading
    import time

    from django.db import OperationalError

    deadline = time.monotonic() + within_s
    while True:
        try:
            return call(**kwargs)
        except OperationalError as exc:
            if "locked" not in str(exc):
                raise
            if time.monotonic() > deadline:
                raise AssertionError("database stayed locked") from exc
            threading.Event().wait(0.005)


def make_tree(prefix: str, code: str) -> Tree:
    city = unit_create(kind="city", name=f"{prefix}市", code=f"{code}00", lat=30.0, lng=110.0)
    district = unit_create(kind="district", name=f"{prefix}区", code=f"{code}02", parent=city)
    street = unit_create(
        kind="street", name=f"{prefix}街道", code=f"{code}02001000", parent=district
    )
    community = unit_create(
        kind="community", name=f"{prefix}社区", code=f"{code}02001001", parent=street
    )
    compound = unit_create(kind="compound", name=f"{prefix}小区", parent=community)
    building = unit_create(kind="building", name="1号楼", parent=compound)
    party_org = party_org_create(kind="committee", name=f"{prefix}社区党委", unit=community)
    department = department_create(kind="police", name=f"{prefix}派出所", unit=district)
    grid = grid_create(unit=community, name="第一网格")
    household = household_create(unit=building, entrance="1", room="101")
    person = person_create(
        name=f"{prefix}居民", household=household, relation="head", phone="13800000000"
    )
    household_link(household=household, grid=grid)
    return Tree(
        city,
        district,
        street,
        community,
        compound,
        building,
        party_org,
        department,
        grid,
        household,
        person,
    )


@dataclass
class World:
    a: Tree
    b: Tree
    users: dict[str, User] = field(default_factory=dict)

    def user(self, role: str) -> User:
        return self.users[role]


def make_user(username: str, role: str | None = None, scope: Any = None) -> User:
    user = user_create(username=username, password=PASSWORD, display_name=username)
    if role is not None:
        role_grant(actor=None, user=user, role=role, scope=scope)
    return user


@pytest.fixture
def world(db: Any) -> World:
    """Tree A holds every role's scope; tree B is outside all of them."""
    w = World(a=make_tree("甲", "5105"), b=make_tree("乙", "6204"))
    for role in available_roles():
        kind = ROLE_SCOPE_KIND[role]
        scope = w.a.scope_for(role)
        if kind not in ("self", "system") and scope is None:
            county = unit_create(kind="county", name="甲县", code="510521", parent=w.a.city)
            scope = county
        w.users[role] = make_user(f"u_{role}", role, scope)
    return w


# --- Browser tests ------------------------------------------------------------------------
# One Chromium for the whole run, defined here once: Playwright's sync API allows one
# running instance per thread, so every app's browser tests must share this fixture
# rather than define their own.

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


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        reason = f"browser tests need Chromium at {CHROMIUM} (apt-get install chromium)"
        if os.environ.get("CI") == "true":
            pytest.fail(reason, pytrace=False)
        pytest.skip(reason)
    # Playwright's sync API runs an event loop in the test thread, which Django's
    # async-unsafe check mistakes for async code calling the ORM; the tests themselves
    # are plain sync code.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
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
