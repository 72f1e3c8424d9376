"""Off the register and back: staff record that a resident moved out of the area or
died, and undo a mark made in error. Through the services, the pages and the API, and
what the other parts of the registry then leave out."""

import datetime as dt

import pytest
from django.http import Http404
from django.test import Client
from django.urls import include, path
from django.utils import timezone

from config import urls as site_urls
from doorstep.accounts.models import AuditAction, AuditEvent
from doorstep.accounts.roles import Role
from doorstep.conftest import World
from doorstep.core.errors import Conflict, PermissionDenied, ValidationError
from doorstep.people.idnumber import make_id_number
from doorstep.people.models import Household, Person
from doorstep.people.selectors import (
    counter_candidates,
    guardian_choices,
    household_detail,
    person_search,
    registry_summary,
)
from doorstep.people.services import (
    current_members,
    household_close,
    person_create,
    person_leave,
    person_move,
    person_register,
    person_reinstate,
    person_update,
    person_version,
)

urlpatterns = list(site_urls.urlpatterns)
if not any(getattr(p, "namespace", None) == "people" for p in urlpatterns):
    urlpatterns.insert(0, path("", include("doorstep.people.urls")))
    urlpatterns.insert(0, path("api/v1/", include("doorstep.people.api_urls")))
handler404 = site_urls.handler404

pytestmark = [pytest.mark.django_db, pytest.mark.urls(__name__)]

TODAY = dt.date(2026, 5, 1)
ELDER_ID = make_id_number("510502", dt.date(1936, 2, 9), 111)  # 90 on TODAY
CHILD_ID = make_id_number("510502", dt.date(2020, 6, 1), 135)


@pytest.fixture
def grandma(world: World) -> Person:
    return person_create(
        name="王奶奶",
        household=world.a.household,
        relation="parent",
        id_number=ELDER_ID,
        tags=["living_alone"],
    )


def _staff(world: World):  # type: ignore[no-untyped-def]
    return world.user(Role.COMMUNITY_STAFF)


def _leave(world: World, person: Person, **change):  # type: ignore[no-untyped-def]
    person.refresh_from_db()
    args = {
        "actor": _staff(world),
        "person_id": person.pk,
        "version": person_version(person),
        "reason": "deceased",
        "on": TODAY - dt.timedelta(days=3),
        "today": TODAY,
    }
    return person_leave(**(args | change))


def _reinstate(world: World, person: Person):  # type: ignore[no-untyped-def]
    person.refresh_from_db()
    return person_reinstate(
        actor=_staff(world), person_id=person.pk, version=person_version(person)
    )


def _events(person: Person, action: str) -> list[AuditEvent]:
    return list(
        AuditEvent.objects.filter(
            object_type="people.person", object_id=str(person.pk), action=action
        ).order_by("id")
    )


# --- The services -------------------------------------------------------------------------


def test_a_death_takes_the_person_off_the_register_and_keeps_the_record(
    world: World, grandma: Person
) -> None:
    leaving = _leave(world, grandma, note="病故")
    grandma.refresh_from_db()
    assert grandma.left_on == TODAY - dt.timedelta(days=3)
    assert grandma.left_reason == "deceased" and grandma.left_note == "病故"
    assert grandma.household_id == world.a.household.pk  # the record stays where it was
    assert leaving.household_empty is False and leaving.wards == []
    assert list(current_members(world.a.household)) == [world.a.person]
    [event] = _events(grandma, AuditAction.PERSON_LEFT)
    assert event.actor_id == _staff(world).pk
    assert event.detail == {
        "reason": "deceased",
        "on": "2026-04-28",
        "note": "病故",
        "address": "1号楼1单元101",
        "household": world.a.household.pk,
        "was_head": False,
    }


def test_a_head_who_leaves_leaves_the_household_without_a_head(world: World) -> None:
    leaving = _leave(world, world.a.person, reason="moved_away", note="迁往成都市")
    world.a.household.refresh_from_db()
    assert world.a.household.head_id is None and world.a.household.is_active
    assert leaving.household_empty is True
    assert _events(world.a.person, AuditAction.PERSON_LEFT)[0].detail["was_head"] is True
    # Nobody on the register lives there now: the household may be closed.
    household_close(actor=_staff(world), household_id=world.a.household.pk)
    world.a.household.refresh_from_db()
    assert world.a.household.is_active is False


