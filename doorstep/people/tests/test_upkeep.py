"""Staff keep the registry: register a newcomer at an address, correct a record, move a
resident to another address. Through the services and through the console's pages."""

import datetime as dt
import json
from typing import Any

import pytest
from django.test import Client
from django.urls import include, path

from config import urls as site_urls
from doorstep.accounts.models import AuditAction, AuditEvent
from doorstep.accounts.roles import Role
from doorstep.conftest import World
from doorstep.core.errors import Conflict, PermissionDenied, ValidationError
from doorstep.orgs.services import unit_create
from doorstep.people.idnumber import make_id_number
from doorstep.people.models import Household, Person
from doorstep.people.services import (
    person_create,
    person_move,
    person_pseudonymize,
    person_register,
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
ADULT_ID = make_id_number("510502", dt.date(1980, 3, 15), 123)  # male
OTHER_ID = make_id_number("510502", dt.date(1975, 8, 2), 246)  # female
CHILD_ID = make_id_number("510502", dt.date(2020, 6, 1), 135)
PHONE = "13912345678"


def _counts() -> tuple[int, int, int]:
    return Person.objects.count(), Household.objects.count(), AuditEvent.objects.count()


def _events(person: Person, action: str) -> list[AuditEvent]:
    return list(
        AuditEvent.objects.filter(
            object_type="people.person", object_id=str(person.pk), action=action
        ).order_by("id")
    )


# --- Registering --------------------------------------------------------------------------


def test_a_newcomer_at_a_new_address_gets_a_household_of_their_own(world: World) -> None:
    staff = world.user(Role.COMMUNITY_STAFF)
    person = person_register(
        actor=staff,
        unit_id=world.a.building.pk,
        entrance="2",
        room="302",
        relation="head",
        name="刘芳",
        id_number=OTHER_ID,
        phone=PHONE,
        tags=["low_income"],
        today=TODAY,
    )
    household = person.household
    assert household is not None and household.address == "1号楼2单元302"
    assert household.head_id == person.pk and person.unit_id == world.a.building.pk
    assert person.birth_date == dt.date(1975, 8, 2) and person.gender == "female"
    assert person.name_pinyin == "liufang" and person.phone_masked == "139****5678"
    [event] = _events(person, AuditAction.PERSON_REGISTERED)
    assert event.actor_id == staff.pk
    assert event.detail["household_created"] is True
    assert event.detail["address"] == "1号楼2单元302"
    assert set(event.detail["fields"]) >= {"name", "id_number", "phone", "tags", "relation"}
    assert OTHER_ID not in json.dumps(event.detail) and PHONE not in json.dumps(event.detail)


def test_a_newcomer_joins_the_household_registered_at_the_address(world: World) -> None:
    person = person_register(
        actor=world.user(Role.COMMUNITY_STAFF),
        unit_id=world.a.building.pk,
        entrance="1",
        room="101",
        relation="spouse",
        name="甲配偶",
    )
    assert person.household_id == world.a.household.pk
    assert _events(person, AuditAction.PERSON_REGISTERED)[0].detail["household_created"] is False
    world.a.household.refresh_from_db()
    assert world.a.household.head_id == world.a.person.pk  # the head is still the head


def test_a_second_head_is_refused_naming_the_first(world: World) -> None:
    before = _counts()
    with pytest.raises(Conflict, match="甲居民") as caught:
        person_register(
            actor=world.user(Role.COMMUNITY_STAFF),
            unit_id=world.a.building.pk,
            entrance="1",
            room="101",
            relation="head",
            name="第二户主",
        )
    assert caught.value.field == "relation"
    assert _counts() == before


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"unit_id": None}, "unit", "请选择"),
        ({"unit_id": "x"}, "unit", "不在您的管辖范围内"),
        ({"name": "  "}, "name", "请填写姓名"),
        ({"relation": "cousin"}, "relation", "未知的与户主关系"),
        ({"gender": "x"}, "gender", "未知的性别"),
        ({"id_number": "51050219800315123"}, "id_number", "18位"),
        ({"phone": "12345"}, "phone", None),
        ({"tags": ["no_such_tag"]}, "tags", "no_such_tag"),
        ({"guardian_id": 10**9}, "guardian", "监护人"),
        ({"id_number": CHILD_ID}, "guardian", "监护人"),
    ],
)
def test_bad_input_names_its_field_and_creates_nothing(
    world: World, change: dict, field: str, message: str | None
) -> None:
    values = {"unit_id": world.a.building.pk, "room": "909", "name": "赵敏", **change}
    before = _counts()
    with pytest.raises(ValidationError, match=message) as caught:
        person_register(actor=world.user(Role.COMMUNITY_STAFF), today=TODAY, **values)
    assert field in caught.value.errors
    assert _counts() == before


