"""A dump of the whole database holds no plaintext ID or phone number, after the
operations that touch them: registration, search, reveal, export and self-correction."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.test import Client

from doorstep.accounts.roles import Role
from doorstep.conftest import World
from doorstep.people.services import (
    person_create,
    person_link_account,
    person_reveal,
    person_update_own,
)

pytestmark = pytest.mark.django_db

ID_NUMBER = "11010519491231002X"
PHONE = "13912345678"
NEW_PHONE = "13687654321"


def test_database_dump_has_no_plaintext_numbers(world: World) -> None:
    staff = world.user(Role.COMMUNITY_STAFF)
    person = person_create(
        name="王秀英",
        household=world.a.household,
        relation="spouse",
        id_number=ID_NUMBER,
        phone=PHONE,
    )
    assert person_reveal(actor=staff, person_id=person.pk, field="id_number") == ID_NUMBER

    client = Client()
    client.force_login(staff)
    assert client.get("/console/registry/", {"q": ID_NUMBER}).status_code == 200
    assert client.get("/console/registry/", {"q": PHONE}).status_code == 200
    export = client.get("/console/registry/export.xlsx", {"reveal": "1"})
    assert export.status_code == 200

    resident = world.user(Role.RESIDENT)
    person_link_account(person=person, user=resident)
    person_update_own(actor=resident, phone=NEW_PHONE)

    dump = io.StringIO()
    call_command("dumpdata", stdout=dump)
    text = dump.getvalue()
    assert "王秀英" in text  # the dump is real and holds the person
    for secret in (
        ID_NUMBER,
        ID_NUMBER[6:14] + ID_NUMBER[14:17],
        PHONE,
        NEW_PHONE,
        PHONE[3:7] + PHONE[7:],
    ):
        assert secret not in text, f"{secret} leaked into the database"
