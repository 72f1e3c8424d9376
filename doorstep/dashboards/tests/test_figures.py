"""The leaders' figures page: each figure counted over the user's place and period, by
the apps' own selectors; another place's rows left out; a place out of scope is 404;
dates that will not do are told beside the field."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.test import Client

from doorstep.accounts.roles import Role
from doorstep.appeals.choices import Action
from doorstep.appeals.models import Case
from doorstep.appeals.tests.factories import step, submit
from doorstep.conftest import World
from doorstep.core import timeutils
from doorstep.points.services import redemption_create
from doorstep.points.tests.scope import funded_account, tree_goods, tree_outlet
from doorstep.sites.models import ServiceRecord
from doorstep.sites.tests import factories as sites_f
from doorstep.volunteers.models import Signup
from doorstep.volunteers.tests.scope import tree_activity

pytestmark = pytest.mark.django_db
URL = "/console/figures/"


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def stat(html: str, section: str, label: str) -> str:
    """The figure shown under ``label`` in the section with id ``section``."""
    part = html.split(f'id="{section}"', 1)[1].split("</section>", 1)[0]
    after = part.split(f"<dt>{label}</dt><dd>", 1)[1].split("</dd>", 1)[0]
    return re.sub(r"<[^>]+>", "", after).strip()


def a_year_of_work(world: World) -> None:
    """In tree A: five cases (one resolved in time and rated 5, one resolved late and
    rated 4, one rated 2 and so reopened, one open and overdue, one rejected), a matter
    served at a site three times, 90 minutes of confirmed volunteering and one
    redemption; in tree B the same kind of rows, which A's staff must not count."""
    staff = world.user(Role.COMMUNITY_STAFF)
    resident = world.user(Role.RESIDENT)
    good, late, unhappy, overdue, rejected = (submit(world, text=f"第{n}件") for n in range(5))
    for case in (good, late, unhappy):
        step(case, staff, Action.ACCEPT)
        step(case, staff, Action.ASSIGN, assignee=staff)
        step(case, staff, Action.START)
        if case is late:  # its deadline passed before it was resolved
            Case.objects.filter(pk=late.pk).update(deadline=timeutils.now() - dt.timedelta(hours=2))
        step(case, staff, Action.RESOLVE, result="已处理")
    for case, score in ((good, 5), (late, 4), (unhappy, 2)):
        step(case, resident, Action.RATE, score=score, comment="")
    step(overdue, staff, Action.ACCEPT)
    Case.objects.filter(pk=overdue.pk).update(deadline=timeutils.now() - dt.timedelta(hours=1))
    step(rejected, staff, Action.REJECT, note="不属于受理范围")
    submit(world, tree=world.b)
    for tree, times in ((world.a, 3), (world.b, 7)):
        ServiceRecord.objects.create(
            site=sites_f.site(tree.community, f"{tree.community.name}服务中心"),
            category=sites_f.category(),
            delivered_at=timeutils.now(),
            person_times=times,
        )
        Signup.objects.create(
            activity=tree_activity(tree), person=tree.person, status="confirmed",
            checked_out_at=timeutils.now(), minutes=90 if tree is world.a else 600,
        )  # fmt: skip
        redemption_create(
            actor=None, outlet=tree_outlet(tree), account=funded_account(tree),
            items={tree_goods(tree).pk: 1}, idempotency_key=f"fig-{tree.community.pk}",
            at=timeutils.now(),
        )  # fmt: skip