def test_children_whose_guardian_left_are_named(world: World) -> None:
    child = person_register(
        actor=_staff(world),
        unit_id=world.a.building.pk,
        entrance="1",
        room="101",
        relation="child",
        name="甲小孩",
        id_number=CHILD_ID,
        guardian_id=world.a.person.pk,
        today=TODAY,
    )
    leaving = _leave(world, world.a.person)
    assert leaving.wards == [child] and leaving.household_empty is False
    # The guardian offered for the child is no longer the one who left.
    assert guardian_choices(actor=_staff(world), household=world.a.household) == [
        (child.pk, "甲小孩")
    ]


def test_a_ward_the_staff_may_not_see_is_not_named(world: World) -> None:
    # A child in another community whose guardian is tree A's resident.
    person_create(
        name="乙小孩", household=world.b.household, relation="child",
        birth_date=dt.date(2020, 6, 1), guardian=world.a.person,
    )  # fmt: skip
    leaving = _leave(world, world.a.person)
    assert leaving.wards == []


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"reason": "gone"}, "reason", "请选择迁出本辖区或去世"),
        ({"reason": ""}, "reason", "请选择迁出本辖区或去世"),
        ({"on": None}, "on", "请填写日期"),
        ({"on": TODAY + dt.timedelta(days=1)}, "on", "不能晚于今天"),
        ({"on": dt.date(1930, 1, 1)}, "on", "不能早于出生日期"),
        ({"note": "远" * 101}, "note", "不能超过100个字"),
    ],
)
def test_bad_input_is_refused_naming_the_field_and_changes_nothing(
    world: World, grandma: Person, change: dict, field: str, message: str
) -> None:
    grandma.refresh_from_db()
    stamp, events = grandma.updated_at, AuditEvent.objects.count()
    with pytest.raises(ValidationError, match=message) as caught:
        _leave(world, grandma, **change)
    assert caught.value.field == field
    grandma.refresh_from_db()
    assert grandma.left_on is None and grandma.updated_at == stamp
    assert AuditEvent.objects.count() == events


def test_a_stale_page_another_role_or_another_area_is_refused(
    world: World, grandma: Person
) -> None:
    grandma.refresh_from_db()
    seen = person_version(grandma)
    person_update(
        actor=_staff(world),
        person_id=grandma.pk,
        version=seen,
        name="王奶奶",
        relation="grandparent",
        tags=["living_alone"],
    )
    with pytest.raises(Conflict, match="已被他人修改"):
        _leave(world, grandma, version=seen)
    with pytest.raises(PermissionDenied):
        _leave(world, grandma, actor=world.user(Role.GRID_MEMBER))
    with pytest.raises(Http404):
        _leave(world, world.b.person)
    grandma.refresh_from_db()
    assert grandma.left_on is None
    assert _events(grandma, AuditAction.PERSON_LEFT) == []


def test_a_person_off_the_register_is_not_corrected_moved_or_marked_twice(
    world: World, grandma: Person
) -> None:
    _leave(world, grandma)
    grandma.refresh_from_db()
    version = person_version(grandma)
    with pytest.raises(Conflict, match="不在册"):
        _leave(world, grandma)
    with pytest.raises(Conflict, match="请先恢复在册"):
        person_update(actor=_staff(world), person_id=grandma.pk, version=version, name="王外婆")
    with pytest.raises(Conflict, match="请先恢复在册"):
        person_move(
            actor=_staff(world),
            person_id=grandma.pk,
            version=version,
            unit_id=world.a.building.pk,
            room="202",
        )
    with pytest.raises(Conflict, match="在册，无需恢复"):
        _reinstate(world, world.a.person)


def test_reinstating_undoes_the_mark_and_a_head_heads_again(world: World) -> None:
    _leave(world, world.a.person)
    household_close(actor=_staff(world), household_id=world.a.household.pk)
    person = _reinstate(world, world.a.person)
    assert person.left_on is None and person.left_reason == "" and person.left_note == ""
    world.a.household.refresh_from_db()
    assert world.a.household.is_active and world.a.household.head_id == person.pk
    [event] = _events(person, AuditAction.PERSON_REINSTATED)
    assert event.detail == {
        "reason": "deceased",
        "on": "2026-04-28",
        "note": "",
        "household_reopened": True,
    }


def test_a_head_reinstated_after_a_new_head_keeps_no_relation(world: World) -> None:
    _leave(world, world.a.person, reason="moved_away")
    spouse = person_register(
        actor=_staff(world),
        unit_id=world.a.building.pk,
        entrance="1",
        room="101",
        relation="head",
        name="甲配偶",
    )
    person = _reinstate(world, world.a.person)
    assert person.relation == ""
    world.a.household.refresh_from_db()
    assert world.a.household.head_id == spouse.pk
    assert _events(person, AuditAction.PERSON_REINSTATED)[0].detail["relation"] == ["head", ""]


