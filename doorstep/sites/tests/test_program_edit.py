"""Staff edit a program (一老一小项目) after opening it — through the service, the
console program page and ``PATCH /api/v1/site-programs/<id>/``: rename it, change its
kind, category or partner, raise or lower its capacity (never below the places taken),
move its dates (the end never before the start), and open or close online sign-up.

Each change is one history row naming the changed fields as ``[from, to]``; a submit
that changes nothing writes none. Bad input is refused naming the field and changes
nothing; a program outside the caller's scope is 404, and one the caller sees but does
not run is refused (403)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db.models import F
from django.http import Http404
from django.test import Client
from rest_framework.test import APIClient

from doorstep.accounts.roles import Role, available_roles
from doorstep.conftest import make_user, outsider
from doorstep.core.errors import PermissionDenied, ValidationError
from doorstep.core.timeutils import LOCAL_TZ
from doorstep.orgs.services import unit_create
from doorstep.people.services import person_create, person_link_account
from doorstep.sites import services
from doorstep.sites.choices import ProgramKind, SiteLevel
from doorstep.sites.models import Enrolment, Partner, Program, ServiceCategory, SiteEvent
from doorstep.sites.services import (
    program_create,
    program_enrol,
    program_self_enrol,
    program_update,
)

from . import factories as f
from .test_api_staff import FIELDS, POISON

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 3, 2, 10, 0, tzinfo=LOCAL_TZ)  # a Monday morning


@pytest.fixture(autouse=True)
def clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("doorstep.core.timeutils.now", lambda: NOW)


@pytest.fixture
def staff(world: Any) -> Any:
    return world.user(Role.COMMUNITY_STAFF)


@pytest.fixture
def program(world: Any, staff: Any) -> Program:
    """An after-school class at tree A's community center: ten places, three taken,
    run by a partner, staff-only sign-up."""
    site = f.site(world.a.community, "甲社区党群服务中心")
    partner = f.partner(world.a.community)
    made = program_create(
        actor=staff, site=site, kind=ProgramKind.AFTER_SCHOOL, name="爱心课堂",
        category="education", capacity=10, starts_on=dt.date(2026, 3, 1),
        ends_on=dt.date(2026, 6, 30), partner=partner,
    )  # fmt: skip
    people = [world.a.person] + [
        person_create(name=f"甲学员{i}", household=world.a.household, relation="grandchild")
        for i in (1, 2)
    ]
    for person in people:
        program_enrol(actor=staff, program_id=made.pk, person=person)
    SiteEvent.objects.all().delete()  # the history of setting it up is not under test
    return Program.objects.get(pk=made.pk)


def facts(program: Program) -> tuple[Any, ...]:
    """Everything an edit may change, read afresh, and the history's length."""
    row = Program.objects.get(pk=program.pk)
    return (
        row.name, row.kind, row.category_id, row.partner_id, row.capacity, row.enrolled,
        row.starts_on, row.ends_on, row.open_to_residents, SiteEvent.objects.count(),
    )  # fmt: skip


def updates(program: Program) -> list[SiteEvent]:
    return list(
        SiteEvent.objects.filter(
            object_type="program", object_id=program.pk, action="updated"
        ).order_by("id")
    )


def console_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def api_for(user: Any) -> APIClient:
    client = APIClient(HTTP_ACCEPT_LANGUAGE="zh-hans")
    client.force_authenticate(user)
    return client


def refused(response: Any, field: str | None, status: int = 400, text: str = "") -> None:
    assert response.status_code == status, response.content.decode()
    error = response.json()["errors"][0]
    assert error["field"] == field, error
    assert text in error["message"], error


# --- The service ---------------------------------------------------------------------------


def test_an_edit_changes_the_program_and_records_only_what_changed(
    program: Program, staff: Any
) -> None:
    updated = program_update(
        actor=staff, program_id=program.pk, name="  爱心课堂（春季）  ", capacity=12,
        ends_on=dt.date(2026, 7, 10), open_to_residents=True, kind=program.kind,
        category="general", starts_on=program.starts_on,
    )  # fmt: skip
    row = Program.objects.get(pk=program.pk)
    assert (row.name, row.capacity, row.ends_on, row.open_to_residents) == (
        "爱心课堂（春季）", 12, dt.date(2026, 7, 10), True,
    )  # fmt: skip
    assert row.category.code == "general" and row.enrolled == 3
    assert updated.pk == program.pk
    [event] = updates(program)
    assert (event.actor_id, event.site_id, event.unit_id) == (
        staff.pk, program.site_id, program.site.unit_id,
    )  # fmt: skip
    assert event.detail == {
        "name": ["爱心课堂", "爱心课堂（春季）"],
        "category": ["education", "general"],
        "capacity": [10, 12],
        "ends_on": ["2026-06-30", "2026-07-10"],
        "open_to_residents": [False, True],
    }