def test_an_address_outside_the_actors_area_is_refused(world: World) -> None:
    before = _counts()
    with pytest.raises(ValidationError, match="不在您的管辖范围内"):
        person_register(
            actor=world.user(Role.COMMUNITY_STAFF), unit_id=world.b.building.pk, name="赵敏"
        )
    assert _counts() == before


def test_a_child_is_registered_with_a_guardian_of_the_household(world: World) -> None:
    child = person_register(
        actor=world.user(Role.COMMUNITY_STAFF),
        unit_id=world.a.building.pk,
        entrance="1",
        room="101",
        relation="child",
        name="甲小孩",
        id_number=CHILD_ID,
        guardian_id=world.a.person.pk,
        today=TODAY,
    )
    assert child.guardian_id == world.a.person.pk


@pytest.mark.parametrize("role", [Role.RESIDENT, Role.GRID_MEMBER, Role.BUILDING_LEADER])
def test_roles_that_do_not_keep_the_registry_may_not_register(world: World, role: str) -> None:
    before = _counts()
    with pytest.raises(PermissionDenied):
        person_register(actor=world.user(role), unit_id=world.a.building.pk, name="赵敏")
    assert _counts() == before


def test_a_grid_leader_registers_in_their_grid_only(world: World) -> None:
    leader = world.user(Role.GRID_LEADER)
    person = person_register(
        actor=leader,
        unit_id=world.a.building.pk,
        entrance="1",
        room="101",
        relation="tenant",
        name="租户甲",
    )
    assert person.household_id == world.a.household.pk
    # A new address is in no grid yet: the household would be out of the leader's
    # sight, so neither it nor the person is written.
    before = _counts()
    with pytest.raises(PermissionDenied):
        person_register(actor=leader, unit_id=world.a.building.pk, room="999", name="赵敏")
    assert _counts() == before


# --- Correcting ---------------------------------------------------------------------------


@pytest.fixture
def wang(world: World) -> Person:
    return person_create(
        name="王伟",
        household=world.a.household,
        relation="spouse",
        id_number=ADULT_ID,
        phone=PHONE,
        tags=["veteran"],
    )


def _update(world: World, person: Person, **change):  # type: ignore[no-untyped-def]
    person.refresh_from_db()
    values = {
        "actor": world.user(Role.COMMUNITY_STAFF),
        "person_id": person.pk,
        "version": person_version(person),
        "name": person.name,
        "relation": person.relation,
        "tags": list(person.tags.values_list("code", flat=True)),
        "today": TODAY,
        **change,
    }
    return person_update(**values)


def test_a_correction_writes_what_changed_and_audits_it(world: World, wang: Person) -> None:
    person, changed = _update(
        world, wang, name="王卫", phone="13800001111", tags=["veteran", "disability"]
    )
    assert set(changed) == {"name", "phone", "tags"}
    person.refresh_from_db()
    assert person.name == "王卫" and person.name_pinyin == "wangwei"
    assert person.phone_masked == "138****1111" and person.phone_last4 == "1111"
    assert person.id_number_masked.endswith(ADULT_ID[-4:])  # blank keeps the number
    assert set(person.tags.values_list("code", flat=True)) == {"veteran", "disability"}
    [event] = _events(person, AuditAction.PERSON_CHANGED)
    assert event.detail["name"] == ["王伟", "王卫"]
    assert event.detail["phone"] == ["139****5678", "138****1111"]
    assert event.detail["tags"] == {"added": ["disability"], "removed": []}
    assert "13800001111" not in json.dumps(event.detail)


def test_nothing_changed_writes_nothing(world: World, wang: Person) -> None:
    wang.refresh_from_db()
    stamp = wang.updated_at
    # The same phone typed again is no change, though it would seal to a new ciphertext.
    _person, changed = _update(world, wang, phone=PHONE)
    assert changed == []
    wang.refresh_from_db()
    assert wang.updated_at == stamp and not _events(wang, AuditAction.PERSON_CHANGED)


