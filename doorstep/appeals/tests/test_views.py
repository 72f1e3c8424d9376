"""The appeals pages, driven through the test client."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from doorstep.accounts.models import AuditAction, AuditEvent
from doorstep.accounts.roles import Role
from doorstep.appeals.choices import Action, CaseState, Color
from doorstep.appeals.models import Case, MonthlyClassification
from doorstep.appeals.services import joint_task_add
from doorstep.conftest import World, make_user
from doorstep.core import timeutils
from doorstep.core.testing import alerts

from .factories import step, submit

pytestmark = pytest.mark.django_db


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _report(world: World, **extra: Any) -> dict[str, Any]:
    data = {
        "kind": "problem",
        "category": "sanitation",
        "unit": world.a.compound.pk,
        "text": "小区门口垃圾没人清",
        "idempotency_key": "page-key-1",
    }
    data.update(extra)
    return data


def test_resident_reports_and_sees_the_case(world: World) -> None:
    client = _client(world.user(Role.RESIDENT))
    page = client.get(reverse("appeals:report"))
    assert page.status_code == 200 and 'name="idempotency_key"' in page.content.decode()
    response = client.post(reverse("appeals:report"), _report(world))
    case = Case.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse(
        "appeals:case", args=[case.pk]
    )
    # A double tap with the same key makes no second case.
    client.post(reverse("appeals:report"), _report(world))
    assert Case.objects.count() == 1
    assert (
        case.compound_id == world.a.compound.pk
        and case.reporter_user_id == world.user(Role.RESIDENT).pk
    )
    mine = client.get(reverse("appeals:my-cases")).content.decode()
    assert case.receipt_code in mine


def test_report_errors_name_the_field_and_make_nothing(world: World) -> None:
    client = _client(world.user(Role.RESIDENT))
    response = client.post(reverse("appeals:report"), _report(world, text="长" * 20000))
    assert response.status_code == 400
    assert "不能超过 4000 个字" in response.content.decode()
    response = client.post(reverse("appeals:report"), _report(world, category="no-such"))
    assert response.status_code == 400
    response = client.post(reverse("appeals:report"), _report(world, unit="", lat="", lng=""))
    assert response.status_code == 400 and "请选择小区" in response.content.decode()
    assert not Case.objects.exists()


def test_script_in_text_is_shown_as_text(world: World) -> None:
    client = _client(world.user(Role.RESIDENT))
    client.post(reverse("appeals:report"), _report(world, text="<script>alert('x')</script>"))
    case = Case.objects.get()
    html = client.get(reverse("appeals:case", args=[case.pk])).content.decode()
    assert "<script>alert" not in html and "&lt;script&gt;alert" in html


def test_duplicates_are_offered_before_submitting(world: World) -> None:
    submit(world, household=None, unit=world.a.compound)
    client = _client(make_user("neighbour", Role.RESIDENT))
    response = client.post(reverse("appeals:report"), _report(world, idempotency_key="n-1"))
    assert response.status_code == 200 and "是否已经有人反映过" in response.content.decode()
    assert Case.objects.count() == 1
    client.post(reverse("appeals:report"), _report(world, idempotency_key="n-1", confirm="1"))
    assert Case.objects.count() == 2


def test_rating_page(world: World) -> None:
    case = submit(world)
    member = world.user(Role.GRID_MEMBER)
    step(case, member, Action.ACCEPT)
    step(case, member, Action.RESOLVE, result="已清运")
    client = _client(world.user(Role.RESIDENT))
    page = client.get(reverse("appeals:case", args=[case.pk])).content.decode()
    assert "请为办理结果评价" in page and "已清运" in page
    case.refresh_from_db()
    client.post(reverse("appeals:rate", args=[case.pk]), {"version": case.version, "score": 5})
    case.refresh_from_db()
    assert case.state == CaseState.CLOSED and case.rating == 5


def test_public_board_shows_no_personal_data(world: World) -> None:
    case = submit(world, text="101室门口漏水，联系13800000000")
    anonymous = Client()
    for url in (
        reverse("appeals:board", args=[world.a.community.pk]),
        reverse("appeals:board", args=[world.a.city.pk]),
        reverse("appeals:board-print", args=[world.a.community.pk]),
        f"{reverse('appeals:receipt')}?code={case.receipt_code}",
    ):
        response = anonymous.get(url)
        html = response.content.decode()
        assert response.status_code == 200, url
        assert case.receipt_code in html, url
        for secret in ("甲居民", "13800000000", "漏水"):
            assert secret not in html, (url, secret)
        # The room, in what a reader sees (an id in a link may contain its digits).
        assert "101" not in re.sub(r"<[^>]+>", " ", html), url
    assert (
        "<svg"
        in anonymous.get(
            reverse("appeals:board-print", args=[world.a.community.pk])
        ).content.decode()
    )
    assert (
        case.receipt_code
        not in anonymous.get(reverse("appeals:board", args=[world.b.community.pk])).content.decode()
    )


def test_the_public_board_says_how_many_were_done_on_time_and_how_satisfied(
    world: World,
) -> None:
    staff, resident = world.user(Role.COMMUNITY_STAFF), world.user(Role.RESIDENT)
    url = reverse("appeals:board", args=[world.a.community.pk])
    html = Client().get(url).content.decode()
    assert "<dt>近一年按期办结率</dt><dd>—</dd>" in html
    assert "<dt>近一年群众满意率</dt><dd>—</dd>" in html
    first, second = submit(world, text="第一件"), submit(world, text="第二件")
    for case in (first, second):
        step(case, staff, Action.ACCEPT)
        step(case, staff, Action.ASSIGN, assignee=staff)
        step(case, staff, Action.START)
    Case.objects.filter(pk=second.pk).update(deadline=timeutils.now() - dt.timedelta(hours=1))
    for case in (first, second):
        step(case, staff, Action.RESOLVE, result="已处理")
    # One resident is unhappy with the second: it reopens; handled again, they are happy.
    step(first, resident, Action.RATE, score=5, comment="")
    step(second, resident, Action.RATE, score=1, comment="没有解决")
    step(second, staff, Action.ASSIGN, assignee=staff)
    step(second, staff, Action.START)
    step(second, staff, Action.RESOLVE, result="复核后处理")
    step(second, resident, Action.RATE, score=4, comment="")
    html = Client().get(url).content.decode()
    # Both are resolved on time now (the reopened one by its new deadline); two of the
    # three ratings were satisfied.
    assert "<dt>近一年按期办结率</dt><dd>100.0%</dd>" in html
    assert "<dt>近一年群众满意率</dt><dd>66.7%</dd>" in html and "3 次评价" in html


def test_receipt_lookup_unknown_code(world: World) -> None:
    response = Client().get(f"{reverse('appeals:receipt')}?code=NOPE2345")
    assert response.status_code == 404 and "没有找到" in response.content.decode()


def test_triage_board_fixed_queries_and_htmx_fragment(
    world: World, django_assert_max_num_queries: Any
) -> None:
    staff = world.user(Role.COMMUNITY_STAFF)
    client = _client(staff)
    url = f"{reverse('appeals:triage')}?unit={world.a.community.pk}"
    for i in range(3):
        submit(world, text=f"第{i}件")
    client.get(url)  # warm caches (sessions, content types)
    with django_assert_max_num_queries(12) as few:
        client.get(url)
    for i in range(40):
        submit(world, code="property" if i % 2 else "sanitation", text=f"再{i}件")
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(url)
    assert response.status_code == 200
    fragment = client.get(f"{url}&color=yellow", headers={"HX-Request": "true"})
    html = fragment.content.decode()
    assert "<html" not in html and "appeal-yellow" in html and "appeal-green" not in html


def test_console_case_actions_and_conflict(world: World) -> None:
    case = submit(world)
    staff = world.user(Role.COMMUNITY_STAFF)
    client = _client(staff)
    page = client.get(reverse("appeals:console-case", args=[case.pk])).content.decode()
    assert 'value="accept"' in page
    url = reverse("appeals:console-act", args=[case.pk])
    client.post(url, {"action": "accept", "version": case.version})
    case.refresh_from_db()
    assert case.state == CaseState.ACCEPTED
    stale = client.post(
        url, {"action": "resolve", "version": case.version - 1, "result": "x"}, follow=True
    )
    assert "已被他人更新" in stale.content.decode()
    assert Case.objects.get(pk=case.pk).state == CaseState.ACCEPTED


def test_console_case_shows_reporter_and_audits(world: World) -> None:
    case = submit(
        world,
        actor=world.user(Role.GRID_MEMBER),
        channel="hotline",
        reporter_person=world.a.person,
    )
    client = _client(world.user(Role.COMMUNITY_STAFF))
    html = client.get(reverse("appeals:console-case", args=[case.pk])).content.decode()
    assert "甲居民" in html and "138****0000" in html and "13800000000" not in html
    assert AuditEvent.objects.filter(action=AuditAction.REVEAL, object_id=str(case.pk)).exists()


def test_console_case_says_which_household_and_links_its_grid_page(world: World) -> None:
    case = submit(world)
    address = world.a.household.address
    url = reverse("appeals:console-case", args=[case.pk])

    def place(user: Any) -> str:
        html = _client(user).get(url).content.decode()
        return html.split('id="case-place">', 1)[1].split("</dd>", 1)[0]

    # The grid member walks there: the address down to the room, and the household's
    # page (members, visits, wishes) one tap away.
    grid_page = f'href="/console/my-grid/households/{world.a.household.pk}/"'
    member = place(world.user(Role.GRID_MEMBER))
    assert address in member and grid_page in member
    assert address in place(world.user(Role.COMMUNITY_STAFF))
    # A case about a place, not a household, names the place.
    spot = submit(world, household=None, unit=world.a.building)
    url = reverse("appeals:console-case", args=[spot.pk])
    assert place(world.user(Role.GRID_MEMBER)).startswith(world.a.building.name)


def test_console_case_outside_scope_is_404(world: World) -> None:
    case = submit(world, tree=world.b, actor=make_user("b_res", Role.RESIDENT))
    client = _client(world.user(Role.COMMUNITY_STAFF))
    assert client.get(reverse("appeals:console-case", args=[case.pk])).status_code == 404
    assert (
        client.post(
            reverse("appeals:console-act", args=[case.pk]), {"action": "accept", "version": 1}
        ).status_code
        == 404
    )


def test_overdue_and_queue(world: World) -> None:
    late = submit(world, text="早就该办")
    Case.objects.filter(pk=late.pk).update(deadline=timeutils.now() - dt.timedelta(hours=1))
    submit(world, text="还没到期")
    staff = _client(world.user(Role.COMMUNITY_STAFF))
    html = staff.get(f"{reverse('appeals:overdue')}?unit={world.a.community.pk}").content.decode()
    assert late.receipt_code in html and html.count("badge-overdue") == 1
    member = _client(world.user(Role.GRID_MEMBER))
    queue = member.get(reverse("appeals:queue")).content.decode()
    assert queue.count("appeal-green") == 2
    # Each says what it is about and where (the household's address), so three repairs
    # in one compound can be told apart on the phone.
    assert "早就该办" in queue and "还没到期" in queue
    assert queue.count(world.a.household.address) == 2
    # Its queries do not grow with the queue.
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as two:
        member.get(reverse("appeals:queue"))
    for n in range(3):
        submit(world, text=f"又一件 {n}")
    with CaptureQueriesContext(connection) as five:
        assert member.get(reverse("appeals:queue")).content.decode().count("appeal-green") == 5
    assert len(five.captured_queries) == len(two.captured_queries)


def test_month_end_page(world: World) -> None:
    case = submit(world)
    staff = _client(world.user(Role.COMMUNITY_STAFF))
    month = f"{timeutils.local_today():%Y-%m}"
    url = f"{reverse('appeals:month')}?unit={world.a.community.pk}&month={month}"
    assert case.receipt_code in staff.get(url).content.decode()
    staff.post(url, {"unit": world.a.community.pk, "month": month, f"color-{case.pk}": "yellow"})
    record = MonthlyClassification.objects.get()
    assert record.changed == 1 and Case.objects.get(pk=case.pk).color == Color.YELLOW
    staff.post(url, {"unit": world.a.community.pk, "month": month, "publish": "1"})
    assert MonthlyClassification.objects.get().published_at is not None
    sheet = Client().get(
        f"{reverse('appeals:board-print', args=[world.a.community.pk])}?month={month}"
    )
    assert sheet.status_code == 200 and case.receipt_code in sheet.content.decode()
    assert _client(world.user(Role.GRID_MEMBER)).get(url).status_code == 404


def test_department_replies_on_the_joint_page(world: World) -> None:
    case = submit(world, code="land")
    task = joint_task_add(
        actor=world.user(Role.PARTY_SECRETARY),
        case=case,
        department=world.a.department,
        is_lead=True,
    )
    dept = _client(world.user(Role.DEPARTMENT_STAFF))
    assert case.receipt_code in dept.get(reverse("appeals:joint")).content.decode()
    dept.post(reverse("appeals:task-reply", args=[task.pk]), {"reply": "已到现场核实"})
    task.refresh_from_db()
    assert task.reply == "已到现场核实"
    secretary = _client(world.user(Role.PARTY_SECRETARY))
    assert "已答复" in secretary.get(reverse("appeals:joint")).content.decode()


def test_wish_wall_claim(world: World) -> None:
    case = submit(world, code="wish", kind="wish", text="想要一副老花镜")
    volunteer = _client(make_user("vol", Role.RESIDENT))
    assert "想要一副老花镜" in Client().get(reverse("appeals:wish-wall")).content.decode()
    volunteer.post(
        reverse("appeals:claim", args=[case.pk]),
        {"claimant_kind": "volunteer", "label": "志愿者小李"},
    )
    assert "已被志愿者小李认领" in Client().get(reverse("appeals:wish-wall")).content.decode()


def test_proxy_intake_page(world: World) -> None:
    client = _client(world.user(Role.GRID_MEMBER))
    response = client.post(
        reverse("appeals:intake"),
        {
            "channel": "hotline",
            "kind": "problem",
            "category": "repair",
            "unit": world.a.building.pk,
            "text": "电话反映：单元门坏了",
            "idempotency_key": "hotline-1",
        },
    )
    case = Case.objects.get()
    assert response.status_code == 302 and case.channel == "hotline"
    assert case.grid_id == world.a.grid.pk


def test_a_grid_member_enters_a_case_for_the_household_they_visit(world: World) -> None:
    member = world.user(Role.GRID_LEADER)
    client = _client(member)
    household = world.a.household
    page = client.get(f"/console/my-grid/households/{household.pk}/").content.decode()
    link = f"{reverse('appeals:intake')}?household={household.pk}"
    assert link in page
    form = client.get(link).content.decode()
    assert 'id="intake-household"' in form and household.address in form
    assert f'name="household" value="{household.pk}"' in form and 'name="unit"' not in form
    assert 'value="visit" selected' in form  # a visit is the channel by default
    response = client.post(link, {"channel": "visit", "kind": "problem", "category": "repair",
                                  "household": household.pk, "text": "走访发现：厨房水管漏水",
                                  "idempotency_key": "visit-1"})  # fmt: skip
    case = Case.objects.get()
    assert response.status_code == 302
    assert (case.household_id, case.reporter_person_id) == (household.pk, world.a.person.pk)
    assert case.grid_id == world.a.grid.pk and case.channel == "visit"
    # The head's phone is the one to rate with, by receipt code, without an account.
    assert case.receipt_check != ""
    # A household the user may not see is refused, nothing made.
    other = client.post(link, {"channel": "visit", "kind": "problem", "category": "repair",
                               "household": world.b.household.pk, "text": "x",
                               "idempotency_key": "visit-2"})  # fmt: skip
    assert other.status_code == 400 and "住户不存在" in other.content.decode()
    assert Case.objects.count() == 1
    assert (
        world.b.household.address
        not in client.get(
            reverse("appeals:intake"), {"household": world.b.household.pk}
        ).content.decode()
    )


def test_notifications_page(world: World) -> None:
    case = submit(world)
    client = _client(world.user(Role.RESIDENT))
    html = client.get(reverse("appeals:notifications")).content.decode()
    assert case.receipt_code in html and "<strong>" in html
    client.post(reverse("appeals:notifications"))
    from doorstep.appeals.models import Notification

    assert not Notification.objects.filter(
        user=world.user(Role.RESIDENT), read_at__isnull=True
    ).exists()
    assert Notification.objects.filter(
        user=world.user(Role.GRID_MEMBER), read_at__isnull=True
    ).exists()


def test_grid_member_takes_up_wishes_from_visits(world: World) -> None:
    from doorstep.grids.services import visit_log

    member = world.user(Role.GRID_MEMBER)
    visit = visit_log(
        actor=member,
        household=world.a.household,
        visited_on=timeutils.local_today(),
        wishes=["想要一个晾衣架"],
    )
    wish = visit.wishes.get()
    client = _client(member)
    assert "想要一个晾衣架" in client.get(reverse("appeals:queue")).content.decode()
    client.post(reverse("appeals:wish-take-up", args=[wish.pk]))
    client.post(reverse("appeals:wish-take-up", args=[wish.pk]))
    assert Case.objects.filter(wish=wish, kind="wish").count() == 1
    # It leaves the wishes waiting and joins the queue as a case.
    html = client.get(reverse("appeals:queue")).content.decode()
    waiting = html.split("走访中收集", 1)[1] if "走访中收集" in html else ""
    assert "想要一个晾衣架" not in waiting and "想要一个晾衣架" in html
    outsider = _client(make_user("b_member", Role.COMMUNITY_STAFF, world.b.community))
    assert outsider.post(reverse("appeals:wish-take-up", args=[wish.pk])).status_code == 404


def test_party_secretary_brings_in_a_department(world: World) -> None:
    case = submit(world, code="land")
    client = _client(world.user(Role.PARTY_SECRETARY))
    page = client.get(reverse("appeals:console-case", args=[case.pk])).content.decode()
    assert "交部门会办" in page and world.a.department.name in page
    client.post(
        reverse("appeals:task-add", args=[case.pk]),
        {"department": world.a.department.pk, "is_lead": "1", "instructions": "核实"},
    )
    assert case.tasks.get().department_id == world.a.department.pk
    staff = _client(world.user(Role.COMMUNITY_STAFF))
    response = staff.post(
        reverse("appeals:task-add", args=[case.pk]), {"department": world.b.department.pk}
    )
    assert response.status_code == 404


def test_a_refused_report_says_why_in_an_alert_and_makes_nothing(world: World) -> None:
    """Each refused field's message is announced (``role="alert"``), the hidden ones'
    too: a person hears what is wrong, not just that the page came back."""
    resident = _client(world.user(Role.RESIDENT))
    response = resident.post(
        reverse("appeals:report"), _report(world, kind="x", unit="楼", lng="东", idempotency_key="")
    )
    assert response.status_code == 400
    assert alerts(response) == [
        "选择一个有效的选项。 x 不在可用的选项中。",
        "输入整数。",
        "输入一个数字。",
        "该字段是必填项。",
    ]
    staff = _client(world.user(Role.GRID_MEMBER))
    response = staff.post(
        reverse("appeals:intake"), {**_report(world), "channel": "", "reporter_phone": "1" * 31}
    )
    assert response.status_code == 400
    assert alerts(response) == [
        "该字段是必填项。",
        "确保该变量包含不超过 30 字符 (目前字符数 31)。",
    ]
    assert not Case.objects.exists()


def test_default_categories_read_in_the_readers_language_and_renamed_ones_as_written(
    world: World,
) -> None:
    """The default category tree is rows in Chinese; an English reader sees it in English
    on the report form, the case, the board and the staff's queue. A category staff
    renamed is shown as they wrote it."""
    from doorstep.appeals.models import Category
    from doorstep.appeals.selectors import forget_intake_categories

    case = submit(world)
    resident = Client(HTTP_ACCEPT_LANGUAGE="en")
    resident.force_login(world.user(Role.RESIDENT))
    form = resident.get(reverse("appeals:report")).content.decode()
    assert ">Living environment · Sanitation</option>" in form and "环境卫生" not in form
    page = resident.get(reverse("appeals:case", args=[case.pk])).content.decode()
    assert "Sanitation</h1>" in page
    board = Client(HTTP_ACCEPT_LANGUAGE="en").get(
        reverse("appeals:board", args=[world.a.community.pk])
    )
    assert 'data-label="Category">Sanitation</td>' in board.content.decode()
    staff = Client(HTTP_ACCEPT_LANGUAGE="en")
    staff.force_login(world.user(Role.COMMUNITY_STAFF))
    assert (
        "Sanitation" in staff.get(reverse("appeals:console-case", args=[case.pk])).content.decode()
    )

    Category.objects.filter(code="sanitation").update(name="楼道杂物")
    forget_intake_categories()
    board = Client(HTTP_ACCEPT_LANGUAGE="en").get(
        reverse("appeals:board", args=[world.a.community.pk])
    )
    assert 'data-label="Category">楼道杂物</td>' in board.content.decode()
    chinese = _client(world.user(Role.RESIDENT)).get(reverse("appeals:report")).content.decode()
    assert ">人居环境 · 楼道杂物</option>" in chinese


def test_the_state_filters_mean_what_they_say_on_both_boards(world: World) -> None:
    """The staff's board shows the open cases unless told otherwise, and says so in its
    select; "all" shows the closed ones too. On the public board "open" filters."""
    staff = world.user(Role.COMMUNITY_STAFF)
    open_case = submit(world, text="还开着的")
    done = submit(world, text="已经办完的")
    step(done, staff, Action.REJECT, note="不属于本社区受理范围")
    client = _client(staff)
    url = f"{reverse('appeals:triage')}?unit={world.a.community.pk}"
    page = client.get(url).content.decode()
    assert open_case.receipt_code in page and done.receipt_code not in page
    options = page.split('name="state"', 1)[1].split("</select>", 1)[0]
    assert options.index('value="open"') < options.index('value="all"')  # shown first
    everything = client.get(url + "&state=all").content.decode()
    assert open_case.receipt_code in everything and done.receipt_code in everything
    assert 'value="all" selected' in everything
    Case.objects.update(is_public=True)
    board = reverse("appeals:board", args=[world.a.community.pk])
    public_open = Client().get(board, {"state": "open"}).content.decode()
    public_all = Client().get(board).content.decode()
    assert open_case.receipt_code in public_open and done.receipt_code not in public_open
    assert open_case.receipt_code in public_all and done.receipt_code in public_all
