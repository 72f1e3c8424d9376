"""Residents enrol themselves or a member of their household in a program open to
residents (一老一小), see their household's enrolments and withdraw them — through the
services, the site page and /sites/mine/, and the API. A person outside the household,
a program that is staff-only, ended or full, or a second sign-up is refused naming the
field, and nothing changes; the count of places never exceeds the capacity."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from rest_framework.test import APIClient

from doorstep.accounts import scoping
from doorstep.accounts.roles import Role
from doorstep.accounts.services import role_grant
from doorstep.conftest import make_user
from doorstep.core.errors import Conflict, NotFound, PermissionDenied, ValidationError
from doorstep.core.timeutils import LOCAL_TZ
from doorstep.people.models import Person
from doorstep.people.services import household_create, person_create, person_link_account
from doorstep.sites.choices import ProgramKind
from doorstep.sites.models import Attendance, Enrolment, Program, SiteEvent
from doorstep.sites.services import (
    program_create,
    program_enrol,
    program_self_enrol,
    program_self_withdraw,
)

from . import factories as f

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 3, 2, 10, 0, tzinfo=LOCAL_TZ)  # a Monday morning
TODAY = NOW.date()


@pytest.fixture(autouse=True)
def clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("doorstep.core.timeutils.now", lambda: NOW)


@pytest.fixture
def home(world: Any) -> dict[str, Any]:
    """Tree A's resident account linked to 甲居民, who lives with a grandchild and a
    mother; a neighbour in the next flat; a community center with a class open to
    residents (two places) and a day care that staff enrol into."""
    resident = world.user(Role.RESIDENT)
    me = person_link_account(person=world.a.person, user=resident)
    household = world.a.household
    child = person_create(
        name="甲小宝", household=household, relation="grandchild",
        birth_date=dt.date(2018, 5, 1), guardian=me,
    )  # fmt: skip
    mother = person_create(
        name="甲奶奶", household=household, relation="parent", birth_date=dt.date(1950, 1, 1)
    )
    next_door = household_create(unit=world.a.building, entrance="1", room="102")
    neighbour = person_create(name="甲邻居", household=next_door, relation="head")
    staff = world.user(Role.COMMUNITY_STAFF)
    site = f.site(world.a.community, "甲社区党群服务中心")
    kids = program_create(
        actor=staff, site=site, kind=ProgramKind.AFTER_SCHOOL, name="爱心课堂",
        category="education", capacity=2, starts_on=dt.date(2026, 2, 1),
        ends_on=dt.date(2026, 6, 30), open_to_residents=True,
    )  # fmt: skip
    care = program_create(
        actor=staff, site=site, kind=ProgramKind.DAY_CARE, name="日间照料",
        category="elderly", capacity=10, starts_on=dt.date(2026, 1, 1),
        ends_on=dt.date(2026, 12, 31),
    )  # fmt: skip
    return {
        "resident": resident, "me": me, "child": child, "mother": mother,
        "neighbour": neighbour, "staff": staff, "site": site, "kids": kids, "care": care,
    }  # fmt: skip


def state() -> tuple[Any, ...]:
    """Everything an enrolment changes: the rows, their states and the places taken."""
    return (
        sorted(Enrolment.objects.values_list("pk", "status")),
        sorted(Program.objects.values_list("pk", "enrolled")),
        SiteEvent.objects.filter(object_type="enrolment").count(),
    )


def enrolled(program: Program) -> int:
    return Program.objects.get(pk=program.pk).enrolled


def client_for(user: Any = None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def api_for(user: Any = None, language: str = "zh-hans") -> APIClient:
    client = APIClient(HTTP_ACCEPT_LANGUAGE=language)
    if user is not None:
        client.force_authenticate(user)
    return client


def error_of(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.content.decode()
    return dict(response.json()["errors"][0])


# --- Services -----------------------------------------------------------------------------


def test_a_resident_enrols_themselves_and_a_household_member(home: dict[str, Any]) -> None:
    resident, kids = home["resident"], home["kids"]
    mine = program_self_enrol(actor=resident, program_id=kids.pk, person_id=home["me"].pk)
    child = program_self_enrol(actor=resident, program_id=kids.pk, person_id=home["child"].pk)
    assert (mine.person, mine.status, mine.enrolled_on) == (home["me"], "active", TODAY)
    assert (child.person, child.program) == (home["child"], kids)
    assert enrolled(kids) == 2
    events = SiteEvent.objects.filter(object_type="enrolment", action="enrolled").order_by("id")
    assert [(e.object_id, e.actor_id, e.detail) for e in events] == [
        (mine.pk, resident.pk, {"program": kids.pk, "person": home["me"].pk}),
        (child.pk, resident.pk, {"program": kids.pk, "person": home["child"].pk}),
    ]


@pytest.mark.parametrize(
    "who",
    ["neighbour", "other_tree", "pseudonymized", "departed", "missing", "huge", "zero", "text"],
)
def test_a_person_outside_the_household_is_refused_naming_person(
    world: Any, home: dict[str, Any], who: str
) -> None:
    """The same answer whether the person exists or not: nobody can probe the registry."""
    gone = person_create(name="甲已注销", household=world.a.household, relation="other")
    Person.objects.filter(pk=gone.pk).update(pseudonymized_at=NOW)
    # A member who moved out of the area (or died) is no longer one the household acts for.
    departed = person_create(name="甲已迁出", household=world.a.household, relation="other")
    Person.objects.filter(pk=departed.pk).update(left_on=TODAY, left_reason="moved_away")
    person_id: Any = {
        "departed": departed.pk,
        "neighbour": home["neighbour"].pk, "other_tree": world.b.person.pk,
        "pseudonymized": gone.pk, "missing": 999_999, "huge": 2**70, "zero": 0, "text": "1",
    }[who]  # fmt: skip
    before = state()
    with pytest.raises(ValidationError, match="只能为本人或同户家庭成员报名") as refused:
        program_self_enrol(actor=home["resident"], program_id=home["kids"].pk, person_id=person_id)
    assert refused.value.field == "person"
    assert state() == before


@pytest.mark.parametrize(
    "case,error,field,text",
    [
        ("staff_only", ValidationError, "program", "请到阵地报名"),
        ("ended", ValidationError, "program", "已结束"),
        ("site_closed", NotFound, "program", "找不到该项目"),
        ("no_such_program", NotFound, "program", "找不到该项目"),
        ("full", Conflict, "program", "名额已满"),
        ("twice", Conflict, "person", "已报名"),
    ],
)
def test_a_program_that_cannot_take_the_person_is_refused(
    home: dict[str, Any], case: str, error: type[Exception], field: str, text: str
) -> None:
    resident, kids = home["resident"], home["kids"]
    program_id = kids.pk
    if case == "staff_only":
        program_id = home["care"].pk
    elif case == "ended":
        Program.objects.filter(pk=kids.pk).update(ends_on=TODAY - dt.timedelta(days=1))
    elif case == "site_closed":
        type(home["site"]).objects.filter(pk=home["site"].pk).update(is_active=False)
    elif case == "no_such_program":
        program_id = 999_999
    elif case == "full":
        program_self_enrol(actor=resident, program_id=kids.pk, person_id=home["mother"].pk)
        program_self_enrol(actor=resident, program_id=kids.pk, person_id=home["child"].pk)
    elif case == "twice":
        program_self_enrol(actor=resident, program_id=kids.pk, person_id=home["me"].pk)
    before = state()
    with pytest.raises(error, match=text) as refused:
        program_self_enrol(actor=resident, program_id=program_id, person_id=home["me"].pk)
    assert refused.value.field == field  # type: ignore[attr-defined]
    assert state() == before
    assert enrolled(kids) <= kids.capacity


def test_a_program_ending_today_still_takes_sign_ups(home: dict[str, Any]) -> None:
    Program.objects.filter(pk=home["kids"].pk).update(ends_on=TODAY)
    program_self_enrol(actor=home["resident"], program_id=home["kids"].pk, person_id=home["me"].pk)
    assert enrolled(home["kids"]) == 1


def test_filling_the_last_place_twice_never_exceeds_capacity(home: dict[str, Any]) -> None:
    """Two sign-ups for the last place (sequential here; the conditional UPDATE that
    takes the place is what keeps concurrent ones apart too): one gets it."""
    resident, kids = home["resident"], home["kids"]
    staff_enrolled = program_enrol(actor=home["staff"], program_id=kids.pk, person=home["mother"])
    assert enrolled(kids) == 1
    program_self_enrol(actor=resident, program_id=kids.pk, person_id=home["child"].pk)
    with pytest.raises(Conflict, match="名额已满"):
        program_self_enrol(actor=resident, program_id=kids.pk, person_id=home["me"].pk)
    assert enrolled(kids) == kids.capacity == 2
    assert Enrolment.objects.filter(program=kids, status="active").count() == 2
    # The place given back by a withdrawal is taken again, once.
    program_self_withdraw(actor=resident, enrolment_id=staff_enrolled.pk)
    program_self_enrol(actor=resident, program_id=kids.pk, person_id=home["me"].pk)
    with pytest.raises(Conflict, match="名额已满"):
        program_self_enrol(actor=resident, program_id=kids.pk, person_id=home["mother"].pk)
    assert enrolled(kids) == 2


def test_a_resident_without_a_linked_person_is_told_to_ask_the_community(
    world: Any, home: dict[str, Any]
) -> None:
    stranger = make_user("unlinked", Role.RESIDENT)
    before = state()
    with pytest.raises(PermissionDenied, match="联系所在社区") as refused:
        program_self_enrol(actor=stranger, program_id=home["kids"].pk, person_id=home["me"].pk)
    assert refused.value.field == "person"
    enrolment = program_self_enrol(
        actor=home["resident"], program_id=home["kids"].pk, person_id=home["me"].pk
    )
    with pytest.raises(PermissionDenied, match="联系所在社区"):
        program_self_withdraw(actor=stranger, enrolment_id=enrolment.pk)
    assert state()[0] == [(enrolment.pk, "active")]
    assert before[0] == []


def test_a_resident_withdraws_their_household_enrolments_but_no_one_elses(
    home: dict[str, Any],
) -> None:
    resident, kids, staff = home["resident"], home["kids"], home["staff"]
    child = program_self_enrol(actor=resident, program_id=kids.pk, person_id=home["child"].pk)
    # Day care is staff-only to join, but the household may leave it.
    mother = program_enrol(actor=staff, program_id=home["care"].pk, person=home["mother"])
    neighbour = program_enrol(actor=staff, program_id=kids.pk, person=home["neighbour"])
    before = state()
    for pk in (neighbour.pk, 999_999, 2**70, 0):
        with pytest.raises(NotFound):
            program_self_withdraw(actor=resident, enrolment_id=pk)
    assert state() == before
    assert program_self_withdraw(actor=resident, enrolment_id=child.pk).status == "withdrawn"
    assert program_self_withdraw(actor=resident, enrolment_id=mother.pk).status == "withdrawn"
    assert (enrolled(kids), enrolled(home["care"])) == (1, 0)
    with pytest.raises(Conflict, match="已退出") as twice:
        program_self_withdraw(actor=resident, enrolment_id=child.pk)
    assert twice.value.field == "status"
    assert enrolled(kids) == 1
    assert SiteEvent.objects.filter(object_type="enrolment", action="withdrawn").count() == 2


def test_a_resident_sees_their_households_enrolments_and_attendance_only(
    world: Any, home: dict[str, Any]
) -> None:
    resident, kids, staff = home["resident"], home["kids"], home["staff"]
    own = program_self_enrol(actor=resident, program_id=kids.pk, person_id=home["me"].pk)
    child = program_self_enrol(actor=resident, program_id=kids.pk, person_id=home["child"].pk)
    mother = program_enrol(actor=staff, program_id=home["care"].pk, person=home["mother"])
    neighbour = program_enrol(actor=staff, program_id=home["care"].pk, person=home["neighbour"])
    other_tree = f.enrolment(f.program(f.site(world.b.community)), world.b.person)
    marks = {e.pk: f.attendance(e) for e in (own, child, mother, neighbour, other_tree)}

    seen = scoping.scoped(resident, Enrolment)
    assert sorted(seen.values_list("pk", flat=True)) == sorted([own.pk, child.pk, mother.pk])
    assert seen.count() == 3  # the household join yields each row once
    attended = scoping.scoped(resident, Attendance)
    assert sorted(attended.values_list("pk", flat=True)) == sorted(
        marks[e.pk].pk for e in (own, child, mother)
    )
    # Another resident of the building sees none of them; the staff see their site's.
    neighbour_user = make_user("neighbour", Role.RESIDENT)
    person_link_account(person=home["neighbour"], user=neighbour_user)
    assert list(scoping.scoped(neighbour_user, Enrolment)) == [neighbour]
    assert scoping.scoped(staff, Enrolment).count() == 4


# --- Pages --------------------------------------------------------------------------------


def test_the_site_page_lists_programs_and_who_may_sign_up(home: dict[str, Any]) -> None:
    site, kids = home["site"], home["kids"]
    Program.objects.filter(pk=kids.pk).update(enrolled=1)
    ended = f.program(site)
    Program.objects.filter(pk=ended.pk).update(
        name="去年的课", ends_on=TODAY - dt.timedelta(days=1), open_to_residents=True
    )
    anonymous = client_for().get(f"/sites/{site.pk}/").content.decode()
    assert "一老一小项目" in anonymous and "爱心课堂" in anonymous and "日间照料" in anonymous
    assert "去年的课" not in anonymous
    assert "剩余名额 1" in anonymous and "剩余名额 10" in anonymous
    assert "请到阵地报名" in anonymous
    assert f"/accounts/login/?next=/sites/{site.pk}/" in anonymous
    assert 'value="enrol"' not in anonymous and "甲居民" not in anonymous

    page = client_for(home["resident"]).get(f"/sites/{site.pk}/").content.decode()
    assert page.count('value="enrol"') == 1  # the class only; day care is staff-only
    assert "甲居民" in page and "甲小宝" in page and "甲奶奶" in page
    assert "甲邻居" not in page
    assert page.index("甲居民") < page.index("甲小宝")  # themselves first

    unlinked = client_for(make_user("unlinked", Role.RESIDENT))
    assert "请联系所在社区关联" in unlinked.get(f"/sites/{site.pk}/").content.decode()


def test_a_resident_enrols_and_withdraws_through_the_pages(home: dict[str, Any]) -> None:
    site, kids, resident = home["site"], home["kids"], home["resident"]
    client = client_for(resident)
    response = client.post(
        f"/sites/{site.pk}/", {"action": "enrol", "program": kids.pk, "person": home["child"].pk}
    )
    assert response.status_code == 302 and response["Location"] == "/sites/mine/"
    enrolment = Enrolment.objects.get(program=kids, person=home["child"])
    mother = program_enrol(actor=home["staff"], program_id=home["care"].pk, person=home["mother"])
    mine = client.get("/sites/mine/").content.decode()
    assert "报名成功" in mine
    assert "爱心课堂" in mine and "日间照料" in mine and "甲社区党群服务中心" in mine
    assert "甲小宝" in mine and "甲奶奶" in mine and "2026-03-02 报名" in mine
    assert f"/sites/mine/enrolment/{enrolment.pk}/cancel/" in mine
    assert f"/sites/mine/enrolment/{mother.pk}/cancel/" in mine

    response = client.post(f"/sites/mine/enrolment/{enrolment.pk}/cancel/")
    assert response.status_code == 302
    assert Enrolment.objects.get(pk=enrolment.pk).status == "withdrawn"
    assert enrolled(kids) == 0
    mine = client.get("/sites/mine/").content.decode()
    assert "已退出报名" in mine and "已退出" in mine
    assert f"/sites/mine/enrolment/{enrolment.pk}/cancel/" not in mine  # past: no button
    # Sending it again is refused with a message, not an error page.
    again = client.post(f"/sites/mine/enrolment/{enrolment.pk}/cancel/", follow=True)
    assert "该报名已退出" in again.content.decode()


def test_the_pages_refuse_someone_elses_rows_and_bad_input(
    world: Any, home: dict[str, Any]
) -> None:
    site, kids, resident = home["site"], home["kids"], home["resident"]
    client = client_for(resident)
    neighbour = program_enrol(actor=home["staff"], program_id=kids.pk, person=home["neighbour"])
    before = state()
    assert client.post(f"/sites/mine/enrolment/{neighbour.pk}/cancel/").status_code == 404
    assert client.post("/sites/mine/enrolment/999999/cancel/").status_code == 404
    assert client.post(f"/sites/mine/lottery/{neighbour.pk}/cancel/").status_code == 404
    other_site = f.site(world.a.community, "另一个中心")
    for body, message in [
        ({"program": kids.pk, "person": home["neighbour"].pk}, "只能为本人或同户家庭成员报名"),
        ({"program": kids.pk, "person": world.b.person.pk}, "只能为本人或同户家庭成员报名"),
        ({"program": kids.pk, "person": "abc"}, "请选择报名人"),
        ({"program": kids.pk, "person": "²"}, "请选择报名人"),
        ({"program": kids.pk, "person": str(2**70)}, "请选择报名人"),
        ({"program": kids.pk}, "请选择报名人"),
        ({"program": "x", "person": home["me"].pk}, "请选择报名人"),
        ({"program": str(2**70), "person": home["me"].pk}, "请选择报名人"),
        ({"program": home["care"].pk, "person": home["me"].pk}, "请到阵地报名"),
    ]:
        response = client.post(f"/sites/{site.pk}/", {"action": "enrol", **body})
        assert response.status_code == 400, body
        assert message in response.content.decode(), body
    # A program of another site, sent to this site's page, is not this site's.
    response = client.post(
        f"/sites/{other_site.pk}/", {"action": "enrol", "program": kids.pk, "person": home["me"].pk}
    )
    assert response.status_code == 400 and "该阵地没有这个项目" in response.content.decode()
    assert state() == before
    anonymous = client_for().post(
        f"/sites/{site.pk}/", {"action": "enrol", "program": kids.pk, "person": home["me"].pk}
    )
    assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"]
    assert state() == before


def test_names_are_escaped_on_the_pages(home: dict[str, Any]) -> None:
    site, kids, resident = home["site"], home["kids"], home["resident"]
    Program.objects.filter(pk=kids.pk).update(name="<script>alert(1)</script>")
    Person.objects.filter(pk=home["child"].pk).update(name="<b>宝</b>")
    Program.objects.filter(pk=home["care"].pk).update(open_to_residents=True)
    type(site).objects.filter(pk=site.pk).update(name="<i>中心</i>")
    client = client_for(resident)
    page = client.get(f"/sites/{site.pk}/").content.decode()
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;" in page
    assert "<b>宝</b>" not in page and "&lt;b&gt;宝&lt;/b&gt;" in page
    program_self_enrol(actor=resident, program_id=kids.pk, person_id=home["child"].pk)
    mine = client.get("/sites/mine/").content.decode()
    assert "<script>alert(1)</script>" not in mine and "&lt;script&gt;" in mine
    assert "<b>宝</b>" not in mine and "<i>中心</i>" not in mine


def test_the_console_checkbox_opens_a_program_to_residents(world: Any) -> None:
    site = f.site(world.a.community)
    client = client_for(world.user(Role.COMMUNITY_STAFF))
    form = client.get(f"/console/sites/{site.pk}/").content.decode()
    assert 'name="program-open_to_residents"' in form and "居民可在线报名" in form
    good = {"action": "program", "program-kind": "senior_university", "program-name": "老年大学",
            "program-category": "education", "program-capacity": "30",
            "program-starts_on": "2026-03-01", "program-ends_on": "2026-07-10"}  # fmt: skip
    client.post(f"/console/sites/{site.pk}/", {**good, "program-open_to_residents": "on"})
    client.post(f"/console/sites/{site.pk}/", {**good, "program-name": "日间照料"})
    opened = Program.objects.get(name="老年大学")
    assert opened.open_to_residents is True
    assert Program.objects.get(name="日间照料").open_to_residents is False
    created = SiteEvent.objects.get(object_type="program", object_id=opened.pk, action="created")
    assert created.detail["open_to_residents"] is True
    page = client.get(f"/console/sites/programs/{opened.pk}/").content.decode()
    assert "居民可在线报名" in page


# --- API ----------------------------------------------------------------------------------


def test_the_api_enrols_lists_and_withdraws_for_the_household(
    world: Any, home: dict[str, Any]
) -> None:
    site, kids, resident = home["site"], home["kids"], home["resident"]
    api = api_for(resident)
    offered = api_for().get(f"/api/v1/sites/{site.pk}/programs/").json()["results"]
    assert {(p["name"], p["open_to_residents"], p["remaining"]) for p in offered} == {
        ("爱心课堂", True, 2),
        ("日间照料", False, 10),
    }
    response = api.post(
        f"/api/v1/site-programs/{kids.pk}/enrol/", {"person": home["child"].pk}, format="json"
    )
    assert response.status_code == 201, response.content.decode()
    body = response.json()
    assert body | {"id": 0} == {
        "id": 0, "program_id": kids.pk, "program": "爱心课堂", "site_id": site.pk,
        "site": "甲社区党群服务中心", "person_id": home["child"].pk, "person": "甲小宝",
        "status": "active", "enrolled_on": "2026-03-02",
    }  # fmt: skip
    mother = program_enrol(actor=home["staff"], program_id=home["care"].pk, person=home["mother"])
    program_enrol(actor=home["staff"], program_id=kids.pk, person=home["neighbour"])
    listed = api.get("/api/v1/site-enrolments/").json()
    assert sorted(e["id"] for e in listed["results"]) == sorted([body["id"], mother.pk])
    left = api_for().get(f"/api/v1/sites/{site.pk}/programs/", {"kind": "after_school"}).json()
    assert left["results"][0]["remaining"] == 0

    withdrawn = api.post(f"/api/v1/site-enrolments/{body['id']}/withdraw/")
    assert withdrawn.status_code == 200 and withdrawn.json()["status"] == "withdrawn"
    assert enrolled(kids) == 1
    again = error_of(api.post(f"/api/v1/site-enrolments/{body['id']}/withdraw/"), 409)
    assert again["field"] == "status"


def test_the_api_refuses_bad_sign_ups_and_others_rows(world: Any, home: dict[str, Any]) -> None:
    kids, resident = home["kids"], home["resident"]
    api = api_for(resident)
    neighbour = program_enrol(actor=home["staff"], program_id=kids.pk, person=home["neighbour"])
    before = state()
    url = f"/api/v1/site-programs/{kids.pk}/enrol/"
    for body in [{"person": "abc"}, {"person": 2**70}, {}, {"person": None}, {"person": -1}]:
        assert error_of(api.post(url, body, format="json"), 400)["field"] == "person", body
    stranger = error_of(api.post(url, {"person": world.b.person.pk}, format="json"), 400)
    assert stranger["field"] == "person" and "同户" in stranger["message"]
    english = error_of(
        api_for(resident, "en").post(url, {"person": home["neighbour"].pk}, format="json"), 400
    )
    assert english["field"] == "person" and "household" in english["message"]
    staff_only = f"/api/v1/site-programs/{home['care'].pk}/enrol/"
    refused = error_of(api.post(staff_only, {"person": home["me"].pk}, format="json"), 400)
    assert refused["field"] == "program"
    for missing in (999_999, 2**70):
        response = api.post(
            f"/api/v1/site-programs/{missing}/enrol/", {"person": home["me"].pk}, format="json"
        )
        assert response.status_code == 404
    unlinked = api_for(make_user("unlinked", Role.RESIDENT))
    assert (
        error_of(unlinked.post(url, {"person": home["me"].pk}, format="json"), 403)["field"]
        == "person"
    )
    assert api_for().post(url, {"person": home["me"].pk}, format="json").status_code in (401, 403)
    for pk in (neighbour.pk, 999_999, 2**70):
        assert api.post(f"/api/v1/site-enrolments/{pk}/withdraw/").status_code == 404
    assert state() == before


def test_a_worker_who_is_also_a_resident_withdraws_their_child_through_the_api(
    world: Any,
) -> None:
    """Tree B's community worker lives in tree A: their grandchild's class is at a site
    they do not manage, so the API takes the household's path, not the staff's."""
    worker = make_user("b_worker", Role.COMMUNITY_STAFF, world.b.community)
    role_grant(actor=None, user=worker, role=Role.RESIDENT)
    me = person_link_account(person=world.a.person, user=worker)
    child = person_create(
        name="甲小孙", household=world.a.household, relation="grandchild",
        birth_date=dt.date(2019, 1, 1), guardian=me,
    )  # fmt: skip
    site = f.site(world.a.community)
    kids = program_create(
        actor=world.user(Role.COMMUNITY_STAFF), site=site, kind=ProgramKind.AFTER_SCHOOL,
        name="四点半课堂", category="education", capacity=5, starts_on=dt.date(2026, 2, 1),
        ends_on=dt.date(2026, 6, 30), open_to_residents=True,
    )  # fmt: skip
    enrolment = program_self_enrol(actor=worker, program_id=kids.pk, person_id=child.pk)
    response = api_for(worker).post(f"/api/v1/site-enrolments/{enrolment.pk}/withdraw/")
    assert response.status_code == 200, response.content.decode()
    assert response.json()["status"] == "withdrawn" and enrolled(kids) == 0
    # Someone else's enrolment at that site is still not theirs to withdraw.
    other = program_enrol(
        actor=world.user(Role.COMMUNITY_STAFF), program_id=kids.pk, person=world.a.person
    )
    neighbour = person_create(name="甲路人", household=household_create(
        unit=world.a.building, entrance="2", room="201"), relation="head")  # fmt: skip
    stranger = program_enrol(
        actor=world.user(Role.COMMUNITY_STAFF), program_id=kids.pk, person=neighbour
    )
    assert (
        api_for(worker).post(f"/api/v1/site-enrolments/{stranger.pk}/withdraw/").status_code == 404
    )
    assert Enrolment.objects.get(pk=stranger.pk).status == "active"
    assert Enrolment.objects.get(pk=other.pk).status == "active"


def test_a_person_who_died_leaves_their_programs_and_cannot_be_enrolled(
    home: dict[str, Any],
) -> None:
    from doorstep.people.services import person_leave, person_version

    staff, care, mother = home["staff"], home["care"], home["mother"]
    enrolment = program_enrol(actor=staff, program_id=care.pk, person=mother)
    assert enrolled(care) == 1
    mother.refresh_from_db()
    leaving = person_leave(
        actor=staff, person_id=mother.pk, version=person_version(mother),
        reason="deceased", on=TODAY, today=TODAY,
    )  # fmt: skip
    assert leaving.followups == ["已退出1个阵地服务项目，名额已释放。"]
    enrolment.refresh_from_db()
    assert enrolment.status == "withdrawn" and enrolled(care) == 0
    event = SiteEvent.objects.get(object_type="enrolment", action="withdrawn")
    assert event.detail == {"program": care.pk, "person": mother.pk, "cause": "person_left"}
    mother.refresh_from_db()
    before = state()
    with pytest.raises(ValidationError, match="已迁出或去世") as refused:
        program_enrol(actor=staff, program_id=care.pk, person=mother)
    assert refused.value.field == "person" and state() == before