def test_a_namesake_registered_since_blocks_reinstating(world: World, grandma: Person) -> None:
    _leave(world, grandma, reason="moved_away")
    person_register(
        actor=_staff(world),
        unit_id=world.a.building.pk,
        entrance="1",
        room="101",
        relation="parent",
        name="王奶奶",
    )
    with pytest.raises(Conflict, match="已登记名为王奶奶"):
        _reinstate(world, grandma)
    grandma.refresh_from_db()
    assert grandma.left_on is not None


# --- What leaves them out -----------------------------------------------------------------


def test_searches_counts_and_counters_leave_them_out(world: World, grandma: Person) -> None:
    staff = _staff(world)
    today = timezone.localdate()
    before = registry_summary(actor=staff, within=world.a.community.pk, today=today)
    _leave(world, grandma, today=today, on=today)
    after = registry_summary(actor=staff, within=world.a.community.pk, today=today)
    assert (after.total, after.elderly, after.left) == (before.total - 1, before.elderly - 1, 1)
    tags_before, tags_after = dict(before.tags), dict(after.tags)
    living_alone = next(tag for tag in tags_after if tag.code == "living_alone")
    assert tags_after[living_alone] == tags_before[living_alone] - 1
    assert list(person_search(actor=staff, q="王奶奶")) == []
    assert list(person_search(actor=staff, q="王奶奶", status="left")) == [grandma]
    assert list(person_search(actor=staff, q="wnn", status="all")) == [grandma]
    assert grandma not in person_search(actor=staff, age_group="elderly")
    with pytest.raises(ValidationError, match="未知的人员状态"):
        person_search(actor=staff, status="gone")
    assert counter_candidates(q="王奶奶", unit=world.a.community) == []
    detail = household_detail(actor=staff, household_id=world.a.household.pk)
    assert detail.members == [world.a.person] and detail.former == [grandma]


# --- Pages --------------------------------------------------------------------------------


def _as(user) -> Client:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(user)
    return client


def test_the_leave_page_marks_a_death_and_the_person_page_offers_to_undo_it(
    world: World, grandma: Person
) -> None:
    client = _as(_staff(world))
    url = f"/console/registry/people/{grandma.pk}/leave/"
    page = client.get(url)
    assert page.status_code == 200 and "迁出本辖区" in page.content.decode()
    grandma.refresh_from_db()
    day = timezone.localdate().isoformat()
    response = client.post(
        url, {"reason": "deceased", "on": day, "note": "", "version": person_version(grandma)}
    )
    assert response.status_code == 302 and response["Location"].endswith(f"/{grandma.pk}/")
    html = client.get(response["Location"]).content.decode()
    assert "已登记王奶奶去世" in html and f"已于 {day} 去世，不在册" in html
    assert "恢复在册" in html and "修改信息" not in html  # no edit button, only the undo
    assert "登记迁出或去世" in html  # the history line
    # The registry lists her only among those who left, with the reason.
    registry = client.get("/console/registry/", {"q": "王奶奶"}).content.decode()
    assert "没有符合条件的人员" in registry
    left = client.get("/console/registry/", {"q": "王奶奶", "status": "left"}).content.decode()
    assert f"/console/registry/people/{grandma.pk}/" in left and "去世" in left
    household = client.get(f"/console/registry/households/{world.a.household.pk}/")
    assert "已迁出或去世的成员" in household.content.decode()
    # The edit page sends the staff back to the record.
    edit = client.get(f"/console/registry/people/{grandma.pk}/edit/")
    assert edit.status_code == 302
    # Undo.
    grandma.refresh_from_db()
    undo = client.post(
        f"/console/registry/people/{grandma.pk}/reinstate/",
        {"version": person_version(grandma)},
    )
    assert undo.status_code == 302
    assert "王奶奶已恢复在册" in client.get(undo["Location"]).content.decode()
    grandma.refresh_from_db()
    assert grandma.left_on is None


def test_the_leave_page_says_what_is_left_to_do(world: World) -> None:
    from doorstep.orgs.services import party_org_create
    from doorstep.people.services import mobile_register

    branch = party_org_create(kind="functional", name="功能型党支部", unit=world.a.community)
    mobile_register(
        person=world.a.person, party_org=branch, registered_on=dt.date(2026, 3, 1),
        origin_org="外省某党支部",
    )  # fmt: skip
    client = _as(_staff(world))
    person = world.a.person
    response = client.post(
        f"/console/registry/people/{person.pk}/leave/",
        {
            "reason": "moved_away",
            "on": timezone.localdate().isoformat(),
            "note": "迁往成都市",
            "version": person_version(person),
        },
        follow=True,
    )
    html = response.content.decode()
    assert "已登记甲居民迁出本辖区" in html and "迁往成都市" in html
    assert "可在住户页面注销住户" in html and "流动党员报到已转出" in html