def test_the_partner_is_changed_or_taken_away(program: Program, staff: Any, world: Any) -> None:
    other = f.partner(world.a.community, "爱心理发店")
    old = program.partner_id
    program_update(actor=staff, program_id=program.pk, partner=other)
    program_update(actor=staff, program_id=program.pk, partner=None)
    assert Program.objects.get(pk=program.pk).partner_id is None
    assert [e.detail for e in updates(program)] == [
        {"partner": [old, other.pk]}, {"partner": [other.pk, None]},
    ]  # fmt: skip


def test_a_submit_that_changes_nothing_writes_nothing(program: Program, staff: Any) -> None:
    before = facts(program)
    program_update(actor=staff, program_id=program.pk)
    program_update(
        actor=staff, program_id=program.pk, name=program.name, kind=program.kind,
        category="education", partner=program.partner, capacity=program.capacity,
        starts_on=program.starts_on, ends_on=program.ends_on, open_to_residents=False,
    )  # fmt: skip
    assert facts(program) == before and not updates(program)


def test_capacity_may_come_down_to_the_places_taken_and_no_further(
    program: Program, staff: Any
) -> None:
    before = facts(program)
    for capacity in (2, 0, -1):
        with pytest.raises(ValidationError) as refused_:
            program_update(actor=staff, program_id=program.pk, capacity=capacity, name="改名")
        assert refused_.value.field == "capacity"
    with pytest.raises(ValidationError, match=r"名额不能少于已报名人数（3）"):
        program_update(actor=staff, program_id=program.pk, capacity=2)
    assert facts(program) == before
    program_update(actor=staff, program_id=program.pk, capacity=3)
    assert Program.objects.get(pk=program.pk).capacity == 3
    assert [e.detail for e in updates(program)] == [{"capacity": [10, 3]}]


