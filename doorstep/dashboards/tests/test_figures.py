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
        # Every rating counts: two satisfied of three, the unhappy one included.
        "按期办结率": "50.0%", "群众满意率": "66.7%", "评价数": "3",
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
    # Its streets are listed to drill into, down to the community, each with its own
    # figures beside the others'.
    children = html.split('id="figures-children"', 1)[1].split("</table>", 1)[0]
    assert f"?unit={world.a.street.pk}&amp;" in children and world.a.street.name in children
    street = district.get(URL, {"unit": world.a.street.pk}).content.decode()
    rows = branch_rows(street)
    assert rows[world.a.community.name] == [
        "5", "2", "50.0%", "66.7%", "2", "1", "0.0%", "3", "1.5", "15.00", "0"
    ]  # fmt: skip
    assert f"?unit={world.a.community.pk}&amp;" in street.split('id="figures-children"', 1)[1]
    # Tree B's community is not under A's street: it is no row of it.
    assert world.b.community.name not in rows
    one = district.get(URL, {"unit": world.a.community.pk}).content.decode()
    assert stat(one, "figures-appeals", "收到诉求") == "5"
    # The trail leads back up.
    assert f"?unit={world.a.district.pk}&amp;" in one.split('id="figures-trail"', 1)[1]


def branch_rows(html: str) -> dict[str, list[str]]:
    """The comparison table below the figures: each unit's name and its cells."""
    table = html.split('id="figures-children"', 1)[1].split("</table>", 1)[0]
    body = table.split("<tbody>", 1)[1]
    rows = {}
    for tr in body.split("<tr>")[1:]:
        cells = [
            re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", tr)
        ]
        rows[cells[0]] = cells[1:]
    return rows


def test_the_comparison_counts_each_branch_in_a_fixed_number_of_queries(world: World) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from doorstep.dashboards.figures import branches
    from doorstep.orgs.models import Unit

    a_year_of_work(world)
    district = world.user(Role.DISTRICT_ADMIN)
    today = timeutils.local_today()
    children = list(Unit.objects.filter(parent=world.a.district).order_by("name"))
    with CaptureQueriesContext(connection) as queries:
        rows = branches(actor=district, unit=world.a.district, children=children, start=today,
                        end=today)  # fmt: skip
    assert len(queries) <= 11 + 2  # eleven counts, and the role grants read once
    assert [r.unit for r in rows] == children
    by_name = {r.unit.name: [c.value for c in r.cells] for r in rows if r.unit}
    # The street's one grid household has not been visited today: 0% of it.
    assert by_name[world.a.street.name] == [5, 2, 50.0, 66.7, 2, 1, 0.0, 3, 1.5, 15.0, 0]
    # A case placed at a community itself, not below it, is counted on a row of its own.
    submit(world, household=None, unit=world.a.community, text="社区里的事")
    compounds = list(Unit.objects.filter(parent=world.a.community).order_by("name"))
    rows = branches(actor=district, unit=world.a.community, children=compounds, start=today,
                    end=today)  # fmt: skip
    assert rows[-1].unit is None and rows[-1].cells[0].value == 1
    assert [c.value for c in rows[0].cells][:1] == [5]


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