def test_a_new_id_number_brings_its_birth_date_and_gender(world: World, wang: Person) -> None:
    person, changed = _update(world, wang, id_number=OTHER_ID)
    person.refresh_from_db()
    assert {"id_number", "birth_date", "gender"} <= set(changed)
    assert person.birth_date == dt.date(1975, 8, 2) and person.gender == "female"
    [event] = _events(person, AuditAction.PERSON_CHANGED)
    assert OTHER_ID not in json.dumps(event.detail) and ADULT_ID not in json.dumps(event.detail)
    with pytest.raises(ValidationError, match="出生日期与身份证号码不一致"):
        _update(world, person, birth_date=dt.date(1990, 1, 1))


def test_an_id_number_registered_to_another_is_refused(world: World, wang: Person) -> None:
    person_create(name="刘芳", unit=world.a.building, id_number=OTHER_ID)
    wang.refresh_from_db()
    stamp = wang.updated_at
    with pytest.raises(Conflict, match="已登记"):
        _update(world, wang, id_number=OTHER_ID)
    wang.refresh_from_db()
    assert wang.updated_at == stamp and wang.id_number_masked.endswith(ADULT_ID[-4:])


def test_a_stale_page_is_refused_not_overwritten(world: World, wang: Person) -> None:
    wang.refresh_from_db()
    seen = person_version(wang)
    _update(world, wang, name="王卫")
    with pytest.raises(Conflict, match="已被他人修改"):
        _update(world, wang, name="王威", version=seen)
    wang.refresh_from_db()
    assert wang.name == "王卫"


def test_the_head_changes_only_once_the_old_head_steps_down(world: World, wang: Person) -> None:
    with pytest.raises(Conflict, match="甲居民"):
        _update(world, wang, relation="head")
    _update(world, world.a.person, relation="spouse")
    world.a.household.refresh_from_db()
    assert world.a.household.head_id is None
    _update(world, wang, relation="head")
    world.a.household.refresh_from_db()
    assert world.a.household.head_id == wang.pk


def test_a_record_out_of_scope_or_erased_cannot_be_corrected(world: World, wang: Person) -> None:
    from django.http import Http404

    with pytest.raises(Http404):
        _update(world, world.b.person, name="乙")
    person_pseudonymize(actor=world.user(Role.COMMUNITY_STAFF), person_id=wang.pk)
    with pytest.raises(Conflict, match="已删除"):
        _update(world, wang, name="王卫")


# --- Moving -------------------------------------------------------------------------------


def test_a_head_who_moves_leaves_the_household_headless(world: World) -> None:
    staff = world.user(Role.COMMUNITY_STAFF)
    person = world.a.person
    compound2 = unit_create(kind="compound", name="甲二小区", parent=world.a.community)
    moved = person_move(
        actor=staff,
        person_id=person.pk,
        version=person_version(person),
        unit_id=compound2.pk,
        room="8号",
        relation="head",
    )
    assert moved.household is not None and moved.household.address == "甲二小区8号"
    assert moved.unit_id == compound2.pk and moved.household.head_id == person.pk
    world.a.household.refresh_from_db()
    assert world.a.household.head_id is None
    [event] = _events(person, AuditAction.PERSON_MOVED)
    assert event.detail["from"] == "1号楼1单元101" and event.detail["to"] == "甲二小区8号"
    assert event.detail["household_created"] is True


def test_a_move_to_the_same_household_or_out_of_scope_is_refused(world: World) -> None:
    staff = world.user(Role.COMMUNITY_STAFF)
    person = world.a.person
    before = _counts()
    for unit, entrance, room, message in (
        (world.a.building, "1", "101", "已是这一住户"),
        (world.b.building, "", "1", "不在您的管辖范围内"),
    ):
        with pytest.raises(ValidationError, match=message):
            person_move(
                actor=staff,
                person_id=person.pk,
                version=person_version(person),
                unit_id=unit.pk,
                entrance=entrance,
                room=room,
            )
    assert _counts() == before


# --- Pages --------------------------------------------------------------------------------


