"""End-to-end checks in a real browser: logging in, the language switch, the elder-friendly
mode and accessibility (axe-core) of the resident home, the login page and the console.

Run with ``pytest -m browser``; needs Debian's Chromium at /usr/bin/chromium.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.conf import settings
from django.utils import translation
from playwright.sync_api import Page, expect

from doorstep.web.middleware import ELDER_COOKIE
from doorstep.web.tests.conftest import PASSWORD, log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

BLOCKING_IMPACTS = {"serious", "critical"}
SCREENSHOTS = settings.BASE_DIR / "var" / "screenshots"
HAS_ELDER = re.compile(r"(^|\s)elder(\s|$)")


def _elder_on(page: Page) -> None:
    page.get_by_role("button", name="大字模式").click()
    expect(page.locator("body")).to_have_class(HAS_ELDER)


def _elder_off(page: Page) -> None:
    page.get_by_role("button", name="标准模式").click()
    expect(page.locator("body")).not_to_have_class(HAS_ELDER)


def _invisible_text(incomplete: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """axe-core files text drawn in its background's own colour under "incomplete" (it
    might be hidden on purpose), but on these pages that is always a real bug."""
    found = []
    for result in incomplete:
        if result["id"] != "color-contrast":
            continue
        nodes = [n for n in result["nodes"] if "1:1 contrast" in n.get("failureSummary", "")]
        if nodes:
            found.append({**result, "id": "color-contrast (1:1, invisible)", "nodes": nodes})
    return found


def _axe_report(violations: list[dict[str, Any]]) -> str:
    lines = []
    for violation in violations:
        lines.append(f"{violation['id']} ({violation['impact']}): {violation['help']}")
        for node in violation["nodes"]:
            target = " ".join(map(str, node.get("target", [])))
            summary = " ".join(node.get("failureSummary", "").split())
            lines.append(f"    {target}: {summary}")
    return "\n".join(lines)


def _assert_accessible(page: Page, label: str) -> None:
    page.wait_for_load_state()
    response = Axe().run(page, options={"resultTypes": ["violations", "incomplete"]}).response
    violations = [v for v in response["violations"] if v.get("impact") in BLOCKING_IMPACTS]
    violations += _invisible_text(response["incomplete"])
    assert not violations, f"axe-core violations on {label}:\n{_axe_report(violations)}"


def test_worker_logs_in_and_switches_language(logged_in_page: Page) -> None:
    page = logged_in_page
    html = page.locator("html")
    expect(html).to_have_attribute("lang", "zh-Hans")
    expect(page.get_by_role("heading", level=1)).to_have_text("工作台")
    expect(page.locator("main")).to_contain_text("颐和社区")

    page.get_by_role("button", name="English").click()
    expect(html).to_have_attribute("lang", "en")
    expect(page.get_by_role("button", name="中文")).to_be_visible()
    with translation.override("en"):
        console_en = translation.gettext("工作台")
    if console_en != "工作台":  # the English catalog has it
        expect(page.get_by_role("heading", level=1)).to_have_text(console_en)
    expect(page).to_have_url(re.compile(r"/console/$"))

    page.get_by_role("button", name="中文").click()
    expect(html).to_have_attribute("lang", "zh-Hans")
    expect(page.get_by_role("heading", level=1)).to_have_text("工作台")
    expect(page.get_by_role("button", name="English")).to_be_visible()


@pytest.mark.parametrize("elder", [False, True], ids=["normal", "elder"])
@pytest.mark.parametrize("path", ["/", "/accounts/login/"])
def test_resident_pages_are_accessible(page: Page, community: Any, path: str, elder: bool) -> None:
    page.goto(path)
    if elder:
        _elder_on(page)
    expect(page.locator("main")).to_be_visible()
    _assert_accessible(page, f"{path} ({'elder' if elder else 'normal'} mode)")


@pytest.mark.parametrize("elder", [False, True], ids=["normal", "elder"])
def test_console_is_accessible(logged_in_page: Page, elder: bool) -> None:
    page = logged_in_page
    if elder:
        _elder_on(page)
    expect(page.get_by_role("heading", level=1)).to_have_text("工作台")
    _assert_accessible(page, f"/console/ ({'elder' if elder else 'normal'} mode)")


def test_elder_mode_persists(page: Page, live_server: Any, community: Any) -> None:
    body = page.locator("body")
    page.goto("/")
    expect(body).not_to_have_class(HAS_ELDER)

    _elder_on(page)
    expect(page).to_have_url(f"{live_server.url}/")  # back where the switch was pressed
    page.reload()
    expect(body).to_have_class(HAS_ELDER)
    cookies = {c["name"]: c["value"] for c in page.context.cookies()}
    assert cookies.get(ELDER_COOKIE) == "1"

    _elder_off(page)
    page.reload()
    expect(body).not_to_have_class(HAS_ELDER)
    expect(page.get_by_role("button", name="大字模式")).to_be_visible()


def test_screenshot_home_elder(page: Page, community: Any) -> None:
    """A picture for humans to look at; nothing is compared."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.goto("/")
    _elder_on(page)
    page.screenshot(path=str(SCREENSHOTS / "home-elder.png"), full_page=True)


def test_screenshot_console(logged_in_page: Page) -> None:
    """A picture for humans to look at; nothing is compared."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    logged_in_page.screenshot(path=str(SCREENSHOTS / "console.png"), full_page=True)


@pytest.mark.parametrize("elder", [False, True], ids=["normal", "elder"])
def test_a_resident_s_home_leads_to_the_case_to_rate(
    page: Page, community: Any, worker: Any, elder: bool
) -> None:
    import importlib

    from django.apps import apps

    from doorstep.accounts.services import role_grant, user_create
    from doorstep.appeals.choices import Action, CaseKind, Channel
    from doorstep.appeals.models import Category
    from doorstep.appeals.services import case_submit, case_transition
    from doorstep.orgs.services import unit_create
    from doorstep.people.services import household_create, person_create, person_link_account

    # A transactional test flushes the rows the data migration made; put them back.
    importlib.import_module("doorstep.appeals.migrations.0002_default_categories").create(
        apps, None
    )
    compound = unit_create(
        kind="compound", name="棉纺厂小区", parent=community, lat=36.55, lng=104.17
    )
    building = unit_create(kind="building", name="8号楼", parent=compound)
    household = household_create(unit=building, entrance="1", room="301")
    resident = user_create(username="resident", password=PASSWORD, display_name="居民")
    role_grant(actor=None, user=resident, role="resident")
    person_link_account(person=person_create(name="居民", household=household), user=resident)
    case = case_submit(actor=resident, kind=CaseKind.PROBLEM, category=Category.objects.get(code="repair"),
                       channel=Channel.ONLINE, text="楼道灯不亮", household=household)  # fmt: skip
    case_transition(actor=worker, case=case, action=Action.ACCEPT, version=case.version)
    case.refresh_from_db()
    case_transition(
        actor=worker, case=case, action=Action.RESOLVE, version=case.version, result="已更换灯泡"
    )

    log_in(page, "resident")
    page.goto("/")
    if elder:
        _elder_on(page)
    line = page.locator(".todo-list .urgent a")
    expect(line).to_contain_text("已办结、待您评价的诉求")
    _assert_accessible(
        page, f"the resident's home with things waiting ({'elder' if elder else 'normal'})"
    )
    line.click()
    page.wait_for_url(f"**/appeals/{case.pk}/")
    expect(page.locator("main")).to_contain_text("已更换灯泡")