def test_the_leave_page_refuses_bad_input_beside_the_field(world: World, grandma: Person) -> None:
    client = _as(_staff(world))
    grandma.refresh_from_db()
    url = f"/console/registry/people/{grandma.pk}/leave/"
    version = person_version(grandma)
    tomorrow = (timezone.localdate() + dt.timedelta(days=1)).isoformat()
    refused = client.post(url, {"reason": "deceased", "on": tomorrow, "version": version})
    assert refused.status_code == 400 and "不能晚于今天" in refused.content.decode()
    missing = client.post(url, {"reason": "", "on": "", "version": version})
    assert missing.status_code == 400 and 'aria-invalid="true"' in missing.content.decode()
    stale = client.post(
        url, {"reason": "deceased", "on": timezone.localdate().isoformat(), "version": "x"}
    )
    assert stale.status_code == 409
    grandma.refresh_from_db()
    assert grandma.left_on is None
    # Other roles reach neither page.
    grid = _as(world.user(Role.GRID_MEMBER))
    assert grid.get(url).status_code == 404
    assert grid.post(f"/console/registry/people/{grandma.pk}/reinstate/", {}).status_code == 404


def test_a_refused_undo_comes_back_on_the_record(world: World, grandma: Person) -> None:
    client = _as(_staff(world))
    grandma.refresh_from_db()
    response = client.post(
        f"/console/registry/people/{grandma.pk}/reinstate/",
        {"version": person_version(grandma)},
        follow=True,
    )
    assert response.status_code == 200 and "在册，无需恢复" in response.content.decode()


def test_the_export_follows_the_status_filter(world: World, grandma: Person) -> None:
    from io import BytesIO

    from openpyxl import load_workbook

    _leave(world, grandma, on=timezone.localdate(), today=timezone.localdate())
    client = _as(_staff(world))

    def names(params: dict) -> list[str]:
        response = client.get("/console/registry/export.xlsx", params)
        assert response.status_code == 200
        sheet = load_workbook(BytesIO(response.content)).active
        return [row[0] for row in sheet.iter_rows(min_row=2, values_only=True)]

    assert "王奶奶" not in names({})
    assert names({"status": "left"}) == ["王奶奶"]
    bad = client.get("/console/registry/export.xlsx", {"status": "gone"})
    assert bad.status_code == 400 and "未知的人员状态" in bad.content.decode()
    page = client.get("/console/registry/", {"status": "left"}).content.decode()
    assert "/console/registry/export.xlsx?status=left" in page


# --- API ----------------------------------------------------------------------------------


def _api(user):  # type: ignore[no-untyped-def]
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_authenticate(user)
    return client


def test_the_api_marks_lists_and_reinstates(world: World, grandma: Person) -> None:
    api = _api(_staff(world))
    shown = api.get(f"/api/v1/people/{grandma.pk}/").json()
    assert shown["left_on"] is None and shown["left_reason"] == ""
    day = timezone.localdate().isoformat()
    for body, status in (
        ({"reason": "gone", "on": day, "version": shown["version"]}, 400),
        ({"reason": "deceased", "version": shown["version"]}, 400),
        ({"reason": "deceased", "on": day, "version": "stale"}, 409),
    ):
        response = api.post(f"/api/v1/people/{grandma.pk}/leave/", body, format="json")
        assert response.status_code == status, (body, response.content)
    left = api.post(
        f"/api/v1/people/{grandma.pk}/leave/",
        {"reason": "deceased", "on": day, "version": shown["version"]},
        format="json",
    )
    assert left.status_code == 200, left.content
    assert left.json()["left_on"] == day and left.json()["left_reason"] == "deceased"
    listed = api.get("/api/v1/people/", {"status": "left"}).json()
    assert [p["id"] for p in listed["results"]] == [grandma.pk]
    current = api.get("/api/v1/people/").json()
    assert grandma.pk not in [p["id"] for p in current["results"]]
    assert api.get("/api/v1/people/", {"status": "x"}).status_code == 400
    back = api.post(
        f"/api/v1/people/{grandma.pk}/reinstate/",
        {"version": left.json()["version"]},
        format="json",
    )
    assert back.status_code == 200, back.content
    assert back.json()["left_on"] is None
    resident = _api(world.user(Role.RESIDENT))
    refused = resident.post(
        f"/api/v1/people/{grandma.pk}/leave/",
        {"reason": "deceased", "on": day, "version": back.json()["version"]},
        format="json",
    )
    assert refused.status_code == 403
    assert Household.objects.get(pk=world.a.household.pk).is_active