def _as(user) -> Client:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(user)
    return client


def test_the_register_page_registers_and_the_record_shows_it(world: World) -> None:
    client = _as(world.user(Role.COMMUNITY_STAFF))
    page = client.get(f"/console/registry/people/new/?household={world.a.household.pk}")
    html = page.content.decode()
    assert page.status_code == 200 and 'value="101"' in html and "甲居民" in html
    response = client.post(
        "/console/registry/people/new/",
        {
            "unit": world.a.building.pk,
            "entrance": "1",
            "room": "101",
            "relation": "child",
            "name": "甲小孩",
            "id_number": CHILD_ID,
            "guardian": world.a.person.pk,
            "tags": [],
        },
    )
    person = Person.objects.get(name="甲小孩")
    assert response.status_code == 302 and response["Location"].endswith(f"/{person.pk}/")
    html = client.get(response["Location"]).content.decode()
    assert "已登记甲小孩" in html and "变更记录" in html and "登记于 1号楼1单元101" in html


def test_a_refused_registration_keeps_what_was_typed(world: World) -> None:
    client = _as(world.user(Role.COMMUNITY_STAFF))
    before = _counts()
    response = client.post(
        "/console/registry/people/new/",
        {"unit": world.a.building.pk, "room": "505", "name": "赵敏", "id_number": "123"},
    )
    html = response.content.decode()
    assert response.status_code == 400 and 'role="alert"' in html
    assert "18位" in html and 'value="赵敏"' in html
    assert _counts() == before


def test_the_edit_page_never_holds_the_numbers_and_refuses_a_stale_post(
    world: World, wang: Person
) -> None:
    client = _as(world.user(Role.COMMUNITY_STAFF))
    page = client.get(f"/console/registry/people/{wang.pk}/edit/")
    html = page.content.decode()
    assert page.status_code == 200 and ADULT_ID not in html and PHONE not in html
    assert "139****5678" in html and 'value="王伟"' in html
    wang.refresh_from_db()
    form = {
        "name": "王卫",
        "relation": "spouse",
        "tags": ["veteran"],
        "version": person_version(wang),
    }
    response = client.post(f"/console/registry/people/{wang.pk}/edit/", form)
    assert response.status_code == 302
    stale = client.post(f"/console/registry/people/{wang.pk}/edit/", form | {"name": "王威"})
    assert stale.status_code == 409 and "已被他人修改" in stale.content.decode()
    record = client.get(f"/console/registry/people/{wang.pk}/").content.decode()
    assert "王伟 → 王卫" in record


def test_the_move_page_moves(world: World) -> None:
    client = _as(world.user(Role.COMMUNITY_STAFF))
    person = world.a.person
    response = client.post(
        f"/console/registry/people/{person.pk}/move/",
        {
            "unit": world.a.building.pk,
            "entrance": "3",
            "room": "603",
            "relation": "head",
            "version": person_version(person),
        },
    )
    assert response.status_code == 302
    person.refresh_from_db()
    assert person.household is not None and person.household.address == "1号楼3单元603"
    record = client.get(response["Location"]).content.decode()
    assert "1号楼1单元101 → 1号楼3单元603" in record


def test_readers_of_the_registry_get_no_forms(world: World) -> None:
    client = _as(world.user(Role.GRID_MEMBER))
    person = world.a.person
    assert client.get(f"/console/registry/people/{person.pk}/").status_code == 200
    assert "修改信息" not in client.get(f"/console/registry/people/{person.pk}/").content.decode()
    for url in (
        "/console/registry/people/new/",
        f"/console/registry/people/{person.pk}/edit/",
        f"/console/registry/people/{person.pk}/move/",
    ):
        assert client.get(url).status_code == 404, url
    outside = _as(world.user(Role.COMMUNITY_STAFF))
    assert outside.get(f"/console/registry/people/{world.b.person.pk}/edit/").status_code == 404


def test_keys_no_row_can_have_are_a_404_or_a_refusal(world: World) -> None:
    client = _as(world.user(Role.COMMUNITY_STAFF))
    huge = "9" * 30
    assert client.get(f"/console/registry/people/{huge}/edit/").status_code == 404
    assert client.get(f"/console/registry/people/new/?household={huge}").status_code == 200
    before = _counts()
    response = client.post(
        f"/console/registry/people/new/?household={huge}",
        {"unit": huge, "room": "1", "name": "赵敏", "guardian": huge},
    )
    assert response.status_code == 400 and _counts() == before
    with pytest.raises(ValidationError):
        person_register(actor=world.user(Role.COMMUNITY_STAFF), unit_id=10**30, name="赵敏")


