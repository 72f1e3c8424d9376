"""A form of the sites pages that is refused says why in an alert (``role="alert"``), so
that a person, and their screen reader, hears what is wrong: an action the page does
not know, a field left empty, a value a service refuses. Nothing is written."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client

from doorstep.accounts.roles import Role
from doorstep.core.testing import alerts
from doorstep.core.timeutils import LOCAL_TZ
from doorstep.sites.models import (
    AppointmentSlot,
    CircleSettings,
    OpeningHours,
    ServiceRequest,
    Settlement,
    SiteClosure,
)

from . import factories as f

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 3, 2, 10, 0, tzinfo=LOCAL_TZ)


@pytest.fixture(autouse=True)
def clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("doorstep.core.timeutils.now", lambda: NOW)


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_console_site_page_says_why_it_refused(world: Any) -> None:
    site = f.site(world.a.community)
    client = client_for(world.user(Role.COMMUNITY_STAFF))
    url = f"/console/sites/{site.pk}/"
    unknown = client.post(url, {"action": "paint"})
    assert unknown.status_code == 400 and alerts(unknown) == ["未知的操作。"]
    empty = client.post(url, {"action": "hours", "schedule": ""})
    assert empty.status_code == 400 and alerts(empty) == ["该字段是必填项。"]
    garbled = client.post(url, {"action": "hours", "schedule": "1 09:00 12:00\n9 x"})
    assert garbled.status_code == 400 and alerts(garbled) == ["第 2 行格式不对。"]
    assert not OpeningHours.objects.exists() and not SiteClosure.objects.exists()


def test_the_public_site_page_says_why_it_refused(world: Any) -> None:
    site = f.site(world.a.community)
    client = client_for(world.user(Role.RESIDENT))
    url = f"/sites/{site.pk}/"
    unknown = client.post(url, {"action": "paint"})
    assert unknown.status_code == 400 and alerts(unknown) == ["未知的操作。"]
    long_category = client.post(
        url, {"action": "proxy", "p-category": "x" * 41, "p-matter": "代办社保卡"}
    )
    assert long_category.status_code == 400
    assert alerts(long_category) == ["服务类别：确保该变量包含不超过 40 字符 (目前字符数 41)。"]
    no_slot = client.post(url, {"action": "appoint", "slot": "", "key": "k"})
    assert no_slot.status_code == 400 and alerts(no_slot) == ["该阵地没有这个预约时段。"]
    other_site = f.slot(f.site(world.a.community, "另一个阵地"))
    elsewhere = client.post(url, {"action": "appoint", "slot": other_site.pk, "key": "k"})
    assert elsewhere.status_code == 400 and alerts(elsewhere) == ["该阵地没有这个预约时段。"]
    assert not ServiceRequest.objects.exists() and AppointmentSlot.objects.count() == 1


def test_the_partners_page_says_why_a_settlement_was_refused(world: Any) -> None:
    agreement = f.agreement(f.partner(world.a.community), f.site(world.a.community))
    client = client_for(world.user(Role.COMMUNITY_STAFF))
    response = client.post(
        "/console/sites/partners/",
        {"action": "settlement", "agreement": agreement.pk, "period_start": "", "period_end": ""},
    )
    assert response.status_code == 400
    assert alerts(response) == ["期间开始：该字段是必填项。", "期间结束：该字段是必填项。"]
    assert not Settlement.objects.exists()


def test_the_program_page_says_why_attendance_was_refused(world: Any) -> None:
    program = f.program(f.site(world.a.community))
    client = client_for(world.user(Role.COMMUNITY_STAFF))
    response = client.post(f"/console/sites/programs/{program.pk}/", {"date": "2026-02-30"})
    assert response.status_code == 400 and alerts(response) == ["日期无效。"]
    assert not program.records.exists()


def test_the_settings_page_says_why_it_refused(world: Any) -> None:
    client = client_for(world.user(Role.SYSTEM_ADMIN))
    url = "/console/sites/settings/"
    unknown = client.post(url, {"action": "paint"})
    assert unknown.status_code == 400 and alerts(unknown) == ["未知的操作。"]
    minutes = client.post(
        url,
        {"action": "circle", "walking_speed_m_per_min": "75", "detour_factor": "1.3",
         "minutes": "-1"},
    )  # fmt: skip
    assert minutes.status_code == 400 and alerts(minutes) == ["分钟数应在 5 到 60 之间。"]
    assert not CircleSettings.objects.exists()


def test_a_refusal_about_no_field_of_the_form_stands_in_the_forms_summary(rf: Any) -> None:
    """A service may name a field the form does not have (the program, the site): its
    message joins the summary of the form that was sent, not the top of the page."""
    from django import forms

    from doorstep.core.errors import Conflict, ValidationError
    from doorstep.sites.views import _to_form

    class Form(forms.Form):
        capacity = forms.IntegerField(label="名额")

    form = Form({"capacity": "3"})
    assert form.is_valid()
    refusal = ValidationError("名额不能少于已报名人数。", field="capacity")
    refusal.errors["program"] = ["名额已满。"]
    _to_form(rf.post("/"), form, refusal)
    _to_form(rf.post("/"), form, Conflict("该项目已结束。", field="program"))
    assert form.errors["capacity"] == ["名额不能少于已报名人数。"]
    assert form.non_field_errors() == ["名额已满。", "该项目已结束。"]