# --- Households nobody is left in ---------------------------------------------------------


def test_a_household_everyone_left_waits_on_the_console_to_be_closed(world: World) -> None:
    from doorstep.web.tests.test_todo import todos

    staff = _staff(world)
    page = "/console/registry/households/empty/"
    label = "已无在册成员、待注销的住户"
    assert todos(staff)[label] == (0, page, False)
    _leave(world, world.a.person, reason="moved_away", today=timezone.localdate(),
           on=timezone.localdate())  # fmt: skip
    assert todos(staff)[label] == (1, page, False)
    assert label not in todos(world.user(Role.CITY_ADMIN))  # a city is too wide to count
    client = _as(staff)
    html = client.get(page).content.decode()
    assert "1号楼1单元101" in html and "甲居民 · 迁出本辖区" in html and "第一网格" in html
    assert client.get("/console/registry/").content.decode().count(page) == 1
    # Closing it on its page takes it off the list.
    closed = client.post(f"/console/registry/households/{world.a.household.pk}/")
    assert closed.status_code == 302
    assert todos(staff)[label] == (0, page, False)
    assert "没有这样的住户" in client.get(page).content.decode()
    # Those who do not keep the registry do not reach the page.
    assert _as(world.user(Role.GRID_MEMBER)).get(page).status_code == 404


def test_a_resident_who_moved_away_no_longer_sees_the_household(world: World) -> None:
    """A tenant who moved out must not follow the flat once it is let to newcomers; their
    own record (and what they asked for themselves) stays theirs."""
    from doorstep.accounts.scoping import scoped
    from doorstep.people.services import person_link_account
    from doorstep.sites.selectors import household_persons

    resident = world.user(Role.RESIDENT)
    person_link_account(person=world.a.person, user=resident)
    neighbour = person_create(name="甲同住", household=world.a.household, relation="other")
    assert list(scoped(resident, Household)) == [world.a.household]
    assert set(household_persons(resident)) == {world.a.person, neighbour}
    _leave(world, world.a.person, reason="moved_away", on=timezone.localdate(),
           today=timezone.localdate())  # fmt: skip
    assert list(scoped(resident, Household)) == []
    assert list(household_persons(resident)) == [world.a.person]
    assert list(scoped(resident, Person)) == [world.a.person]
    # Their own record says so, and its history names the staff by office.
    html = _as(resident).get("/me/record/").content.decode()
    assert "迁出本辖区，已不在本社区登记" in html and "社区工作人员" in html


def test_a_mobile_party_member_who_moves_away_is_transferred_out(world: World) -> None:
    from doorstep.orgs.services import party_org_create
    from doorstep.people.models import MobileRegistration
    from doorstep.people.services import mobile_register

    branch = party_org_create(kind="functional", name="红立方功能型党支部", unit=world.a.community)
    registration = mobile_register(
        person=world.a.person, party_org=branch, registered_on=dt.date(2026, 3, 1),
        origin_org="外省某党支部",
    )  # fmt: skip
    leaving = _leave(world, world.a.person, reason="moved_away")
    registration.refresh_from_db()
    assert registration.status == "left" and registration.left_on == dt.date(2026, 4, 28)
    assert leaving.followups == ["流动党员报到已转出。"]
    [event] = _events(world.a.person, AuditAction.PERSON_LEFT)
    assert event.detail["mobile_registrations_closed"] == [registration.pk]
    assert MobileRegistration.objects.filter(status="active").count() == 0


def test_someone_deceased_is_shown_at_the_age_they_died(world: World, grandma: Person) -> None:
    _leave(world, grandma, on=dt.date(2025, 12, 1), today=dt.date(2026, 3, 1))
    grandma.refresh_from_db()
    assert grandma.age_shown(dt.date(2026, 3, 1)) == 89  # born 1936-02-09
    assert grandma.age_on(dt.date(2026, 3, 1)) == 90
    page = _as(_staff(world)).get(f"/console/registry/people/{grandma.pk}/").content.decode()
    assert "（89岁）" in page
    assert _api(_staff(world)).get(f"/api/v1/people/{grandma.pk}/").json()["age"] == 89
