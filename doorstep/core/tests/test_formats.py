"""Dates go into <input type="date"> as ISO in every language (a browser leaves the box
empty otherwise), and the Chinese ways of typing a date are still understood."""

from __future__ import annotations

import datetime as dt

import pytest
from django import forms
from django.test import Client
from django.utils import translation

from doorstep.accounts.roles import Role
from doorstep.conftest import World
from doorstep.core import timeutils


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_date_inputs_are_written_in_iso(language: str) -> None:
    with translation.override(language):
        day = forms.DateInput(attrs={"type": "date"}).format_value(dt.date(2026, 1, 5))
        moment = forms.DateTimeInput(attrs={"type": "datetime-local"}).format_value(
            dt.datetime(2026, 1, 5, 9, 30)
        )
    assert day == "2026-01-05"
    assert str(moment).replace(" ", "T").startswith("2026-01-05T09:30")


def test_chinese_typed_dates_are_still_read() -> None:
    field = forms.DateField()
    with translation.override("zh-hans"):
        for text in ("2026-01-05", "2026/01/05", "2026/1/5", "2026年1月5日"):
            assert field.clean(text) == dt.date(2026, 1, 5), text
        assert forms.DateTimeField().clean("2026-01-05T09:30").minute == 30


@pytest.mark.django_db
def test_a_prefilled_date_reaches_the_page(world: World) -> None:
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    client.force_login(world.user(Role.COMMUNITY_STAFF))
    html = client.get("/console/sites/report/").content.decode()
    year = timeutils.now().astimezone(timeutils.LOCAL_TZ).date().year
    assert f'value="{year}-01-01"' in html
