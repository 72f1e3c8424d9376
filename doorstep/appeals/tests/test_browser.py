"""Browser test of the resident's report page: a resident logs in, reports a problem
about their compound (first with no description: told which field, nothing made), lands
on the case page with its receipt code and timeline, and the text typed as HTML shows as
text. axe-core on both pages.

Run with ``pytest -m browser``; needs Debian's Chromium at /usr/bin/chromium.
"""

from __future__ import annotations

import importlib
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from doorstep.web.tests import conftest as web_fixtures
from doorstep.web.tests.conftest import PASSWORD, log_in
from doorstep.web.tests.test_browser import _assert_accessible

community = web_fixtures.community

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def resident(community: Any) -> Any:
    from django.apps import apps

    from doorstep.accounts.services import role_grant, user_create
    from doorstep.orgs.services import unit_create

    # A transactional test flushes the rows the data migration made; put them back.
    importlib.import_module("doorstep.appeals.migrations.0002_default_categories").create(
        apps, None
    )
    unit_create(kind="compound", name="棉纺厂小区", parent=community, lat=36.554, lng=104.176)
    user = user_create(username="resident", password=PASSWORD, display_name="居民")
    role_grant(actor=None, user=user, role="resident")
    return user


def test_resident_reports_a_problem_and_follows_it(page: Page, resident: Any) -> None:
    from doorstep.appeals.models import Case

    log_in(page, resident.username)

    page.goto("/appeals/report/")
    expect(page.get_by_role("heading", level=1)).to_have_text("反映诉求")
    _assert_accessible(page, "the report page")
    page.select_option("select[name=category]", label="人居环境 · 环境卫生")
    page.select_option("select[name=unit]", label="棉纺厂小区")
    page.get_by_role("button", name="提交", exact=True).click()
    page.wait_for_load_state()
    # No description: the form says so at the field, and no case is made.
    expect(page.locator("textarea[name=text] ~ .error, .errorlist").first).to_be_visible()
    assert not Case.objects.exists()

    page.fill("textarea[name=text]", "3号楼门口<b>垃圾</b>三天没人清运")
    page.get_by_role("button", name="提交", exact=True).click()
    page.wait_for_url("**/appeals/*/")
    case = Case.objects.get()
    expect(page.get_by_role("heading", level=1)).to_contain_text("环境卫生")
    expect(page.locator("main")).to_contain_text(case.receipt_code)
    expect(page.locator(".appeal-timeline")).to_contain_text("提交")
    # The HTML the resident typed is shown as text, not markup.
    expect(page.locator("main")).to_contain_text("<b>垃圾</b>")
    assert page.locator("main b", has_text="垃圾").count() == 0
    _assert_accessible(page, "the case page")


def test_the_report_map_starts_at_home_and_a_dot_chooses_its_compound(
    page: Page, resident: Any, community: Any
) -> None:
    from doorstep.appeals.models import Case
    from doorstep.orgs.models import Unit
    from doorstep.orgs.services import unit_create
    from doorstep.people.services import household_create, person_create, person_link_account

    home = Unit.objects.get(name="棉纺厂小区")
    household = household_create(unit=unit_create(kind="building", name="8号楼", parent=home))
    person_link_account(person=person_create(name="居民", household=household), user=resident)
    unit_create(kind="compound", name="光明小区", parent=community, lat=36.560, lng=104.186)

    log_in(page, resident.username)
    page.goto("/appeals/report/")
    # The resident's own compound is chosen, under its community's heading.
    unit = page.locator("select[name=unit]")
    expect(unit.locator("option:checked")).to_have_text("棉纺厂小区")
    assert unit.locator(f"optgroup[label='{community.name}'] option").count() == 2
    # Each compound is a dot on the map; tapping one chooses it and puts the pin on it.
    dots = page.locator("#appeal-map path.leaflet-interactive")
    expect(dots).to_have_count(2)
    dots.nth(1).click()
    expect(unit.locator("option:checked")).to_have_text("光明小区")
    assert page.input_value("#id_lat") == "36.560000"
    # Choosing in the list moves the pin.
    unit.select_option(label="棉纺厂小区")
    assert page.input_value("#id_lng") == "104.176000"
    unit.select_option(label="光明小区")
    page.select_option("select[name=category]", label="人居环境 · 环境卫生")
    page.fill("textarea[name=text]", "小区门口的路灯坏了")
    page.get_by_role("button", name="提交", exact=True).click()
    page.wait_for_url("**/appeals/*/")
    assert Case.objects.values_list("compound__name", flat=True).get() == "光明小区"