def test_each_figure_is_compared_with_the_period_before(world: World) -> None:
    a_year_of_work(world)
    staff = client_for(world.user(Role.COMMUNITY_STAFF))
    today = timeutils.local_today()
    # Today against yesterday: everything is new.
    html = staff.get(URL, {"start": today.isoformat(), "end": today.isoformat()}).content.decode()
    yesterday = (today - dt.timedelta(days=1)).isoformat()
    assert f"对比 {yesterday} 至 {yesterday}" in html
    assert compared(html, "figures-appeals", "收到诉求") == "上期 0，增加 5"
    assert compared(html, "figures-appeals", "按期办结率") == "上期 —"
    assert compared(html, "figures-services", "志愿服务时长（小时）") == "上期 0.0，增加 1.5"
    # What is open now is the same whatever the period: it is not compared.
    assert compared(html, "figures-appeals", "当前未办结") == ""
    # Tomorrow against today: all of it was in the period before.
    tomorrow = (today + dt.timedelta(days=1)).isoformat()
    html = staff.get(URL, {"start": tomorrow, "end": tomorrow}).content.decode()
    assert stat(html, "figures-appeals", "收到诉求") == "0"
    assert compared(html, "figures-appeals", "收到诉求") == "上期 5，减少 5"
    assert compared(html, "figures-points", "兑换物品价值（元）") == "上期 15.00，减少 15.00"
    assert compared(html, "figures-appeals", "绿色") == "上期 4，减少 4"
    # Or against the same days a year before; or against nothing.
    a_year_on = today.replace(year=today.year + 1) if (today.month, today.day) != (2, 29) else None
    if a_year_on is not None:
        html = staff.get(
            URL, {"start": a_year_on.isoformat(), "end": a_year_on.isoformat(), "compare": "year"}
        ).content.decode()
        assert f"对比 {today.isoformat()} 至 {today.isoformat()}" in html
        assert compared(html, "figures-appeals", "收到诉求") == "去年同期 5，减少 5"
    # The choice is kept when drilling down or choosing a quick period.
    html = district_page = (
        client_for(world.user(Role.DISTRICT_ADMIN)).get(URL, {"compare": "year"}).content.decode()
    )
    assert f"?unit={world.a.street.pk}&amp;" in district_page
    assert "&amp;compare=year" in district_page.split('id="figures-children"', 1)[1]
    html = staff.get(URL, {"compare": "none"}).content.decode()
    assert "对比 " not in html and compared(html, "figures-appeals", "收到诉求") == ""
    assert staff.get(URL, {"compare": "decade"}).status_code == 400


def test_a_year_ago_is_the_same_dates_and_a_leap_day_becomes_the_28th() -> None:
    from doorstep.dashboards.figures import previous_period, year_ago

    assert year_ago(dt.date(2028, 2, 1), dt.date(2028, 2, 29)) == (
        dt.date(2027, 2, 1), dt.date(2027, 2, 28)
    )  # fmt: skip
    assert previous_period(dt.date(2026, 12, 1), dt.date(2026, 12, 7)) == (
        dt.date(2026, 11, 24), dt.date(2026, 11, 30)
    )  # fmt: skip


def compared(html: str, section: str, label: str) -> str:
    """The comparison shown under the figure ``label``, or "" when there is none."""
    part = html.split(f'id="{section}"', 1)[1].split("</section>", 1)[0]
    box = part.split(f"<dt>{label}</dt>", 1)[1].split("</div>", 1)[0]
    if 'class="compare"' not in box:
        return ""
    return box.split('class="compare">', 1)[1].split("</dd>", 1)[0].strip()


def test_a_rate_changes_in_percentage_points_and_the_same_figure_is_level() -> None:
    from doorstep.dashboards.figures import RATE, Line, Shown

    rate = Line("on_time", "按期办结率", lambda f: None, RATE)
    count = Line("received", "收到诉求", lambda f: None)
    assert Shown(rate, 62.5, 50.0, True).comparison == "上期 50.0%，提高 12.5 个百分点"
    assert Shown(rate, 40.0, 50.0, True).comparison == "上期 50.0%，降低 10.0 个百分点"
    assert Shown(count, 12345, 12345, True).comparison == "上期 12,345，持平"
    assert Shown(count, 3, None, False).comparison == ""


