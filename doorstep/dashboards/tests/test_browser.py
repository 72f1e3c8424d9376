"""The figures page in a browser: reached from the console's menu, a quick period
chosen, accessible."""

from __future__ import annotations

import importlib
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from doorstep.web.tests import conftest as web_fixtures
from doorstep.web.tests.test_browser import _assert_accessible

community = web_fixtures.community
worker = web_fixtures.worker
logged_in_page = web_fixtures.logged_in_page

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_community_worker_reads_the_month_s_figures(logged_in_page: Page, community: Any) -> None:
    from django.apps import apps

    from doorstep.accounts.models import User
    from doorstep.appeals.choices import CaseKind, Channel
    from doorstep.appeals.services import case_submit

    # A transactional test flushes the rows the data migration made; put them back.
    importlib.import_module("doorstep.appeals.migrations.0002_default_categories").create(
        apps, None
    )
    page = logged_in_page
    case_submit(
        actor=User.objects.get(username="worker"), kind=CaseKind.PROBLEM, category="sanitation",
        channel=Channel.HOTLINE, text="楼道堆放杂物", unit=community,
    )  # fmt: skip
    page.get_by_role("link", name="数据概览").first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("颐和社区")
    page.get_by_role("link", name="本月").click()
    received = page.locator("#figures-appeals dt:text-is('收到诉求') + dd")
    expect(received).to_have_text("1")
    expect(page.locator("#figures-appeals dt:text-is('收到诉求') ~ dd.compare")).to_contain_text(
        "上期 0，增加 1"
    )
    page.get_by_label("对比").select_option("year")
    page.get_by_role("button", name="统计").click()
    expect(page.locator("#figures-appeals dt:text-is('收到诉求') ~ dd.compare")).to_contain_text(
        "去年同期 0"
    )
    expect(page.get_by_role("link", name="导出 Excel")).to_be_visible()
    # Printed for the meeting: the figures without the menu, the form or the buttons.
    page.emulate_media(media="print")
    expect(page.locator("#figures-appeals")).to_be_visible()
    expect(page.locator("#period-form")).to_be_hidden()
    expect(page.get_by_role("button", name="打印")).to_be_hidden()
    page.emulate_media(media="screen")
    expect(page.get_by_role("button", name="打印")).to_be_visible()
    _assert_accessible(page, "the figures page")
    page.set_viewport_size({"width": 390, "height": 844})
    _assert_accessible(page, "the figures page on a phone")
