"""The console pages for disputes (mediation), suggestions (金点子) and the category
tree, driven through the test client: what they show, what they change, bad input and
scope."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from doorstep.accounts.roles import Role
from doorstep.appeals.choices import CaseKind, CategoryChangeAction, MediationOutcome
from doorstep.appeals.models import Case, CaseEvent, Category, CategoryChange, Mediation
from doorstep.appeals.services import category_update
from doorstep.conftest import World, make_user
from doorstep.core import timeutils
from doorstep.core.errors import PermissionDenied, ValidationError

from .factories import submit

pytestmark = pytest.mark.django_db


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _dispute(world: World, **kwargs: Any) -> Case:
    return submit(
        world, code="neighbour", kind=CaseKind.DISPUTE, text="两户因渔排边界争执", **kwargs
    )


def _local(moment: dt.datetime) -> str:
    return timeutils.local(moment).strftime("%Y-%m-%dT%H:%M")


# --- Disputes ---------------------------------------------------------------------------------


def test_dispute_mediated_from_assignment_to_agreement(world: World) -> None:
    case = _dispute(world)
    staff = world.user(Role.COMMUNITY_STAFF)
    client = _client(staff)
    url = reverse("appeals:dispute", args=[case.pk])
    page = client.get(url)
    assert page.status_code == 200 and "安排调解员（和事佬）" in page.content.decode()
    # The old captain has an account but no staff role: staff name him by account.
    captain = make_user("old_captain", Role.RESIDENT)
    response = client.post(
        url, {"step": "assign", "mediator_username": "old_captain", "parties": "张家、李家"}
    )
    assert response.status_code == 302
    mediation = Mediation.objects.get(case=case)
    assert mediation.mediator == captain and mediation.parties == "张家、李家"
    held = timeutils.now() - dt.timedelta(hours=2)
    response = client.post(
        url,
        {"step": "session", "held_at": _local(held), "place": "海上议事厅", "notes": "双方陈述"},
    )
    assert response.status_code == 302 and mediation.sessions.count() == 1
    response = client.post(
        url, {"step": "conclude", "outcome": "agreement", "agreement": "以界桩为准，各退一米"}
    )
    assert response.status_code == 302
    mediation.refresh_from_db()
    assert mediation.outcome == MediationOutcome.AGREEMENT and mediation.concluded_at
    html = client.get(url).content.decode()
    assert "以界桩为准" in html and 'value="session"' not in html
    notes = list(
        CaseEvent.objects.filter(case=case, action="note").values_list("note", "is_public")
    )
    assert ("已安排调解员。", True) in notes and ("召开调解会。", False) in notes
    assert ("调解达成协议。", True) in notes
    # The period's figures count it, per month too.
    listing = client.get(f"{reverse('appeals:disputes')}?unit={world.a.community.pk}")
    body = listing.content.decode()
    assert listing.status_code == 200
    assert 'id="disputes-concluded">1<' in body and 'id="disputes-agreements">1<' in body
    assert case.receipt_code in body


def test_dispute_bad_input_names_the_field_and_changes_nothing(world: World) -> None:
    case = _dispute(world)
    client = _client(world.user(Role.COMMUNITY_STAFF))
    url = reverse("appeals:dispute", args=[case.pk])
    response = client.post(url, {"step": "assign", "mediator_username": "nobody", "parties": "甲"})
    assert response.status_code == 400 and "没有这个账号" in response.content.decode()
    response = client.post(url, {"step": "assign", "mediator": "", "parties": "张家、李家"})
    assert response.status_code == 400 and "请选择调解员" in response.content.decode()
    # Sessions before a mediator exists are refused.
    response = client.post(url, {"step": "session", "held_at": _local(timeutils.now())})
    assert response.status_code == 400 and "请先安排调解员" in response.content.decode()
    assert not Mediation.objects.exists()
    member = world.user(Role.GRID_MEMBER)
    client.post(url, {"step": "assign", "mediator": member.pk, "parties": "张家、李家"})
    mediation = Mediation.objects.get()
    future = timeutils.now() + dt.timedelta(days=2)
    response = client.post(url, {"step": "session", "held_at": _local(future)})
    assert response.status_code == 400 and "不能晚于现在" in response.content.decode()
    response = client.post(url, {"step": "conclude", "outcome": "agreement", "agreement": ""})
    assert response.status_code == 400 and "此项不能为空" in response.content.decode()
    response = client.post(url, {"step": "conclude", "outcome": "agreement", "agreement": "和解"})
    assert response.status_code == 400 and "至少一次调解会" in response.content.decode()
    response = client.post(url, {"step": "conclude", "outcome": "maybe"})
    assert response.status_code == 400
    mediation.refresh_from_db()
    assert mediation.outcome == MediationOutcome.PENDING and not mediation.sessions.exists()
    # A period whose end is before its start names the field.
    bad = client.get(f"{reverse('appeals:disputes')}?start=2026-05-01&end=2026-04-01")
    assert bad.status_code == 400 and "结束日期不能早于开始日期" in bad.content.decode()


def test_a_resident_without_an_account_mediates_and_staff_record_it(world: World) -> None:
    """The 和事佬 is an old party member in the registry with no account: staff name her
    by phone or by a name only she bears; a shared name, a short number, a resident of
    another tree or both kinds of mediator at once are refused, naming the field, and
    change nothing. Staff then log her sessions and the outcome."""
    from django.db import IntegrityError, transaction

    from doorstep.people.services import person_create

    case = _dispute(world)
    client = _client(world.user(Role.COMMUNITY_STAFF))
    url = reverse("appeals:dispute", args=[case.pk])
    elder = person_create(name="周桂兰", unit=world.a.building, phone="13700001111")
    person_create(name="王建国", unit=world.a.building)
    person_create(name="王建国", unit=world.a.compound)
    person_create(name="孙玉珍", unit=world.b.building, phone="13700002222")
    make_user("old_captain", Role.RESIDENT)
    refusals = [
        ({"mediator_person": "王建国"}, "不止一位居民"),
        ({"mediator_person": "1111"}, "完整的11位手机号"),
        ({"mediator_person": "13700002222"}, "没有找到这位居民"),  # tree B's resident
        ({"mediator_person": "赵某某"}, "没有找到这位居民"),
        ({"mediator_person": "周桂兰", "mediator_username": "old_captain"}, "只能选一位"),
    ]
    for form, message in refusals:
        response = client.post(url, {"step": "assign", "parties": "张家、李家", **form})
        assert response.status_code == 400 and message in response.content.decode(), form
    assert not Mediation.objects.exists()
    for typed in ("13700001111", "周桂兰"):
        response = client.post(
            url, {"step": "assign", "mediator_person": typed, "parties": "张家、李家"}
        )
        assert response.status_code == 302, typed
        mediation = Mediation.objects.get(case=case)
        assert (mediation.mediator_person, mediation.mediator) == (elder, None)
    page = client.get(url).content.decode()
    assert "周桂兰" in page and "由工作人员代为登记" in page
    held = timeutils.now() - dt.timedelta(hours=1)
    assert client.post(url, {"step": "session", "held_at": _local(held)}).status_code == 302
    response = client.post(url, {"step": "conclude", "outcome": "no_agreement"})
    assert response.status_code == 302
    mediation.refresh_from_db()
    assert mediation.outcome == MediationOutcome.NO_AGREEMENT
    listing = client.get(f"{reverse('appeals:disputes')}?unit={world.a.community.pk}")
    assert "周桂兰" in listing.content.decode()
    # The database holds the rule too: a mediation names exactly one mediator.
    with pytest.raises(IntegrityError), transaction.atomic():
        Mediation.objects.filter(pk=mediation.pk).update(mediator_person=None)


def test_dispute_pages_outside_scope_are_404(world: World) -> None:
    other = _dispute(world, tree=world.b, actor=make_user("b_res", Role.RESIDENT))
    client = _client(world.user(Role.COMMUNITY_STAFF))
    url = reverse("appeals:dispute", args=[other.pk])
    assert client.get(url).status_code == 404
    assert client.post(url, {"step": "assign", "parties": "x"}).status_code == 404
    listing = client.get(f"{reverse('appeals:disputes')}?unit={world.b.community.pk}")
    assert listing.status_code == 404
    # A case that is not a dispute has no mediation page.
    problem = submit(world)
    assert client.get(reverse("appeals:dispute", args=[problem.pk])).status_code == 404
    assert not Mediation.objects.exists()


# --- Suggestions ------------------------------------------------------------------------------


def test_suggestions_counted_and_marked(world: World) -> None:
    made = [
        submit(world, code="suggestion", kind=CaseKind.SUGGESTION, text=f"建议{i}")
        for i in range(3)
    ]
    submit(
        world,
        code="suggestion",
        kind=CaseKind.SUGGESTION,
        tree=world.b,
        actor=make_user("b_res", Role.RESIDENT),
    )
    client = _client(world.user(Role.COMMUNITY_STAFF))
    url = f"{reverse('appeals:suggestions')}?unit={world.a.community.pk}"
    first = made[0]
    response = client.post(
        url,
        {
            "case": first.pk,
            "version": first.version,
            "adopted": "yes",
            "problem_solved": "1",
            "note": "路灯改为声控",
        },
    )
    assert response.status_code == 302
    client.post(url, {"case": made[1].pk, "version": made[1].version, "adopted": "no"})
    first.refresh_from_db()
    assert first.adopted is True and first.problem_solved is True
    assert CaseEvent.objects.filter(case=first, note__contains="路灯改为声控").exists()
    page = client.get(url).content.decode()
    assert "征集金点子 3 条，解决问题 1 个。" in page
    # The city admin's subtree holds the same three (tree B's is outside it).
    city = _client(world.user(Role.CITY_ADMIN)).get(reverse("appeals:suggestions"))
    assert "征集金点子 3 条，解决问题 1 个。" in city.content.decode()
    # A period before they were made counts none.
    old = client.get(f"{url}&start=2020-01-01&end=2020-12-31").content.decode()
    assert "征集金点子 0 条，解决问题 0 个。" in old


def test_suggestion_bad_marks_change_nothing(world: World) -> None:
    case = submit(world, code="suggestion", kind=CaseKind.SUGGESTION, text="建议")
    client = _client(world.user(Role.COMMUNITY_STAFF))
    url = f"{reverse('appeals:suggestions')}?unit={world.a.community.pk}"
    response = client.post(
        url, {"case": case.pk, "version": case.version, "adopted": "no", "problem_solved": "1"}
    )
    assert response.status_code == 400 and "未采纳的金点子不能标记为解决了问题" in (
        response.content.decode()
    )
    stale = client.post(url, {"case": case.pk, "version": case.version + 5, "adopted": "yes"})
    assert stale.status_code == 409
    missing = client.post(url, {"case": case.pk, "version": case.version})
    assert missing.status_code == 400
    case.refresh_from_db()
    assert case.adopted is None and case.version == 1
    other = submit(
        world,
        code="suggestion",
        kind=CaseKind.SUGGESTION,
        tree=world.b,
        actor=make_user("b_res", Role.RESIDENT),
    )
    response = client.post(url, {"case": other.pk, "version": other.version, "adopted": "yes"})
    assert response.status_code == 404
    other.refresh_from_db()
    assert other.adopted is None


# --- Categories -------------------------------------------------------------------------------


def _category_post(**extra: Any) -> dict[str, Any]:
    data = {
        "code": "boats",
        "name": "渔船停泊",
        "parent": "",
        "description": "",
        "default_color": "yellow",
        "default_level": "community",
        "deadline_hours": "72",
        "lead_department_kind": "",
        "order": "5",
    }
    data.update(extra)
    return data


def test_category_added_edited_and_deactivated_with_history(world: World) -> None:
    admin = world.user(Role.CITY_ADMIN)
    client = _client(admin)
    url = reverse("appeals:categories")
    assert "征地拆迁安置" in client.get(url).content.decode()
    parent = Category.objects.get(code="development")
    response = client.post(url, _category_post(parent=parent.pk))
    assert response.status_code == 302
    made = Category.objects.get(code="boats")
    assert made.parent == parent and made.deadline_hours == 72
    # A new case of it gets the category's deadline, not its color's seven days.
    case = submit(world, code="boats")
    assert case.deadline is not None
    assert case.deadline - case.clock_started_at == dt.timedelta(hours=72)
    edit = reverse("appeals:category-edit", args=[made.pk])
    response = client.post(
        edit,
        _category_post(
            name="渔船停泊与避风", default_color="red", deadline_hours="", is_active="1"
        ),
    )
    assert response.status_code == 302
    made.refresh_from_db()
    assert made.name == "渔船停泊与避风" and made.default_color == "red"
    assert made.deadline_hours is None
    # Deactivating one in use keeps it (and its case): it is never deleted.
    response = client.post(
        edit, _category_post(name="渔船停泊与避风", default_color="red", deadline_hours="")
    )
    assert response.status_code == 302
    made.refresh_from_db()
    assert made.is_active is False and Case.objects.filter(category=made).exists()
    actions = list(
        CategoryChange.objects.filter(category=made).order_by("id").values_list("action", flat=True)
    )
    assert actions == [
        CategoryChangeAction.CREATE,
        CategoryChangeAction.UPDATE,
        CategoryChangeAction.DEACTIVATE,
    ]
    change = CategoryChange.objects.filter(category=made, action="update").get()
    assert change.actor == admin and change.changes["name"] == ["渔船停泊", "渔船停泊与避风"]
    assert "渔船停泊与避风" in client.get(edit).content.decode()
    with pytest.raises(ValidationError, match="未知的诉求类别"):
        submit(world, code="boats")


def test_category_bad_input_names_the_field_and_changes_nothing(world: World) -> None:
    client = _client(world.user(Role.CITY_ADMIN))
    url = reverse("appeals:categories")
    before = Category.objects.count()
    for extra, message in (
        ({"code": "sanitation"}, "代码已被使用"),
        ({"code": "Bad Code!"}, "代码只能包含"),
        ({"deadline_hours": "0"}, "办理时限应在1小时到366天之间"),
        ({"deadline_hours": "abc"}, "办理时限应为整数小时"),
        ({"name": "x" * 60}, "不能超过 50 个字"),
        ({"default_color": "blue"}, "default_color"),
    ):
        response = client.post(url, _category_post(**extra))
        assert response.status_code == 400, extra
        assert message in response.content.decode() or message == "default_color", extra
    assert Category.objects.count() == before and not CategoryChange.objects.exists()
    parent = Category.objects.get(code="living")
    edit = reverse("appeals:category-edit", args=[parent.pk])
    response = client.post(edit, _category_post(name="人居环境", default_color="green"))
    assert response.status_code == 400 and "请先停用其下的小类" in response.content.decode()
    wish = Category.objects.get(code="wish")
    with pytest.raises(ValidationError, match="不能停用"):
        category_update(actor=world.user(Role.CITY_ADMIN), category=wish, is_active=False)
    parent.refresh_from_db()
    assert parent.is_active and not CategoryChange.objects.exists()


@pytest.mark.parametrize("role", [Role.COMMUNITY_STAFF, Role.GRID_MEMBER, Role.RESIDENT])
def test_categories_are_not_there_for_other_roles(world: World, role: str) -> None:
    client = _client(world.user(role))
    sanitation = Category.objects.get(code="sanitation")
    assert client.get(reverse("appeals:categories")).status_code == 404
    response = client.post(
        reverse("appeals:category-edit", args=[sanitation.pk]),
        _category_post(name="改名", default_color="red"),
    )
    assert response.status_code == 404
    sanitation.refresh_from_db()
    assert sanitation.name == "环境卫生"
    with pytest.raises(PermissionDenied):
        category_update(actor=world.user(role), category=sanitation, name="改名")


PLACE_WORKERS = [
    Role.GRID_MEMBER,
    Role.GRID_LEADER,
    Role.COMMUNITY_STAFF,
    Role.PARTY_SECRETARY,
    Role.STREET_ADMIN,
    Role.DISTRICT_ADMIN,
    Role.COUNTY_ADMIN,
    Role.CITY_ADMIN,
]


@pytest.mark.parametrize(
    ("url_name", "roles"),
    [
        ("appeals:disputes", PLACE_WORKERS),
        ("appeals:suggestions", PLACE_WORKERS),
        ("appeals:categories", [Role.CITY_ADMIN, Role.COUNTY_ADMIN, Role.SYSTEM_ADMIN]),
    ],
)
def test_new_console_entries_open_for_their_roles(
    world: World, url_name: str, roles: list[str]
) -> None:
    """The roles the console's navigation will list for these pages can open them."""
    for role in roles:
        response = _client(world.user(role)).get(reverse(url_name))
        assert response.status_code == 200, role