def test_the_figures_export_to_a_workbook_and_the_export_is_audited(world: World) -> None:
    import io

    from openpyxl import load_workbook

    from doorstep.accounts.models import AuditEvent

    a_year_of_work(world)
    user = world.user(Role.COMMUNITY_STAFF)
    staff = client_for(user)
    today = timeutils.local_today()
    page = staff.get(URL, {"start": today.isoformat(), "end": today.isoformat()}).content.decode()
    assert 'id="figures-export"' in page and "format=xlsx" in page
    response = staff.get(
        URL,
        {"unit": str(world.a.community.pk), "start": today.isoformat(), "end": today.isoformat(),
         "format": "xlsx"},
    )  # fmt: skip
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert "attachment" in response["Content-Disposition"]
    assert response["Cache-Control"] == "no-store"
    book = load_workbook(io.BytesIO(response.content))
    rows = {row[1]: row for row in book.worksheets[0].iter_rows(values_only=True)}
    assert rows["指标"] == ("板块", "指标", "本期", "上期", "变化", "计量单位")
    assert rows["收到诉求"] == ("诉求办理", "收到诉求", 5, 0, 5, None)
    assert rows["按期办结率"][2:] == (50.0, None, None, "%")
    assert rows["当前未办结"][2:5] == (2, None, None)
    notes = {row[0]: row[1] for row in book["说明"].iter_rows(values_only=True)}
    assert world.a.community.name in notes["单位"]
    assert notes["统计期间"] == f"{today:%Y-%m-%d} – {today:%Y-%m-%d}"
    assert notes["导出人"] == user.get_username()
    audit = AuditEvent.objects.get(action="export", object_type="orgs.unit")
    assert audit.object_id == str(world.a.community.pk) and audit.actor_id == user.pk
    assert audit.detail["what"] == "figures" and audit.detail["start"] == today.isoformat()
    # The units below, side by side: the compound holds all five cases.
    table = list(book["下级单位对比"].iter_rows(values_only=True))
    assert table[0] == (
        "单位", "收到诉求", "已办结", "按期办结率", "群众满意率", "当前未办结", "其中已超期",
        "住户走访覆盖率", "阵地服务人次", "志愿服务时长（小时）", "兑换物品价值（元）", "就餐人次",
    )  # fmt: skip
    assert (world.a.compound.name, 5, 2, 50.0, 66.7, 2, 1, 0.0, 0, 0.0, 0.0, 0) in table
    # The site, the activity and the outlet are the community's own: its own row.
    assert ("本级", 0, 0, None, None, 0, 0, None, 3, 1.5, 15.0, 0) in table
    months = list(book["近 12 个月走势"].iter_rows(values_only=True))
    assert months[0][:3] == ("月份", "收到诉求", "已办结")
    assert months[-1] == (f"{today:%Y-%m}", 5, 2, 0, 3, 1.5, 15.0, 0)
    # Against the same days a year before, the column says so.
    yearly = staff.get(URL, {"compare": "year", "format": "xlsx"})
    header = next(
        load_workbook(io.BytesIO(yearly.content)).worksheets[0].iter_rows(values_only=True)
    )
    assert header[3] == "去年同期"
    # A period that will not do exports nothing and audits nothing.
    bad = staff.get(URL, {"start": "2026-13-01", "format": "xlsx"})
    assert bad.status_code == 400 and bad["Content-Type"].startswith("text/html")
    assert AuditEvent.objects.filter(action="export").count() == 2


def test_the_trend_counts_each_month_to_the_period_s_end(world: World) -> None:
    a_year_of_work(world)
    # One of A's cases was received three months before this one.
    today = timeutils.local_today()
    earlier = today.replace(day=1) - dt.timedelta(days=80)
    old = Case.objects.filter(unit_path__startswith=world.a.community.path).order_by("id").last()
    assert old is not None
    Case.objects.filter(pk=old.pk).update(
        created_at=dt.datetime.combine(earlier, dt.time(12), tzinfo=timeutils.LOCAL_TZ)
    )
    html = client_for(world.user(Role.COMMUNITY_STAFF)).get(URL).content.decode()
    table = html.split('id="trend-table"', 1)[1].split("</table>", 1)[0]
    rows = {
        cells[0]: cells[1:]
        for cells in (
            [
                re.sub(r"<[^>]+>", "", c).strip()
                for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", tr)
            ]
            for tr in table.split("<tbody>", 1)[1].split("<tr>")[1:]
        )
    }
    assert len(rows) == 12 and list(rows)[-1] == f"{today:%Y-%m}"
    # Tree B's case is not counted; the moved case is in its own month.
    # Each month also has its services, volunteering, redemptions and diners, counted as
    # the period's figures count them: A's, not B's.
    assert rows[f"{today:%Y-%m}"] == ["4", "2", "0", "3", "1.5", "15.00", "0"]
    assert rows[f"{earlier:%Y-%m}"] == ["1", "0", "0", "0", "0.0", "0.00", "0"]
    assert sum(int(r[0]) for r in rows.values()) == 5
    # The bars are drawn to the highest month: it reaches the chart's full height.
    assert 'height="120.0"' in html.split('id="figures-trend"', 1)[1].split("</svg>", 1)[0]


