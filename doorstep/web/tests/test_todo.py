"""The console's home lists what waits for the user, by role, counted within their scope:
the grid's open and overdue cases, households overdue for a visit, cases to accept and
overdue cases, open joint tasks, open site requests, hours to confirm, sold-out goods.
Each line links to the page where the work is done; overdue lines come first, marked."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.test import Client

from doorstep.accounts.roles import Role
from doorstep.appeals.models import Case, JointTask
from doorstep.appeals.services import joint_task_add
from doorstep.appeals.tests.factories import submit
from doorstep.conftest import World, make_user
from doorstep.core import timeutils
from doorstep.core.todo import CAP, counted
from doorstep.grids.services import visit_log
from doorstep.points.models import Goods
from doorstep.points.tests.scope import tree_goods
from doorstep.sites.models import ServiceRequest
from doorstep.sites.tests import factories as sites_f
from doorstep.volunteers.models import Signup
from doorstep.volunteers.tests.scope import tree_activity

pytestmark = pytest.mark.django_db


def todos(user: Any, path: str = "/console/") -> dict[str, tuple[int, str, bool]]:
    """A home page's to-do lines (the console's, or the resident's at ``/``): label →
    (count, link, marked urgent), in page order."""
    client = Client()
    client.force_login(user)
    html = client.get(path).content.decode()
    rows = re.findall(
        r'<li( class="urgent")?><a href="([^"]+)"><span class="todo-count">(\d+)\+?</span> '
        r'<span class="todo-label">([^<]+)</span>',
        html,
    )
    return {
        label: (int(n), href.replace("&amp;", "&"), bool(urgent)) for urgent, href, n, label in rows
    }


def test_a_grid_worker_sees_the_grid_s_cases_and_the_households_to_visit(world: World) -> None:
    leader = world.user(Role.GRID_LEADER)
    before = todos(leader)
    assert before["网格待办诉求"][0] == 0 and before["超过 90 天未走访的住户"][0] == 1
    case = submit(world)
    submit(world, tree=world.b)  # another tree's case is not counted
    assert todos(leader)["网格待办诉求"] == (1, "/console/appeals/queue/", False)
    Case.objects.filter(pk=case.pk).update(deadline=timeutils.now() - dt.timedelta(hours=1))
    lines = todos(leader)
    assert lines["其中已超期"] == (1, "/console/appeals/queue/", True)
    assert next(iter(lines)) == "其中已超期"  # what is overdue comes first
    visit_log(actor=leader, household=world.a.household, visited_on=timeutils.now().date())
    assert todos(leader)["超过 90 天未走访的住户"] == (0, "/console/my-grid/", False)


def test_triage_staff_see_cases_to_accept_and_overdue_cases_in_their_scope(world: World) -> None:
    staff = world.user(Role.COMMUNITY_STAFF)
    submit(world)
    submit(world, tree=world.b)
    lines = todos(staff)
    assert lines["待受理的诉求"] == (1, "/console/appeals/?state=submitted", False)
    assert lines["超期未办结的诉求"] == (0, "/console/appeals/overdue/", False)
    assert "网格待办诉求" not in lines  # not a grid worker
    # The city above sees the same case; a department sees none of these lines.
    assert todos(world.user(Role.CITY_ADMIN))["待受理的诉求"][0] == 1
    assert "待受理的诉求" not in todos(world.user(Role.DEPARTMENT_STAFF))


def test_a_department_sees_its_open_joint_tasks(world: World) -> None:
    case = submit(world, code="land")
    joint_task_add(actor=world.user(Role.PARTY_SECRETARY), case=case,
                   department=world.a.department, is_lead=True, instructions="核实")  # fmt: skip
    department = world.user(Role.DEPARTMENT_STAFF)
    lines = todos(department)
    assert lines["待答复的会办任务"] == (1, "/console/appeals/joint/?state=open", False)
    JointTask.objects.update(deadline=timeutils.now() - dt.timedelta(days=1))
    assert todos(department)["其中已过答复期限"] == (1, "/console/appeals/joint/?state=open", True)


def test_site_hours_and_goods_waiting_for_their_staff(world: World) -> None:
    staff = world.user(Role.COMMUNITY_STAFF)
    site = sites_f.site(world.a.community)
    sites_f.request(site)
    sites_f.request(sites_f.site(world.b.community))
    signup = Signup.objects.create(activity=tree_activity(world.a), person=world.a.person,
                                   status="checked_out", minutes=120)  # fmt: skip
    goods = tree_goods(world.a)
    lines = todos(staff)
    assert lines["阵地待办理的代办和预约"] == (1, "/console/sites/", False)
    assert lines["待确认时长的志愿者"] == (
        1, f"/console/volunteers/activities/{signup.activity_id}/", False
    )  # fmt: skip
    assert lines["已兑完、待补货的商品"][0] == 0
    Goods.objects.filter(pk=goods.pk).update(stock=0)
    assert todos(staff)["已兑完、待补货的商品"] == (1, "/console/points/", False)
    ServiceRequest.objects.update(status="done")
    assert todos(staff)["阵地待办理的代办和预约"][0] == 0


def test_roles_with_nothing_to_do_here_get_no_lines(world: World) -> None:
    for role in (Role.AUDITOR, Role.SECURITY_ADMIN, Role.PARTNER):
        assert todos(world.user(role)) == {}, role
    resident = Client()
    resident.force_login(world.user(Role.RESIDENT))
    assert resident.get("/console/").status_code == 302
    # Staff of another place count nothing of this one.
    other = make_user("b_staff", Role.COMMUNITY_STAFF, world.b.community)
    submit(world)
    assert todos(other)["待受理的诉求"][0] == 0


def test_a_count_stops_at_the_cap_and_says_there_are_more(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    for _i in range(3):
        submit(world)
    monkeypatch.setattr("doorstep.core.todo.CAP", 2)
    item = counted("x", Case.objects.all(), "/")
    assert (item.count, item.capped) == (2, True)
    monkeypatch.setattr("doorstep.core.todo.CAP", CAP)
    assert counted("x", Case.objects.all(), "/").capped is False


def test_the_list_speaks_english_too(world: World) -> None:
    client = Client()
    client.force_login(world.user(Role.GRID_LEADER))
    html = client.get("/console/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "To do" in html and "Households not visited for over 90 days" in html
    assert "Open cases in my grid" in html and "网格待办诉求" not in html


def home_lines(user: Any) -> dict[str, tuple[int, str, bool]]:
    return todos(user, "/")


def test_a_resident_s_home_says_what_waits_for_them(world: World) -> None:
    from doorstep.appeals.choices import Action
    from doorstep.appeals.tests.factories import step
    from doorstep.people.services import person_link_account

    resident = world.user(Role.RESIDENT)
    assert home_lines(resident) == {}  # nothing waits: no empty lines either
    staff = world.user(Role.COMMUNITY_STAFF)
    case = submit(world)
    other = submit(world, text="另一件")
    assert home_lines(resident)["正在办理的诉求"] == (2, "/appeals/mine/", False)
    assert home_lines(resident)["未读消息"][0] >= 2  # "received" for each
    step(case, staff, Action.ACCEPT)
    step(case, staff, Action.RESOLVE, result="已清理")
    lines = home_lines(resident)
    # One case to rate: the line opens it, and comes first.
    assert lines["已办结、待您评价的诉求"] == (1, f"/appeals/{case.pk}/", True)
    assert next(iter(lines)) == "已办结、待您评价的诉求"
    assert lines["正在办理的诉求"][0] == 1
    step(other, staff, Action.ACCEPT)
    step(other, staff, Action.RESOLVE, result="已处理")
    assert home_lines(resident)["已办结、待您评价的诉求"] == (2, "/appeals/mine/", True)
    # A booking ahead and a volunteering sign-up ahead.
    site = sites_f.site(world.a.community)
    sites_f.booking(sites_f.room(site), resident, start=timeutils.now() + dt.timedelta(days=2))
    sites_f.booking(
        sites_f.room(site, "旧"), resident, start=timeutils.now() - dt.timedelta(days=2)
    )
    person_link_account(person=world.a.person, user=resident)
    activity = tree_activity(world.a)  # in 2030
    Signup.objects.create(activity=activity, person=world.a.person, status="signed_up")
    lines = home_lines(resident)
    assert lines["待使用的功能室预订"] == (1, "/sites/mine/", False)
    assert lines["已报名、待参加的志愿活动"] == (1, "/me/volunteering/", False)
    # Someone else's things are not counted as theirs.
    assert "已办结、待您评价的诉求" not in home_lines(world.user(Role.GRID_MEMBER))
    assert Client().get("/").status_code == 200  # anonymous: no list, no error


def test_a_local_place_on_the_home_counts_its_households_and_residents(world: World) -> None:
    from doorstep.people.services import person_create

    person_create(name="甲老人", household=world.a.household, birth_date=dt.date(1940, 1, 1),
                  tags=["living_alone"])  # fmt: skip
    client = Client()
    client.force_login(world.user(Role.BUILDING_LEADER))
    html = client.get("/console/").content.decode()
    block = html.split("您可查看的住户和居民", 1)[1].split("</dl>", 1)[0]
    numbers = re.findall(r"<dt>([^<]+)</dt><dd>(?:<a href=\"([^\"]+)\">)?(\d+)", block)
    assert [(label, n) for label, _href, n in numbers] == [
        ("住户", "1"), ("居民", "2"), ("60岁及以上", "1"), ("14岁以下", "0"), ("独居", "1"),
    ]  # fmt: skip
    assert dict((label, href) for label, href, _n in numbers)["60岁及以上"] == (
        "/console/registry/?age_group=elderly"
    )
    # A city is too wide to count here; a department sees no persons.
    for role in (Role.CITY_ADMIN, Role.DEPARTMENT_STAFF):
        client.force_login(world.user(role))
        assert "您可查看的住户和居民" not in client.get("/console/").content.decode(), role


def test_community_staff_see_the_households_in_no_grid(world: World) -> None:
    from doorstep.people.services import household_create

    staff = world.user(Role.COMMUNITY_STAFF)
    grids_page = f"/console/grids/units/{world.a.community.pk}/"
    assert todos(staff)["未划入网格的住户"] == (0, grids_page, False)
    household_create(unit=world.a.building, entrance="2", room="201")
    household_create(unit=world.b.building, entrance="2", room="201")  # not theirs
    assert todos(staff)["未划入网格的住户"] == (1, grids_page, False)
    # A city administrator balances; the count is the community's staff's.
    assert "未划入网格的住户" not in todos(world.user(Role.CITY_ADMIN))