# --- The API ------------------------------------------------------------------------------


def _api(user):  # type: ignore[no-untyped-def]
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_authenticate(user)
    return client


def test_the_api_registers_corrects_and_moves(world: World) -> None:
    api = _api(world.user(Role.COMMUNITY_STAFF))
    created = api.post(
        "/api/v1/people/",
        {
            "unit_id": world.a.building.pk,
            "entrance": "5",
            "room": "501",
            "relation": "head",
            "name": "孙丽",
            "phone": PHONE,
            "tags": ["living_alone"],
        },
        format="json",
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["address"] == "1号楼5单元501" and body["phone_masked"] == "139****5678"
    assert PHONE not in created.content.decode()
    pk, version = body["id"], body["version"]
    # PATCH: what is not sent stays.
    patched = api.patch(
        f"/api/v1/people/{pk}/", {"version": version, "id_number": OTHER_ID}, format="json"
    )
    assert patched.status_code == 200, patched.content
    assert patched.json()["birth_date"] == "1975-08-02" and patched.json()["name"] == "孙丽"
    assert patched.json()["tags"] == ["living_alone"]
    stale = api.patch(f"/api/v1/people/{pk}/", {"version": version, "name": "孙莉"}, format="json")
    assert stale.status_code == 409
    moved = api.post(
        f"/api/v1/people/{pk}/move/",
        {"version": patched.json()["version"], "unit_id": world.a.building.pk, "room": "9"},
        format="json",
    )
    assert moved.status_code == 200, moved.content
    assert moved.json()["address"] == "1号楼9" and moved.json()["relation"] == ""
    actions = AuditEvent.objects.filter(object_type="people.person", object_id=str(pk))
    assert set(actions.values_list("action", flat=True)) == {
        AuditAction.PERSON_REGISTERED,
        AuditAction.PERSON_CHANGED,
        AuditAction.PERSON_MOVED,
    }


def test_the_api_refuses_bad_input_and_other_roles(world: World) -> None:
    before = _counts()
    staff = _api(world.user(Role.COMMUNITY_STAFF))
    for body in (
        {"unit_id": world.a.building.pk},  # no name
        {"unit_id": "x", "name": "赵敏"},
        {"unit_id": world.b.building.pk, "name": "赵敏"},
        {"unit_id": world.a.building.pk, "name": "赵敏", "id_number": "1" * 18},
        {"unit_id": world.a.building.pk, "name": "赵敏", "tags": "veteran"},
    ):
        response = staff.post("/api/v1/people/", body, format="json")
        assert response.status_code == 400, (body, response.content)
    resident = _api(world.user(Role.RESIDENT))
    response = resident.post(
        "/api/v1/people/", {"unit_id": world.a.building.pk, "name": "赵敏"}, format="json"
    )
    assert response.status_code == 403
    person = world.a.person
    response = staff.patch(
        f"/api/v1/people/{world.b.person.pk}/",
        {"version": person_version(world.b.person), "name": "乙"},
        format="json",
    )
    assert response.status_code == 404
    assert _counts() == before
    person.refresh_from_db()
    assert person.name == "甲居民"


def test_a_first_id_number_overrides_what_the_page_showed(world: World) -> None:
    """The edit page sends back the birth date and gender it showed; a newly typed ID
    number supersedes them rather than being refused for differing."""
    person = person_create(
        name="马六", unit=world.a.building, birth_date=dt.date(1976, 1, 1), gender="unknown"
    )
    updated, changed = _update(
        world, person, id_number=OTHER_ID, birth_date=dt.date(1976, 1, 1), gender="unknown"
    )
    updated.refresh_from_db()
    assert updated.birth_date == dt.date(1975, 8, 2) and updated.gender == "female"
    assert {"id_number", "birth_date", "gender"} <= set(changed)


def test_a_resident_reads_who_changed_their_record(world: World) -> None:
    from doorstep.conftest import make_user
    from doorstep.people.services import person_link_account, person_update_own

    resident = make_user("resident_h", Role.RESIDENT)
    person = person_link_account(person=world.a.person, user=resident)
    _update(world, person, tags=["veteran"])
    person_update_own(actor=resident, phone="13700002222")
    html = _as(resident).get("/me/record/").content.decode()
    assert "我的信息变更记录" in html and "社区工作人员" in html and "本人" in html
    assert "u_community_staff" not in html  # staff are named by their office
    assert "138****0000 → 137****2222" in html


# --- Closing a household ------------------------------------------------------------------


def test_a_household_closes_once_empty_and_reopens_for_newcomers(world: World) -> None:
    from doorstep.people.services import household_close

    staff = world.user(Role.COMMUNITY_STAFF)
    household = world.a.household
    before = _counts()
    with pytest.raises(Conflict, match="还有1名在册成员"):
        household_close(actor=staff, household_id=household.pk)
    assert _counts() == before
    person = world.a.person
    person_move(
        actor=staff,
        person_id=person.pk,
        version=person_version(person),
        unit_id=world.a.building.pk,
        room="808",
        relation="head",
    )
    household_close(actor=staff, household_id=household.pk)
    household.refresh_from_db()
    assert not household.is_active and household.head_id is None
    event = AuditEvent.objects.filter(action=AuditAction.HOUSEHOLD_CLOSED).get()
    assert event.object_id == str(household.pk) and event.detail["address"] == "1号楼1单元101"
    with pytest.raises(Conflict, match="已注销"):
        household_close(actor=staff, household_id=household.pk)
    # A new family moves into the flat: the same household opens again.
    newcomer = person_register(
        actor=staff,
        unit_id=world.a.building.pk,
        entrance="1",
        room="101",
        relation="head",
        name="新住户",
    )
    household.refresh_from_db()
    assert newcomer.household_id == household.pk
    assert household.is_active and household.head_id == newcomer.pk
    registered = _events(newcomer, AuditAction.PERSON_REGISTERED)[0]
    assert registered.detail["household_reopened"] is True


def test_the_household_page_closes_an_empty_household(world: World) -> None:
    client = _as(world.user(Role.COMMUNITY_STAFF))
    household = world.a.household
    url = f"/console/registry/households/{household.pk}/"
    assert "注销住户" not in client.get(url).content.decode()  # someone lives there
    refused = client.post(url)
    assert refused.status_code == 409 and 'role="alert"' in refused.content.decode()
    empty = Household.objects.create(unit=world.a.building, entrance="9", room="909")
    url = f"/console/registry/households/{empty.pk}/"
    assert "注销住户" in client.get(url).content.decode()
    assert _as(world.user(Role.GRID_MEMBER)).post(url).status_code == 404
    done = client.post(url)
    assert done.status_code == 302
    empty.refresh_from_db()
    assert not empty.is_active
    assert "已注销该住户" in client.get(url).content.decode()


def test_a_registration_sent_twice_registers_one_person(world: World) -> None:
    values: dict[str, Any] = {
        "actor": world.user(Role.COMMUNITY_STAFF),
        "unit_id": world.a.building.pk,
        "entrance": "1",
        "room": "101",
        "relation": "spouse",
        "name": "甲配偶",
    }
    person_register(**values)
    before = _counts()
    with pytest.raises(Conflict, match="已登记名为甲配偶的成员") as caught:
        person_register(**values)
    assert caught.value.field == "name" and _counts() == before


def test_a_move_into_a_household_with_a_namesake_is_refused(world: World) -> None:
    staff = world.user(Role.COMMUNITY_STAFF)
    namesake = person_create(name="甲居民", unit=world.a.building)
    before = _counts()
    with pytest.raises(Conflict, match="已登记名为甲居民的成员"):
        person_move(
            actor=staff,
            person_id=namesake.pk,
            version=person_version(namesake),
            unit_id=world.a.building.pk,
            entrance="1",
            room="101",
        )
    assert _counts() == before


def test_the_move_page_starts_at_the_current_building(world: World) -> None:
    html = (
        _as(world.user(Role.COMMUNITY_STAFF))
        .get(f"/console/registry/people/{world.a.person.pk}/move/")
        .content.decode()
    )
    assert f'<option value="{world.a.building.pk}" selected>' in html