def test_the_months_of_the_trend_run_back_across_the_new_year() -> None:
    from doorstep.dashboards.figures import month_firsts

    assert month_firsts(dt.date(2026, 2, 15), 3) == [
        dt.date(2025, 12, 1), dt.date(2026, 1, 1), dt.date(2026, 2, 1)
    ]  # fmt: skip
    assert len(month_firsts(dt.date(2026, 12, 31))) == 12


def test_grid_work_counts_visits_coverage_wishes_and_overdue(world: World) -> None:
    """Tree A: two households in the grid, one visited twice this year (a wish found)
    and one never; tree B's visit is not counted by A's staff."""
    from doorstep.grids.services import household_link, visit_log
    from doorstep.people.services import household_create

    second = household_create(unit=world.a.building, entrance="1", room="102")
    household_link(household=second, grid=world.a.grid)
    today = timeutils.local_today()
    member = world.user(Role.GRID_MEMBER)
    visit_log(actor=member, household=world.a.household, visited_on=today, wishes=["修楼道灯"])
    visit_log(actor=member, household=world.a.household, visited_on=today)
    html = client_for(world.user(Role.COMMUNITY_STAFF)).get(URL).content.decode()
    figures = {
        label: stat(html, "figures-grids", label)
        for label in ("入户走访次数", "走访到的住户", "住户走访覆盖率", "收集心愿", "网格内住户",
                      "当前超期未走访")
    }  # fmt: skip
    assert figures == {
        "入户走访次数": "2", "走访到的住户": "1", "住户走访覆盖率": "50.0%", "收集心愿": "1",
        "网格内住户": "2", "当前超期未走访": "1",
    }  # fmt: skip
    last_year = client_for(world.user(Role.COMMUNITY_STAFF)).get(
        URL, {"start": "2020-01-01", "end": "2020-12-31"}
    )
    old = last_year.content.decode()
    assert stat(old, "figures-grids", "入户走访次数") == "0"
    assert stat(old, "figures-grids", "当前超期未走访") == "1"  # of now, whatever the period
    # The month's visits in the twelve months' table, after appeals received and resolved.
    table = html.split('id="trend-table"', 1)[1].split("</table>", 1)[0]
    last = table.split("<tr>")[-1]
    cells = [
        re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", last)
    ]
    assert cells[0] == f"{today:%Y-%m}" and cells[3] == "2"


def test_population_changes_count_who_left_in_the_period(world: World) -> None:
    """Tree A: one death and one move out of the area this year, one death in 2020;
    tree B's death is not counted by A's staff."""
    from doorstep.people.models import Person
    from doorstep.people.services import person_create

    today = timeutils.local_today()
    left = [
        (world.a, "甲老人", "deceased", today),
        (world.a, "甲青年", "moved_away", today),
        (world.a, "甲旧事", "deceased", dt.date(2020, 3, 1)),
        (world.b, "乙老人", "deceased", today),
    ]
    for tree, name, reason, day in left:
        person = person_create(name=name, household=tree.household, relation="other")
        Person.objects.filter(pk=person.pk).update(left_on=day, left_reason=reason)
    staff = client_for(world.user(Role.COMMUNITY_STAFF))
    html = staff.get(URL).content.decode()
    assert stat(html, "figures-registry", "迁出本辖区") == "1"
    assert stat(html, "figures-registry", "去世") == "1"
    old = staff.get(URL, {"start": "2020-01-01", "end": "2020-12-31"}).content.decode()
    assert stat(old, "figures-registry", "去世") == "1"
    assert stat(old, "figures-registry", "迁出本辖区") == "0"
