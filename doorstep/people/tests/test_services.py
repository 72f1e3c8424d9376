"""The registry's writes: ID validation, sealing, reveal, pseudonymization, guardians."""

import datetime as dt
from typing import Any

import pytest
from django.db import connection
from django.http import Http404

from doorstep.accounts.models import AuditAction, AuditEvent, AuditOutcome
from doorstep.accounts.roles import Role
from doorstep.conftest import World, make_user
from doorstep.core import crypto
from doorstep.core.errors import Conflict, PermissionDenied, ValidationError
from doorstep.people.idnumber import make_id_number, parse_id_number
from doorstep.people.models import Person
from doorstep.people.selectors import age_group_q
from doorstep.people.services import (
    person_create,
    person_pseudonymize,
    person_reveal,
    person_update_own,
)

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 5, 1)
ADULT_ID = make_id_number("510502", dt.date(1980, 3, 15), 123)  # odd sequence: male
PHONE = "13912345678"


# --- ID numbers ---------------------------------------------------------------------------


def test_a_valid_id_number_gives_birth_date_and_gender() -> None:
    parsed = parse_id_number(ADULT_ID, today=TODAY)
    assert parsed.birth_date == dt.date(1980, 3, 15)
    assert parsed.gender == "male"
    assert parsed.masked == ADULT_ID[:4] + "*" * 10 + ADULT_ID[-4:]


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("51050219800315123", "身份证号码应为18位"),
        ("99" + ADULT_ID[2:], "地区码 990502 不是"),
        # A county code Sichuan never had, with a correct check character.
        (make_id_number("510599", dt.date(1980, 3, 15), 123), "地区码 510599 不是"),
        ("510502" + "19801315" + "1234", "出生日期无效"),
        (ADULT_ID[:17] + ("0" if ADULT_ID[17] != "0" else "1"), "校验位不正确"),
    ],
)
def test_a_bad_id_number_is_refused_naming_the_field(world: World, raw: str, message: str) -> None:
    before = Person.objects.count()
    with pytest.raises(ValidationError, match=message) as caught:
        person_create(name="王伟", unit=world.a.building, id_number=raw, today=TODAY)
    assert caught.value.field == "id_number"
    assert Person.objects.count() == before


def test_a_retired_region_code_is_still_valid() -> None:
    # 成都市东城区 (510102) left GB/T 2260 in 1990; the numbers it issued stay valid.
    assert parse_id_number(make_id_number("510102", dt.date(1960, 5, 4), 31), today=TODAY)
    # The residence permits of Hong Kong, Macao and Taiwan residents use 81/82/830000.
    assert parse_id_number(make_id_number("830000", dt.date(1990, 1, 1), 2), today=TODAY)


def test_a_deployment_may_add_region_codes_created_after_the_shipped_list(
    settings: Any,
) -> None:
    new_county = make_id_number("510599", dt.date(2024, 5, 4), 31)
    with pytest.raises(ValidationError):
        parse_id_number(new_county, today=TODAY)
    settings.DOORSTEP_EXTRA_REGION_CODES = ["510599"]
    assert parse_id_number(new_county, today=TODAY).birth_date == dt.date(2024, 5, 4)


def test_person_takes_birth_date_and_gender_from_the_id_number(world: World) -> None:
    person = person_create(name="王伟", unit=world.a.building, id_number=ADULT_ID, today=TODAY)
    assert (person.birth_date, person.gender) == (dt.date(1980, 3, 15), "male")


def test_a_birth_date_contradicting_the_id_number_is_refused(world: World) -> None:
    with pytest.raises(ValidationError, match="出生日期与身份证号码不一致") as caught:
        person_create(
            name="王伟",
            unit=world.a.building,
            id_number=ADULT_ID,
            birth_date=dt.date(1981, 1, 1),
            today=TODAY,
        )
    assert caught.value.field == "birth_date"
    assert not Person.objects.filter(name="王伟").exists()


def test_a_duplicate_id_number_is_refused(world: World) -> None:
    first = person_create(name="王伟", unit=world.a.building, id_number=ADULT_ID, today=TODAY)
    with pytest.raises(Conflict, match="该身份证号码已登记") as caught:
        person_create(name="李强", unit=world.b.building, id_number=ADULT_ID, today=TODAY)
    assert caught.value.field == "id_number"
    assert list(Person.objects.filter(id_number_hash=first.id_number_hash)) == [first]
    assert not Person.objects.filter(name="李强").exists()


# --- Sealing ------------------------------------------------------------------------------


