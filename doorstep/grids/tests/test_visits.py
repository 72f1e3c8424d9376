"""Logging a visit from the grid member's phone view: the form, the wish list it feeds,
and who may log one."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.urls import include, path
from django.utils import timezone

from doorstep.accounts.roles import Role
from doorstep.conftest import make_user
from doorstep.grids.models import Grid, Visit, Wish, WishStatus

urlpatterns = [path("", include("doorstep.grids.urls")), path("", include("config.urls"))]
pytestmark = pytest.mark.urls("doorstep.grids.tests.test_visits")


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def url(household: Any) -> str:
    return f"/console/my-grid/households/{household.pk}/"


def test_a_grid_member_logs_a_visit_with_wishes_one_per_line(world: Any) -> None:
    member = world.user(Role.GRID_MEMBER)
    day = timezone.localdate() - dt.timedelta(days=1)
    response = client_for(member).post(
        url(world.a.household),
        {
            "visited_on": day.isoformat(),
            "notes": " 老人独居，身体尚可 ",
            "needs": "助餐",
            "wishes": "想学用智能手机\n\n  希望楼道装扶手  \n",
        },
    )
    assert response.status_code == 302
    visit = Visit.objects.get()
    assert (visit.household, visit.grid, visit.visitor, visit.visited_on) == (
        world.a.household, world.a.grid, member, day,
    )  # fmt: skip
    assert (visit.notes, visit.needs) == ("老人独居，身体尚可", "助餐")
    wishes = Wish.objects.filter(household=world.a.household).order_by("text")
    assert [(w.text, w.visit_id, w.status) for w in wishes] == [
        ("希望楼道装扶手", visit.pk, WishStatus.OPEN),
        ("想学用智能手机", visit.pk, WishStatus.OPEN),
    ]
    page = client_for(member).get(url(world.a.household)).content.decode()
    assert "想学用智能手机" in page and day.strftime("%Y-%m-%d") in page


def test_a_visit_dated_in_the_future_is_refused_and_nothing_is_written(world: Any) -> None:
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    response = client_for(world.user(Role.GRID_MEMBER)).post(
        url(world.a.household), {"visited_on": tomorrow.isoformat(), "wishes": "一个心愿"}
    )
    assert response.status_code == 400
    assert "走访日期不能晚于今天" in response.content.decode()
    assert not Visit.objects.exists()
    assert not Wish.objects.exists()


def test_a_visit_without_a_date_is_refused(world: Any) -> None:
    response = client_for(world.user(Role.GRID_MEMBER)).post(url(world.a.household), {"notes": "x"})
    assert response.status_code == 400
    assert not Visit.objects.exists()


def test_a_member_of_another_grid_gets_404_and_nothing_is_written(world: Any) -> None:
    other_grid = Grid.objects.create(unit=world.a.community, name="第二网格")
    outsider = make_user("gm_other", Role.GRID_MEMBER, other_grid)
    for user in (outsider, make_user("gm_b", Role.GRID_MEMBER, world.b.grid)):
        client = client_for(user)
        assert client.get(url(world.a.household)).status_code == 404
        response = client.post(
            url(world.a.household),
            {"visited_on": timezone.localdate().isoformat(), "wishes": "不该写入"},
        )
        assert response.status_code == 404
    assert not Visit.objects.exists()
    assert not Wish.objects.exists()


def test_a_resident_cannot_log_a_visit(world: Any) -> None:
    response = client_for(world.user(Role.RESIDENT)).post(
        url(world.a.household), {"visited_on": timezone.localdate().isoformat()}
    )
    assert response.status_code == 404
    assert not Visit.objects.exists()


def test_the_last_visit_shows_on_the_phone_view(world: Any) -> None:
    leader = world.user(Role.GRID_LEADER)
    client = client_for(leader)
    assert "从未走访" in client.get("/console/my-grid/").content.decode()
    day = timezone.localdate() - dt.timedelta(days=2)
    client.post(url(world.a.household), {"visited_on": day.isoformat()})
    page = client.get("/console/my-grid/").content.decode()
    assert f"最近走访 {day:%Y-%m-%d}" in page
    assert "待走访" not in page
