"""The volunteer pages through the real interface."""

from __future__ import annotations

import datetime as dt
import re
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


# --- The organizer's overview: what is next first, the history paged --------------------


def _activity(world: World, title: str, starts_at: dt.datetime, **kwargs: Any) -> Activity:
    from ..services import activity_create

    return activity_create(
        actor=None,
        unit=world.a.community,
        title=title,
        activity_type=ActivityType.SANITATION,
        place="小区广场",
        starts_at=starts_at,
        ends_at=starts_at + dt.timedelta(hours=2),
        slots=5,
        **kwargs,
    )


def test_the_overview_lists_what_is_next_first_and_pages_the_past(
    world: World, django_assert_max_num_queries: Any
) -> None:
    """Activities under way or to come, soonest first, in full; ended ones newest first,
    twenty a page with the shared pager (a plain link and an HTMX fragment)."""
    from doorstep.core import timeutils

    now = timeutils.now()
    for day in range(1, 26):
        _activity(world, f"往期活动{day:02d}", now - dt.timedelta(days=day))
    _activity(world, "下周活动", now + dt.timedelta(days=7))
    _activity(world, "明天活动", now + dt.timedelta(days=1), is_party_post=True)
    _activity(world, "正在进行", now - dt.timedelta(hours=1))
    staff = client_for(world.user(Role.COMMUNITY_STAFF))
    with django_assert_max_num_queries(15):  # per list, not per row
        response = staff.get("/console/volunteers/")
    assert response.status_code == 200
    page = response.content.decode()
    ahead, past = page.split('<h2 id="past-title">')
    assert ahead.index("正在进行") < ahead.index("明天活动") < ahead.index("下周活动")
    assert "往期活动" not in ahead
    past = past.split('<h2 id="teams-title">')[0]
    shown = re.findall(r"往期活动(\d\d)", past)
    assert shown == [f"{day:02d}" for day in range(1, 21)]
    assert '<nav class="pager"' in past and "第 1 / 2 页" in past
    assert 'href="?page=2"' in past and 'hx-target="#past-activities"' in past
    second = staff.get("/console/volunteers/", {"page": "2"}).content.decode()
    second_past = second.split('<div id="past-activities">')[1].split("</section>")[0]
    assert re.findall(r"往期活动(\d\d)", second_past) == ["21", "22", "23", "24", "25"]
    assert "第 2 / 2 页" in second_past and "正在进行" in second  # what is next stays on top
    fragment = staff.get(
        "/console/volunteers/",
        {"page": "2", "unit": str(world.a.community.pk)},
        HTTP_HX_REQUEST="true",
    ).content.decode()
    assert "<html" not in fragment and "往期活动25" in fragment and "正在进行" not in fragment
    assert f"unit={world.a.community.pk}&amp;page=1" in fragment  # the filter is kept


def test_a_party_post_is_a_tag_not_a_button(world: World) -> None:
    from doorstep.core import timeutils

    activity = _activity(
        world, "楼道清理", timeutils.now() + dt.timedelta(days=2), is_party_post=True
    )
    staff = client_for(world.user(Role.COMMUNITY_STAFF))
    for url in ("/console/volunteers/", f"/console/volunteers/activities/{activity.pk}/"):
        page = staff.get(url).content.decode()
        assert '<span class="tag-pill">党员认领岗位</span>' in page, url
        assert 'class="chip">党员认领岗位' not in page, url
    resident_user = world.user(Role.RESIDENT)
    person_link_account(person=world.a.person, user=resident_user)
    mine = client_for(resident_user).get("/me/volunteering/").content.decode()
    assert '<span class="tag-pill">党员认领岗位</span>' in mine


def test_each_create_form_has_a_heading(world: World) -> None:
    page = client_for(world.user(Role.COMMUNITY_STAFF)).get("/console/volunteers/")
    text = page.content.decode()
    activity_form = text.index('<h2 id="new-activity-title">发布志愿活动</h2>')
    team_form = text.index('<h2 id="new-team-title">成立志愿服务队</h2>')
    assert activity_form < text.index('name="action" value="activity"')
    assert team_form < text.index('name="action" value="team"')


def test_labels_and_rules_read_as_english_in_english(world: World) -> None:
    """No Chinese punctuation left outside the translated strings on the English pages."""
    earning_rule_set(
        actor=None,
        unit=world.a.community,
        activity_type=ActivityType.SANITATION,
        points_per_hour=10,
        daily_cap=20,
    )
    activity = tree_activity(world.a)
    staff = client_for(world.user(Role.COMMUNITY_STAFF))
    url = f"/console/volunteers/activities/{activity.pk}/"
    assert "积分规则：每次 0 分，每小时 10 分，每日上限 20" in staff.get(url).content.decode()
    english = staff.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Points rule: 0 points per time, 10 points per hour, daily cap 20" in english
    team = staff.get(
        f"/console/volunteers/teams/{activity.team_id}/", HTTP_ACCEPT_LANGUAGE="en"
    ).content.decode()
    assert f"Leader: {world.a.person.name}" in team


def test_ids_that_str_isdigit_passes_but_int_refuses_are_no_ids(world: World) -> None:
    """ "²" is a digit to str.isdigit and not to int(): as the overview's unit it is no
    unit, as a form's unit a refusal naming it, as the activity's team no team."""
    staff = client_for(world.user(Role.COMMUNITY_STAFF))
    assert staff.get("/console/volunteers/", {"unit": "²"}).status_code == 200
    form = {
        "action": "activity",
        "unit": "²",
        "title": "清理楼道杂物",
        "activity_type": "clutter",
        "place": "3号楼",
        "starts_at": "2030-06-01T09:00",
        "ends_at": "2030-06-01T11:00",
        "slots": "8",
        "team": "²",
    }
    refused = staff.post("/console/volunteers/", form)
    assert refused.status_code == 400 and "请选择社区/村。" in refused.content.decode()
    assert not Activity.objects.exists()
    assert (
        staff.post("/console/volunteers/", form | {"unit": world.a.community.pk}).status_code == 302
    )
    assert Activity.objects.get().team is None
