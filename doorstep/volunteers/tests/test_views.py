"""The volunteer pages through the real interface."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client

from doorstep.accounts.roles import Role
from doorstep.conftest import World
from doorstep.people.services import person_link_account
from doorstep.points.choices import ActivityType
from doorstep.points.services import earning_rule_set

from ..choices import SignupStatus
from ..models import Activity, Signup
from .scope import tree_activity

pytestmark = pytest.mark.django_db


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_staff_announce_an_activity_and_a_bad_one_is_refused(world: World) -> None:
    staff = client_for(world.user(Role.COMMUNITY_STAFF))
    form = {
        "action": "activity",
        "unit": world.a.community.pk,
        "title": "清理楼道杂物",
        "activity_type": "clutter",
        "place": "3号楼",
        "starts_at": "2030-06-01T09:00",
        "ends_at": "2030-06-01T11:00",
        "slots": "8",
        "is_party_post": "on",
    }
    assert staff.post("/console/volunteers/", form).status_code == 302
    activity = Activity.objects.get()
    assert activity.is_party_post and activity.starts_at == dt.datetime(
        2030, 6, 1, 1, 0, tzinfo=dt.UTC
    )
    bad = staff.post("/console/volunteers/", form | {"ends_at": "2030-06-01T08:00"})
    assert "结束时间须晚于开始时间" in bad.content.decode() and Activity.objects.count() == 1
    page = staff.get("/console/volunteers/").content.decode()
    assert "清理楼道杂物" in page and "党员认领岗位" in page


def test_the_roster_checks_in_out_and_confirms_into_points(world: World, monkeypatch: Any) -> None:
    earning_rule_set(
        actor=None,
        unit=world.a.community,
        activity_type=ActivityType.SANITATION,
        points_per_hour=10,
    )
    activity = tree_activity(world.a)
    from doorstep.core import timeutils

    monkeypatch.setattr(timeutils, "now", lambda: activity.starts_at)
    staff = client_for(world.user(Role.COMMUNITY_STAFF))
    url = f"/console/volunteers/activities/{activity.pk}/"
    page = staff.get(url, {"q": "甲居民"}).content.decode()
    assert "<svg" in page and activity.checkin_token in page
    staff.post(url, {"action": "signup", "person": world.a.person.pk})
    signup = Signup.objects.get()
    staff.post(url, {"action": "check_in", "signup": signup.pk})
    monkeypatch.setattr(timeutils, "now", lambda: activity.starts_at + dt.timedelta(minutes=90))
    staff.post(url, {"action": "check_out", "signup": signup.pk})
    response = staff.post(
        url, {"action": "confirm", "signup": signup.pk, "minutes": "999"}, follow=True
    )
    assert "服务时长须在0到120分钟之间" in response.content.decode()
    staff.post(url, {"action": "confirm", "signup": signup.pk, "minutes": "60"})
    signup.refresh_from_db()
    assert signup.status == SignupStatus.CONFIRMED and signup.transfer.amount == 10  # type: ignore[union-attr]


def test_a_resident_signs_up_and_scans_in_and_out(world: World, monkeypatch: Any) -> None:
    activity = tree_activity(world.a)
    resident_user = world.user(Role.RESIDENT)
    person_link_account(person=world.a.person, user=resident_user)
    resident = client_for(resident_user)
    page = resident.get("/me/volunteering/").content.decode()
    assert "小区环境整治" in page and "还未评星" in page
    resident.post("/me/volunteering/", {"activity": activity.pk})
    assert Signup.objects.get().status == SignupStatus.SIGNED_UP
    from doorstep.core import timeutils

    monkeypatch.setattr(timeutils, "now", lambda: activity.starts_at)
    scan_url = f"/volunteer/scan/{activity.checkin_token}/"
    assert resident.get(scan_url).status_code == 200
    assert "签到成功" in resident.post(scan_url, follow=True).content.decode()
    monkeypatch.setattr(timeutils, "now", lambda: activity.starts_at + dt.timedelta(hours=1))
    assert "60 分钟" in resident.post(scan_url, follow=True).content.decode()
    # Residents do not reach the console pages.
    assert resident.get(f"/console/volunteers/activities/{activity.pk}/").status_code == 404


def test_another_trees_activity_is_not_found(world: World) -> None:
    activity = tree_activity(world.b)
    staff = client_for(world.user(Role.COMMUNITY_STAFF))
    assert staff.get(f"/console/volunteers/activities/{activity.pk}/").status_code == 404
    assert (
        staff.post(
            f"/console/volunteers/activities/{activity.pk}/", {"action": "signup"}
        ).status_code
        == 404
    )


def test_staff_found_a_team_and_add_a_member(world: World) -> None:
    from ..models import Team, TeamMember

    staff = client_for(world.user(Role.COMMUNITY_STAFF))
    staff.post(
        "/console/volunteers/",
        {"action": "team", "unit": world.a.community.pk, "name": "邻里帮帮行"},
    )
    team = Team.objects.get(name="邻里帮帮行")
    page = staff.get(f"/console/volunteers/teams/{team.pk}/", {"q": "甲居民"}).content.decode()
    assert "甲居民" in page
    staff.post(f"/console/volunteers/teams/{team.pk}/", {"person": world.a.person.pk})
    assert TeamMember.objects.filter(team=team, person=world.a.person).exists()
    again = staff.post(
        f"/console/volunteers/teams/{team.pk}/", {"person": world.a.person.pk}, follow=True
    )
    assert "已是本队队员" in again.content.decode()
    grid_member = client_for(world.user(Role.GRID_MEMBER))
    assert (
        grid_member.post(
            f"/console/volunteers/teams/{team.pk}/", {"person": world.a.person.pk}
        ).status_code
        == 404
    )