def test_the_database_refuses_a_capacity_below_an_enrolment_that_slipped_in(
    program: Program, staff: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Where the row lock cannot hold (SQLite), an enrolment taken between the check and
    the save is caught by ``sites_program_within_capacity``: the same refusal, naming
    the places taken now, and nothing changed (the enrolment stays)."""
    clean = services._clean

    def enrol_meanwhile(obj: Any, exclude: Any = ()) -> None:
        Program.objects.filter(pk=program.pk).update(enrolled=F("enrolled") + 1)
        clean(obj, exclude)

    monkeypatch.setattr(services, "_clean", enrol_meanwhile)
    with pytest.raises(ValidationError, match=r"名额不能少于已报名人数（4）") as refused_:
        program_update(actor=staff, program_id=program.pk, capacity=3, name="改名")
    assert refused_.value.field == "capacity"
    monkeypatch.setattr(services, "_clean", clean)
    row = Program.objects.get(pk=program.pk)
    assert (row.capacity, row.name, row.enrolled) == (10, "爱心课堂", 3)
    assert not updates(program)


def test_an_edit_never_writes_the_places_taken(
    program: Program, staff: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A sign-up between reading the row and saving it is kept: the edit saves only the
    fields it changed, never a stale count."""
    clean = services._clean

    def enrol_meanwhile(obj: Any, exclude: Any = ()) -> None:
        Program.objects.filter(pk=program.pk).update(enrolled=F("enrolled") + 1)
        clean(obj, exclude)

    monkeypatch.setattr(services, "_clean", enrol_meanwhile)
    program_update(actor=staff, program_id=program.pk, name="改名")
    assert Program.objects.get(pk=program.pk).enrolled == 4


@pytest.mark.parametrize(
    "changes,field,text",
    [
        ({"ends_on": dt.date(2026, 2, 28)}, "ends_on", "结束日期不能早于开始日期"),
        ({"starts_on": dt.date(2026, 7, 1)}, "starts_on", "结束日期不能早于开始日期"),
        ({"starts_on": dt.date(2026, 5, 1), "ends_on": dt.date(2026, 4, 1)}, "ends_on",
         "结束日期不能早于开始日期"),
        ({"kind": "circus"}, "kind", "未知的项目类型"),
        ({"category": "nonsense"}, "category", "nonsense"),
        ({"category": ""}, "category", "请选择服务类别"),
        ({"name": "   "}, "name", ""),
    ],
)  # fmt: skip
def test_bad_edits_are_refused_naming_the_field_and_change_nothing(
    program: Program, staff: Any, changes: dict[str, Any], field: str, text: str
) -> None:
    before = facts(program)
    with pytest.raises(ValidationError, match=text or None) as refused_:
        program_update(actor=staff, program_id=program.pk, capacity=20, **changes)
    assert refused_.value.field == field
    assert facts(program) == before


def test_a_new_partner_must_be_in_scope_and_working_the_old_one_may_stay(
    program: Program, staff: Any, world: Any
) -> None:
    stopped = f.partner(world.a.community, "已停用的社工站")
    Partner.objects.filter(pk=stopped.pk).update(is_active=False)
    stopped.refresh_from_db()
    foreign = f.partner(world.b.community, "乙合伙人")
    before = facts(program)
    for partner, text in [(stopped, "已停用"), (foreign, "不在您的管理范围内")]:
        with pytest.raises(ValidationError, match=text) as refused_:
            program_update(actor=staff, program_id=program.pk, partner=partner)
        assert refused_.value.field == "partner"
    assert facts(program) == before
    # The partner the program has may be stopped since; other edits still go through.
    current = program.partner
    assert current is not None
    Partner.objects.filter(pk=current.pk).update(is_active=False)
    current.refresh_from_db()
    program_update(actor=staff, program_id=program.pk, partner=current, capacity=11)
    assert [e.detail for e in updates(program)] == [{"capacity": [10, 11]}]


def test_a_retired_category_the_program_has_is_kept(program: Program, staff: Any) -> None:
    ServiceCategory.objects.filter(code="education").update(is_active=False)
    program_update(actor=staff, program_id=program.pk, category="education", name="新名字")
    assert Program.objects.get(pk=program.pk).category.code == "education"


def test_only_who_runs_the_site_edits_its_programs(program: Program, world: Any) -> None:
    """Another tree's staff cannot see the program (404); roles that see it without
    running the site are refused (403); nothing changes either way."""
    before = facts(program)
    with pytest.raises(Http404):
        program_update(actor=outsider(world), program_id=program.pk, capacity=20)
    for role in (Role.GRID_MEMBER, Role.RESIDENT):
        with pytest.raises((PermissionDenied, Http404)):
            program_update(actor=world.user(role), program_id=program.pk, capacity=20)
    missing: Any
    for missing in (999_999, 2**70, 0, "1; drop"):
        with pytest.raises(Http404):
            program_update(actor=world.user(Role.COMMUNITY_STAFF), program_id=missing, name="x")
    assert facts(program) == before
    # The street above runs the community's sites.
    program_update(actor=world.user(Role.STREET_ADMIN), program_id=program.pk, capacity=20)
    assert Program.objects.get(pk=program.pk).capacity == 20


def test_a_served_communitys_staff_see_an_area_centers_program_but_do_not_edit_it(
    world: Any,
) -> None:
    street = world.a.street
    area = unit_create(kind="area", name="甲片区", parent=street)
    second = unit_create(kind="community", name="丙社区", code="510502001002", parent=street)
    area.spans.add(second)
    center = f.site(area, "甲片区党群服务中心", level=SiteLevel.AREA_CENTER)
    program = f.program(center)
    neighbour = make_user("second_staff", Role.COMMUNITY_STAFF, second)
    before = facts(program)
    with pytest.raises(PermissionDenied):
        program_update(actor=neighbour, program_id=program.pk, capacity=20)
    refused(api_for(neighbour).patch(f"/api/v1/site-programs/{program.pk}/", {"capacity": 20},
                                     format="json"), None, 403)  # fmt: skip
    page = console_for(neighbour).get(f"/console/sites/programs/{program.pk}/")
    assert page.status_code == 200 and "编辑项目" not in page.content.decode()
    response = console_for(neighbour).post(
        f"/console/sites/programs/{program.pk}/", console_post(program, capacity="20")
    )
    assert response.status_code == 404
    assert facts(program) == before


# --- Online sign-up follows open_to_residents ----------------------------------------------


def test_opening_sign_up_lets_a_resident_enrol_and_closing_it_refuses(
    program: Program, staff: Any, world: Any
) -> None:
    resident = world.user(Role.RESIDENT)
    me = person_link_account(person=world.a.person, user=resident)
    Enrolment.objects.filter(person=me).update(status="withdrawn")
    Program.objects.filter(pk=program.pk).update(enrolled=2)
    child = person_create(name="甲小宝", household=world.a.household, relation="grandchild")
    with pytest.raises(ValidationError, match="不接受在线报名"):
        program_self_enrol(actor=resident, program_id=program.pk, person_id=me.pk)

    response = api_for(staff).patch(
        f"/api/v1/site-programs/{program.pk}/", {"open_to_residents": True}, format="json"
    )
    assert response.status_code == 200 and response.json()["open_to_residents"] is True
    enrolment = program_self_enrol(actor=resident, program_id=program.pk, person_id=me.pk)
    assert enrolment.status == "active"

    response = api_for(staff).patch(
        f"/api/v1/site-programs/{program.pk}/", {"open_to_residents": False}, format="json"
    )
    assert response.status_code == 200 and response.json()["open_to_residents"] is False
    with pytest.raises(ValidationError, match="不接受在线报名") as refused_:
        program_self_enrol(actor=resident, program_id=program.pk, person_id=child.pk)
    assert refused_.value.field == "program"
    assert not Enrolment.objects.filter(person=child).exists()
    assert [e.detail for e in updates(program)] == [
        {"open_to_residents": [False, True]}, {"open_to_residents": [True, False]},
    ]  # fmt: skip


# --- The console ---------------------------------------------------------------------------


def console_post(program: Program, **overrides: str) -> dict[str, Any]:
    data: dict[str, Any] = {
        "action": "update", "edit-kind": program.kind, "edit-name": program.name,
        "edit-category": program.category.code, "edit-capacity": str(program.capacity),
        "edit-starts_on": program.starts_on.isoformat(),
        "edit-ends_on": program.ends_on.isoformat(),
        "edit-partner": str(program.partner_id or ""),
    }  # fmt: skip
    for key, value in overrides.items():
        data[f"edit-{key}"] = value
    return data


def test_staff_edit_a_program_from_its_console_page(program: Program, staff: Any) -> None:
    client = console_for(staff)
    url = f"/console/sites/programs/{program.pk}/"
    page = client.get(url).content.decode()
    assert "编辑项目" in page and 'value="爱心课堂"' in page
    response = client.post(
        url, console_post(program, name="暑期托管班", capacity="15", open_to_residents="on",
                          ends_on="2026-08-31", kind=ProgramKind.SUMMER_CARE, partner=""),
    )  # fmt: skip
    assert response.status_code == 302 and response["Location"] == url
    row = Program.objects.get(pk=program.pk)
    assert (row.name, row.capacity, row.kind, row.partner_id, row.open_to_residents) == (
        "暑期托管班", 15, ProgramKind.SUMMER_CARE, None, True,
    )  # fmt: skip
    assert row.ends_on == dt.date(2026, 8, 31)
    [event] = updates(program)
    assert set(event.detail) == {"name", "capacity", "kind", "partner", "ends_on",
                                 "open_to_residents"}  # fmt: skip
    assert "项目已保存" in client.get(url).content.decode()
    # Sending the form back unchanged writes nothing.
    assert client.post(url, console_post(row, open_to_residents="on")).status_code == 302
    assert len(updates(program)) == 1


@pytest.mark.parametrize(
    "overrides,label,text",
    [
        ({"capacity": "2"}, "名额：", "名额不能少于已报名人数（3）"),
        ({"capacity": "abc"}, "名额：", ""),
        ({"capacity": "-1"}, "名额：", ""),
        ({"capacity": str(2**70)}, "名额：", ""),
        ({"ends_on": "2026-02-01"}, "结束日期：", "结束日期不能早于开始日期"),
        ({"starts_on": "2026-13-45"}, "开始日期：", ""),
        ({"kind": "circus"}, "类型：", ""),
        ({"category": "nonsense"}, "服务类别：", ""),
        ({"name": ""}, "项目名称：", ""),
        ({"partner": "999999"}, "承办合伙人：", ""),
    ],
)
def test_bad_console_edits_rerender_with_the_field_named_and_change_nothing(
    program: Program, staff: Any, overrides: dict[str, str], label: str, text: str
) -> None:
    before = facts(program)
    response = console_for(staff).post(
        f"/console/sites/programs/{program.pk}/",
        console_post(program, **{"name": "改了名字", **overrides}),
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert label in page and text in page
    assert "<details open>" in page  # the form stays open with what was typed
    assert facts(program) == before


def test_a_partner_out_of_scope_or_stopped_is_not_offered_but_the_current_one_is(
    program: Program, staff: Any, world: Any
) -> None:
    foreign = f.partner(world.b.community, "乙合伙人")
    stopped = f.partner(world.a.community, "已停用的社工站")
    Partner.objects.filter(pk__in=[stopped.pk, program.partner_id]).update(is_active=False)
    client = console_for(staff)
    url = f"/console/sites/programs/{program.pk}/"
    for partner in (foreign, stopped):
        response = client.post(url, console_post(program, partner=str(partner.pk)))
        assert response.status_code == 400 and "承办合伙人：" in response.content.decode()
    # The current partner, stopped since, still lets the rest of the form be saved.
    assert client.post(url, console_post(program, capacity="12")).status_code == 302
    assert Program.objects.get(pk=program.pk).capacity == 12


def test_the_console_form_is_only_for_who_runs_the_site(program: Program, world: Any) -> None:
    url = f"/console/sites/programs/{program.pk}/"
    before = facts(program)
    looker = console_for(world.user(Role.GRID_MEMBER))
    page = looker.get(url)
    assert page.status_code == 200 and "编辑项目" not in page.content.decode()
    assert looker.post(url, console_post(program, capacity="20")).status_code == 404
    for user in (outsider(world), world.user(Role.RESIDENT)):
        assert console_for(user).post(url, console_post(program, capacity="20")).status_code == 404
    assert facts(program) == before


# --- The API -------------------------------------------------------------------------------


def test_staff_patch_a_program(program: Program, staff: Any, world: Any) -> None:
    other = f.partner(world.a.community, "爱心理发店")
    url = f"/api/v1/site-programs/{program.pk}/"
    response = api_for(staff).patch(
        url, {"capacity": 25, "name": "爱心课堂二期", "starts_on": "2026-03-02",
              "category": "general", "partner": other.pk}, format="json",
    )  # fmt: skip
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["id"], body["capacity"], body["remaining"], body["name"]) == (
        program.pk, 25, 22, "爱心课堂二期",
    )  # fmt: skip
    assert (body["starts_on"], body["category"], body["partner"]) == (
        "2026-03-02", "general", "爱心理发店",
    )  # fmt: skip
    assert api_for(staff).get(url).json() == body
    [event] = updates(program)
    assert event.detail["capacity"] == [10, 25] and event.detail["partner"][1] == other.pk
    # An empty patch and a patch of the same values change nothing.
    assert api_for(staff).patch(url, {}, format="json").json() == body
    assert api_for(staff).patch(url, {"capacity": 25, "partner": other.pk},
                                format="json").json() == body  # fmt: skip
    assert len(updates(program)) == 1
    # null takes the partner away.
    response = api_for(staff).patch(url, {"partner": None}, format="json")
    assert response.status_code == 200 and response.json()["partner"] is None


@pytest.mark.parametrize(
    "body,field,text",
    [
        ({"capacity": "abc"}, "capacity", ""),
        ({"capacity": -1}, "capacity", ""),
        ({"capacity": 0}, "capacity", ""),
        ({"capacity": 2**70}, "capacity", ""),
        ({"capacity": 2}, "capacity", "名额不能少于已报名人数（3）"),
        ({"starts_on": "2026-02-30"}, "starts_on", ""),
        ({"ends_on": "tomorrow"}, "ends_on", ""),
        ({"ends_on": "9999-12-31"}, "ends_on", ""),
        ({"ends_on": "2026-02-28"}, "ends_on", "结束日期不能早于开始日期"),
        ({"starts_on": "2026-07-01"}, "starts_on", "结束日期不能早于开始日期"),
        ({"starts_on": "2026-05-01", "ends_on": "2026-04-30"}, "ends_on", "结束日期不能早于开始日期"),
        ({"category": "nonsense"}, "category", "nonsense"),
        ({"category": "不是代码"}, "category", ""),
        ({"kind": "circus"}, "kind", ""),
        ({"name": ""}, "name", ""),
        ({"name": "x" * 101}, "name", ""),
        ({"open_to_residents": "perhaps"}, "open_to_residents", ""),
        ({"partner": 999_999}, "partner", "不在您的管理范围内"),
        ({"partner": 2**70}, "partner", ""),
        ({"partner": "一"}, "partner", ""),
    ],
)  # fmt: skip
def test_bad_patches_are_a_400_naming_the_field_and_change_nothing(
    program: Program, staff: Any, body: dict[str, Any], field: str, text: str
) -> None:
    before = facts(program)
    response = api_for(staff).patch(
        f"/api/v1/site-programs/{program.pk}/", {"name": "改了名字", **body}, format="json"
    )
    refused(response, field, 400, text)
    assert facts(program) == before


def test_a_partner_of_another_tree_or_stopped_is_refused(
    program: Program, staff: Any, world: Any
) -> None:
    foreign = f.partner(world.b.community, "乙合伙人")
    stopped = f.partner(world.a.community, "已停用的社工站")
    Partner.objects.filter(pk=stopped.pk).update(is_active=False)
    before = facts(program)
    url = f"/api/v1/site-programs/{program.pk}/"
    refused(api_for(staff).patch(url, {"partner": foreign.pk}, format="json"), "partner")
    refused(api_for(staff).patch(url, {"partner": stopped.pk}, format="json"), "partner", 400,
            "已停用")  # fmt: skip
    assert facts(program) == before


def test_who_may_not_edit_gets_404_or_403_and_nothing_changes(program: Program, world: Any) -> None:
    url = f"/api/v1/site-programs/{program.pk}/"
    before = facts(program)
    refused(api_for(outsider(world)).patch(url, {"capacity": 20}, format="json"), None, 404)
    resident = api_for(world.user(Role.RESIDENT)).patch(url, {"capacity": 20}, format="json")
    assert resident.status_code in (403, 404), resident.content
    refused(api_for(world.user(Role.GRID_MEMBER)).patch(url, {"capacity": 20}, format="json"),
            None, 403)  # fmt: skip
    assert APIClient().patch(url, {"capacity": 20}, format="json").status_code in (401, 403)
    assert api_for(world.user(Role.COMMUNITY_STAFF)).patch(
        "/api/v1/site-programs/999999/", {"capacity": 20}, format="json"
    ).status_code == 404  # fmt: skip
    assert facts(program) == before


@pytest.mark.parametrize("role", sorted(Role.values))
def test_no_role_edits_a_program_of_the_other_tree(world: Any, role: str) -> None:
    """The scope matrix for the write: a program made in tree B, PATCHed and posted to by
    each role of tree A, is not found and stays as it was."""
    if role not in available_roles():
        pytest.skip(f"{role}: the app owning its scope kind is not installed yet")
    user = world.user(role)
    program = f.program(f.site(world.b.community), p=f.partner(world.b.community))
    before = facts(program)
    patched = api_for(user).patch(
        f"/api/v1/site-programs/{program.pk}/", {"capacity": 20}, format="json"
    )
    assert patched.status_code == 404, (role, patched.content)
    posted = console_for(user).post(
        f"/console/sites/programs/{program.pk}/", console_post(program, capacity="20")
    )
    assert posted.status_code == 404, role
    assert facts(program) == before


def test_garbage_in_every_field_is_a_clear_error_never_a_500(program: Program, staff: Any) -> None:
    client = api_for(staff)
    client.raise_request_exception = False
    before = facts(program)
    url = f"/api/v1/site-programs/{program.pk}/"
    for body in [[], "x", *({name: value for name in FIELDS} for value in POISON)]:
        response = client.patch(url, body, format="json")
        assert 400 <= response.status_code < 500, (body, response.content)
        assert response.json()["errors"][0]["message"], body
    assert facts(program) == before


def test_a_patch_that_leaves_out_open_to_residents_keeps_it(program: Program, staff: Any) -> None:
    """The edit has no defaults: a field left out is kept, never reset."""
    Program.objects.filter(pk=program.pk).update(open_to_residents=True)
    url = f"/api/v1/site-programs/{program.pk}/"
    response = api_for(staff).patch(url, {"capacity": 11}, format="json")
    assert response.status_code == 200 and response.json()["open_to_residents"] is True
    assert [e.detail for e in updates(program)] == [{"capacity": [10, 11]}]