def test_no_column_holds_a_plaintext_id_or_phone_number(world: World) -> None:
    person = person_create(
        name="王伟", unit=world.a.building, id_number=ADULT_ID, phone=PHONE, today=TODAY
    )
    table = connection.ops.quote_name(Person._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {table} WHERE id = %s", [person.pk])  # noqa: S608
        row = cursor.fetchone()
    cells = [str(value) for value in row if value is not None]
    for secret in (ADULT_ID, PHONE, ADULT_ID[4:14], PHONE[:7]):
        assert not any(secret in cell for cell in cells), secret
    assert person.id_number_masked == ADULT_ID[:4] + "**********" + ADULT_ID[-4:]
    assert person.phone_masked == "139****5678"
    assert crypto.open_sealed(person.id_number_sealed) == ADULT_ID
    assert crypto.open_sealed(person.phone_sealed) == PHONE


# --- Reveal -------------------------------------------------------------------------------


def _person(world: World) -> Person:
    return person_create(
        name="王伟",
        household=world.a.household,
        relation="spouse",
        id_number=ADULT_ID,
        phone=PHONE,
        today=TODAY,
    )


def test_reveal_returns_the_number_and_is_audited(world: World) -> None:
    person = _person(world)
    staff = world.user(Role.COMMUNITY_STAFF)
    assert person_reveal(actor=staff, person_id=person.pk, field="id_number") == ADULT_ID
    assert person_reveal(actor=staff, person_id=person.pk, field="phone") == PHONE
    events = AuditEvent.objects.filter(action=AuditAction.REVEAL, object_id=str(person.pk))
    assert sorted((e.actor_username, e.outcome, e.detail["field"]) for e in events) == [
        ("u_community_staff", AuditOutcome.SUCCESS, "id_number"),
        ("u_community_staff", AuditOutcome.SUCCESS, "phone"),
    ]
    assert not any(ADULT_ID in str(e.detail) or PHONE in str(e.detail) for e in events)


@pytest.mark.parametrize("role", [Role.GRID_MEMBER, Role.GRID_LEADER, Role.BUILDING_LEADER])
def test_reveal_is_refused_for_grid_roles_and_the_refusal_audited(world: World, role: str) -> None:
    person = _person(world)
    with pytest.raises(PermissionDenied, match="无权查看完整"):
        person_reveal(actor=world.user(role), person_id=person.pk, field="id_number")
    event = AuditEvent.objects.get(action=AuditAction.REVEAL, object_id=str(person.pk))
    assert (event.actor_username, event.outcome) == (f"u_{role}", AuditOutcome.DENIED)


def test_reveal_outside_scope_is_not_found_and_unknown_fields_are_refused(world: World) -> None:
    staff = world.user(Role.COMMUNITY_STAFF)
    with pytest.raises(Http404):
        person_reveal(actor=staff, person_id=world.b.person.pk, field="phone")
    with pytest.raises(ValidationError, match="只能查看") as caught:
        person_reveal(actor=staff, person_id=world.a.person.pk, field="name")
    assert caught.value.field == "field"
    assert not AuditEvent.objects.filter(action=AuditAction.REVEAL).exists()


# --- A resident's own record ----------------------------------------------------------------


def _linked_resident(world: World) -> tuple[Person, Any]:
    person = _person(world)
    user = make_user("resident_w", Role.RESIDENT)
    Person.objects.filter(pk=person.pk).update(user=user)
    person.refresh_from_db()
    return person, user


def test_a_resident_corrects_name_and_phone(world: World) -> None:
    person, user = _linked_resident(world)
    updated = person_update_own(actor=user, name="王伟伟", phone="13700001111")
    person.refresh_from_db()
    assert (person.name, person.name_pinyin, person.name_initials) == (
        "王伟伟",
        "wangweiwei",
        "www",
    )
    assert (person.phone_masked, person.phone_last4) == ("137****1111", "1111")
    assert crypto.open_sealed(person.phone_sealed) == "13700001111"
    assert updated.pk == person.pk
    assert crypto.open_sealed(person.id_number_sealed) == ADULT_ID  # untouched
    # Audited as a correction, by the resident, numbers masked; the same again is no change.
    [event] = AuditEvent.objects.filter(action=AuditAction.PERSON_CHANGED, object_id=str(person.pk))
    assert event.actor_id == user.pk and event.detail["by"] == "self"
    assert event.detail["name"] == ["王伟", "王伟伟"]
    assert event.detail["phone"] == ["139****5678", "137****1111"]
    person_update_own(actor=user, name="王伟伟", phone="13700001111")
    assert AuditEvent.objects.filter(action=AuditAction.PERSON_CHANGED).count() == 1


def test_a_bad_phone_changes_nothing(world: World) -> None:
    person, user = _linked_resident(world)
    with pytest.raises(ValidationError, match="电话号码格式不正确") as caught:
        person_update_own(actor=user, name="李四", phone="12345")
    assert caught.value.field == "phone"
    person.refresh_from_db()
    assert (person.name, person.phone_masked) == ("王伟", "139****5678")


# --- Pseudonymization -------------------------------------------------------------------


def test_pseudonymize_keeps_the_row_and_clears_identifying_data(world: World) -> None:
    person, user = _linked_resident(world)
    person.tags.set([])
    result = person_pseudonymize(actor=user, person_id=person.pk)
    person.refresh_from_db()
    assert result.pk == person.pk and Person.objects.filter(pk=person.pk).exists()
    assert person.name == f"已注销居民 #{person.pk}"
    assert person.pseudonymized_at is not None
    for column in (
        "name_pinyin",
        "name_initials",
        "id_number_sealed",
        "id_number_hash",
        "id_number_masked",
        "phone_sealed",
        "phone_hash",
        "phone_masked",
        "phone_last4",
    ):
        assert getattr(person, column) == "", column
    assert (person.birth_date, person.gender, person.user_id) == (None, "unknown", None)
    assert person.household_id == world.a.household.pk  # the household history stays
    event = AuditEvent.objects.get(action=AuditAction.PSEUDONYMIZED)
    assert (event.actor_username, event.object_id) == ("resident_w", str(person.pk))


def test_pseudonymize_is_refused_for_someone_elses_record(world: World) -> None:
    person = _person(world)
    grid_member = world.user(Role.GRID_MEMBER)
    with pytest.raises(PermissionDenied, match="无权删除"):
        person_pseudonymize(actor=grid_member, person_id=person.pk)
    person.refresh_from_db()
    assert person.name == "王伟" and person.pseudonymized_at is None
    assert not AuditEvent.objects.filter(action=AuditAction.PSEUDONYMIZED).exists()


# --- Children and age groups ----------------------------------------------------------------


def test_a_child_under_14_needs_a_guardian(world: World) -> None:
    child_id = make_id_number("510502", dt.date(2018, 6, 1), 224)
    with pytest.raises(ValidationError, match="未满14周岁的人员必须登记监护人") as caught:
        person_create(name="王小宝", unit=world.a.building, id_number=child_id, today=TODAY)
    assert caught.value.field == "guardian"
    assert not Person.objects.filter(name="王小宝").exists()
    guardian = _person(world)
    child = person_create(
        name="王小宝", unit=world.a.building, id_number=child_id, guardian=guardian, today=TODAY
    )
    assert child.guardian_id == guardian.pk


def test_age_groups_are_computed_from_the_birth_date_on_the_day(world: World) -> None:
    born = {
        "turns_60_today": dt.date(1966, 5, 1),
        "turns_60_tomorrow": dt.date(1966, 5, 2),
        "turns_14_today": dt.date(2012, 5, 1),
        "turns_14_tomorrow": dt.date(2012, 5, 2),
        "no_birth_date": None,
    }
    guardian = _person(world)
    for name, day in born.items():
        person_create(
            name=name, unit=world.a.building, birth_date=day, guardian=guardian, today=TODAY
        )
    names = Person.objects.filter(name__in=born)

    def group(age_group: str, today: dt.date) -> set[str]:
        return set(names.filter(age_group_q(age_group, today=today)).values_list("name", flat=True))

    assert group("elderly", TODAY) == {"turns_60_today"}
    assert group("child", TODAY) == {"turns_14_tomorrow"}
    # A day later the groups have moved on by themselves: nothing stored went stale.
    tomorrow = TODAY + dt.timedelta(days=1)
    assert group("elderly", tomorrow) == {"turns_60_today", "turns_60_tomorrow"}
    assert group("child", tomorrow) == set()


def test_age_groups_on_29_february(world: World) -> None:
    leap_day = dt.date(2028, 2, 29)
    guardian = _person(world)
    for name, day in {"b0228": dt.date(2014, 2, 28), "b0301": dt.date(2014, 3, 1)}.items():
        person_create(
            name=name, unit=world.a.building, birth_date=day, guardian=guardian, today=TODAY
        )
    children = Person.objects.filter(age_group_q("child", today=leap_day), name__startswith="b0")
    assert list(children.values_list("name", flat=True)) == ["b0301"]
    for person in Person.objects.filter(name__startswith="b0"):
        assert person.is_child(leap_day) == (person.name == "b0301")