def test_the_figures_count_the_place_and_period_and_nothing_else(world: World) -> None:
    a_year_of_work(world)
    html = client_for(world.user(Role.COMMUNITY_STAFF)).get(URL).content.decode()
    assert world.a.community.name in html
    appeals = {
        label: stat(html, "figures-appeals", label)
        for label in ("收到诉求", "绿色", "黄色", "不予受理或合并", "已办结", "按期办结率", "群众满意率",
                      "评价数", "当前未办结", "其中已超期")
    }  # fmt: skip
    assert appeals == {
        # The unhappy case went up a level on reopening: it is yellow now.
        "收到诉求": "5", "绿色": "4", "黄色": "1", "不予受理或合并": "1", "已办结": "2",
        "按期办结率": "50.0%", "群众满意率": "100.0%", "评价数": "2",
        "当前未办结": "2", "其中已超期": "1",
    }  # fmt: skip
    assert stat(html, "figures-services", "阵地服务人次") == "3"
    assert stat(html, "figures-services", "志愿服务人次") == "1"
    assert stat(html, "figures-services", "志愿服务时长（小时）") == "1.5"
    assert stat(html, "figures-points", "兑换人次") == "1"
    assert stat(html, "figures-points", "兑换物品价值（元）") == "15.00"
    assert stat(html, "figures-points", "就餐人次") == "0"
    # A period before any of it counts none of it (what is open now still shows).
    before = client_for(world.user(Role.COMMUNITY_STAFF)).get(
        URL, {"start": "2020-01-01", "end": "2020-12-31"}
    )
    old = before.content.decode()
    assert before.status_code == 200
    assert stat(old, "figures-appeals", "收到诉求") == "0"
    assert stat(old, "figures-appeals", "当前未办结") == "2"
    assert stat(old, "figures-services", "阵地服务人次") == "0"


def test_a_district_sees_its_communities_and_drills_down(world: World) -> None:
    a_year_of_work(world)
    district = client_for(world.user(Role.DISTRICT_ADMIN))
    html = district.get(URL).content.decode()
    # The district counts every community under it that it may see.
    assert int(stat(html, "figures-appeals", "收到诉求")) >= 5
    # Its streets are listed to drill into, down to the community.
    children = html.split('id="figures-children"', 1)[1].split("</ul>", 1)[0]
    assert f"?unit={world.a.street.pk}&amp;" in children and world.a.street.name in children
    street = district.get(URL, {"unit": world.a.street.pk}).content.decode()
    assert f"?unit={world.a.community.pk}&amp;" in street.split('id="figures-children"', 1)[1]
    one = district.get(URL, {"unit": world.a.community.pk}).content.decode()
    assert stat(one, "figures-appeals", "收到诉求") == "5"
    # The trail leads back up.
    assert f"?unit={world.a.district.pk}&amp;" in one.split('id="figures-trail"', 1)[1]


def test_the_page_refuses_what_will_not_do(world: World) -> None:
    staff = client_for(world.user(Role.COMMUNITY_STAFF))
    for params, field in (
        ({"start": "2026-13-01"}, "start"),
        ({"start": "2026-05-01", "end": "2026-04-01"}, "start"),
        ({"start": "2024-01-01", "end": "2026-01-01"}, "start"),
        ({"end": "yesterday"}, "end"),
        ({"start": "0001-01-01", "end": "0001-01-01"}, "start"),
        ({"start": "9999-12-31", "end": "9999-12-31"}, "start"),
    ):
        response = staff.get(URL, params)
        html = response.content.decode()
        assert response.status_code == 400 and 'role="alert"' in html, params
        assert f'id="id_{field}"' in html and 'id="figures-appeals"' not in html, params
    # Another tree's place, or junk, is not found; nor is the street above the worker's
    # community (it would show the community's figures under the street's name); nor is
    # the page for roles that do not answer for a place.
    assert staff.get(URL, {"unit": world.b.community.pk}).status_code == 404
    assert staff.get(URL, {"unit": world.a.street.pk}).status_code == 404
    district = client_for(world.user(Role.DISTRICT_ADMIN))
    assert district.get(URL, {"unit": world.a.city.pk}).status_code == 404
    assert staff.get(URL, {"unit": "abc"}).status_code == 404
    for role in (Role.RESIDENT, Role.GRID_MEMBER, Role.OUTLET_CLERK, Role.AUDITOR):
        assert client_for(world.user(role)).get(URL).status_code == 404, role


def test_the_console_menu_offers_it_to_those_who_answer_for_a_place(world: World) -> None:
    assert URL in client_for(world.user(Role.PARTY_SECRETARY)).get("/console/").content.decode()
    assert URL not in client_for(world.user(Role.GRID_MEMBER)).get("/console/").content.decode()
