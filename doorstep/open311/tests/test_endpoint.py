"""The GeoReport v2 endpoint through its real interface: discovery, services, service
definitions, filing and reading requests, tokens, errors — in XML and in JSON."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any
from urllib.parse import urlencode

import pytest
from django.core.management import call_command
from django.test import Client
from PIL import Image

from doorstep.accounts.models import AuditAction, AuditEvent
from doorstep.accounts.roles import Role
from doorstep.appeals.choices import Action, CaseState, Channel
from doorstep.appeals.models import Case, Category
from doorstep.appeals.services import case_transition
from doorstep.conftest import World
from doorstep.core import timeutils
from doorstep.open311.models import ApiKey, ServiceOption, Submission
from doorstep.open311.services import api_key_revoke
from doorstep.orgs.models import Unit

from .conftest import BASE, post, xml

pytestmark = pytest.mark.django_db

# The request fields in the order the spec lists them.
REQUEST_FIELDS = [
    "service_request_id",
    "status",
    "status_notes",
    "service_name",
    "service_code",
    "description",
    "agency_responsible",
    "service_notice",
    "requested_datetime",
    "updated_datetime",
    "expected_datetime",
    "address",
    "address_id",
    "zipcode",
    "lat",
    "long",
    "media_url",
]
SERVICE_FIELDS = [
    "service_code",
    "service_name",
    "description",
    "metadata",
    "type",
    "keywords",
    "group",
]


def _file(world: World, client: Client, key: str, jid: str, **extra: Any) -> Any:
    data = {
        "api_key": key,
        "jurisdiction_id": jid,
        "service_code": "sanitation",
        "address_id": str(world.a.compound.pk),
        "description": "垃圾桶满了没人清运",
        **extra,
    }
    return post(client, "json", data)


# --- discovery and services -------------------------------------------------------------


def test_discovery_in_both_formats(client: Client) -> None:
    root = xml(client.get(f"{BASE}/discovery.xml"))
    assert [child.tag for child in root] == ["changeset", "contact", "key_service", "endpoints"]
    endpoint = root.find("endpoints/endpoint")
    assert endpoint is not None
    assert endpoint.findtext("specification") == "http://wiki.open311.org/GeoReport_v2"
    assert endpoint.findtext("url", "").endswith("/open311/v2")
    assert [f.text for f in endpoint.findall("formats/format")] == ["text/xml", "application/json"]
    body = client.get(f"{BASE}/discovery.json").json()
    assert body["endpoints"][0]["formats"] == ["text/xml", "application/json"]
    assert body["changeset"] == root.findtext("changeset")


def test_service_list_comes_from_the_leaf_categories(client: Client, jid: str) -> None:
    services = client.get(f"{BASE}/services.json", {"jurisdiction_id": jid}).json()
    codes = {s["service_code"] for s in services}
    leaves = set(
        Category.objects.filter(is_active=True, children__isnull=True).values_list(
            "code", flat=True
        )
    )
    assert codes == leaves
    sanitation = next(s for s in services if s["service_code"] == "sanitation")
    assert list(sanitation) == SERVICE_FIELDS
    assert sanitation["group"] == "人居环境" and sanitation["type"] == "realtime"
    root = xml(client.get(f"{BASE}/services.xml", {"jurisdiction_id": jid}))
    assert root.tag == "services"
    assert {s.findtext("service_code") for s in root.findall("service")} == leaves
    assert root.find("service/metadata") is not None


def test_service_definition_and_the_singular_path(
    client: Client, jid: str, parking: Category
) -> None:
    services = client.get(f"{BASE}/services.json", {"jurisdiction_id": jid}).json()
    assert next(s for s in services if s["service_code"] == "repair")["metadata"] is True
    body = client.get(f"{BASE}/services/repair.json", {"jurisdiction_id": jid}).json()
    assert body["service_code"] == "repair"
    first = body["attributes"][0]
    assert first["code"] == "facility" and first["datatype"] == "singlevaluelist"
    assert first["required"] is True and first["order"] == 1
    assert first["values"] == [{"key": "lamp", "name": "路灯"}, {"key": "bench", "name": "座椅"}]
    root = xml(client.get(f"{BASE}/service/repair.xml", {"jurisdiction_id": jid}))
    assert root.tag == "service_definition"
    names = [a.findtext("code") for a in root.findall("attributes/attribute")]
    assert names == ["facility", "floor"]
    assert [v.findtext("name") for v in root.findall("attributes/attribute/values/value")] == [
        "路灯",
        "座椅",
    ]


def test_unknown_service_is_404_with_the_error_list(client: Client, jid: str) -> None:
    response = client.get(f"{BASE}/services/nope.xml", {"jurisdiction_id": jid})
    assert response.status_code == 404
    root = xml(response)
    assert root.tag == "errors" and root.findtext("error/code") == "404"
    assert "nope" in root.findtext("error/description", "")
    response = client.get(f"{BASE}/services/nope.json", {"jurisdiction_id": jid})
    assert response.status_code == 404
    assert response.json()[0]["code"] == 404


def test_jurisdiction_is_required_and_checked_when_there_are_several(
    client: Client, world: World
) -> None:
    missing = client.get(f"{BASE}/services.json")
    assert missing.status_code == 400 and "jurisdiction_id" in missing.json()[0]["description"]
    empty = client.get(f"{BASE}/services.json", {"jurisdiction_id": ""})
    assert empty.status_code == 400  # an empty parameter is a missing one
    unknown = client.get(f"{BASE}/services.json", {"jurisdiction_id": "999999"})
    assert unknown.status_code == 404
    assert (
        client.get(f"{BASE}/services.json", {"jurisdiction_id": world.b.city.code}).status_code
        == 200
    )


def test_unknown_resource_and_format_answer_404(client: Client) -> None:
    assert client.get(f"{BASE}/nothing.json").status_code == 404
    assert client.get(f"{BASE}/services.yaml").status_code == 404


# --- filing requests ----------------------------------------------------------------------


def test_post_files_a_routed_case_and_records_the_key(
    client: Client, world: World, key: str, jid: str
) -> None:
    response = _file(world, client, key, jid, first_name="三", last_name="张", phone="13900001111")
    assert response.status_code == 201, response.content
    row = response.json()[0]
    assert set(row) == {"service_request_id", "service_notice", "account_id"}
    case = Case.objects.get(receipt_code=row["service_request_id"])
    assert case.channel == Channel.OPEN311 and case.state == CaseState.SUBMITTED
    assert case.community == world.a.community and case.category.code == "sanitation"
    assert case.deadline is not None
    submission = Submission.objects.get(case=case)
    assert submission.api_key.name == "市民热线平台"
    # Contact details are sealed, not stored in clear.
    assert "13900001111" not in submission.contact_sealed
    assert "13900001111" not in case.text


def test_post_in_xml_with_form_and_multipart_bodies(
    client: Client, world: World, key: str, jid: str
) -> None:
    Unit.objects.filter(pk=world.a.compound.pk).update(lat=30.01, lng=110.01)
    data = {
        "api_key": key,
        "jurisdiction_id": jid,
        "service_code": "sanitation",
        "lat": "30.0101",
        "long": "110.0101",
        "description": "路边有积水",
    }
    encoded = client.post(
        f"{BASE}/requests.xml", urlencode(data), content_type="application/x-www-form-urlencoded"
    )
    assert encoded.status_code == 201, encoded.content
    code = xml(encoded).findtext("request/service_request_id")
    case = Case.objects.get(receipt_code=code)
    assert case.compound == world.a.compound and case.lat == pytest.approx(30.0101)
    image = io.BytesIO()
    Image.new("RGB", (40, 30), "red").save(image, "JPEG")
    image.seek(0)
    image.name = "photo.jpg"
    data["address_id"] = str(world.a.building.pk)
    del data["lat"], data["long"]
    multipart = client.post(f"{BASE}/requests.xml", {**data, "media": image})
    assert multipart.status_code == 201, multipart.content
    root = xml(multipart)
    assert root.tag == "service_requests"
    code = root.findtext("request/service_request_id")
    assert Case.objects.get(receipt_code=code).photos.count() == 1


def test_a_point_outside_every_community_is_refused(
    client: Client, world: World, key: str, jid: str
) -> None:
    response = _file(world, client, key, jid, address_id="", lat="45.0", long="125.0")
    assert response.status_code == 400
    assert response.json()[0]["description"].startswith("lat/long")
    assert not Case.objects.exists()


def test_api_key_in_the_query_string_works(
    client: Client, world: World, key: str, jid: str
) -> None:
    response = client.post(
        f"{BASE}/requests.json?api_key={key}",
        {
            "jurisdiction_id": jid,
            "service_code": "sanitation",
            "address_id": str(world.a.compound.pk),
        },
    )
    assert response.status_code == 201, response.content


@pytest.mark.parametrize(
    ("change", "status", "needle"),
    [
        ({"api_key": ""}, 403, "api_key"),
        ({"api_key": "o311_wrong"}, 403, "api_key"),
        ({"service_code": ""}, 400, "service_code"),
        ({"service_code": "nope"}, 404, "service_code"),
        ({"address_id": ""}, 400, "lat"),
        ({"address_id": "999999"}, 400, "address_id"),
        ({"address_id": "²"}, 400, "address_id"),  # a digit to str.isdigit, not to int()
        ({"address_id": "", "lat": "30.0"}, 400, "long"),
        ({"address_id": "", "lat": "abc", "long": "110"}, 400, "lat"),
        ({"address_id": "", "address_string": "火星某处"}, 400, "address_string"),
        ({"description": "长" * 4001}, 400, "4000"),
        ({"attribute[colour]": "red"}, 400, "colour"),
        ({"media_url": "javascript:alert(1)"}, 400, "media_url"),
        ({"jurisdiction_id": ""}, 400, "jurisdiction_id"),
    ],
)
def test_bad_posts_file_nothing(
    client: Client,
    world: World,
    key: str,
    jid: str,
    change: dict[str, str],
    status: int,
    needle: str,
) -> None:
    before = Case.objects.count()
    response = _file(world, client, key, jid, **change)
    assert response.status_code == status, response.content
    errors = response.json()
    assert isinstance(errors, list) and needle in errors[0]["description"]
    assert Case.objects.count() == before
    assert not Submission.objects.exists()


def test_forged_media_is_refused(client: Client, world: World, key: str, jid: str) -> None:
    fake = io.BytesIO(b"<?php echo 'not an image'; ?>")
    fake.name = "photo.jpg"
    before = Case.objects.count()
    response = client.post(
        f"{BASE}/requests.xml",
        {
            "api_key": key,
            "jurisdiction_id": jid,
            "service_code": "sanitation",
            "address_id": str(world.a.compound.pk),
            "media": fake,
        },
    )
    assert response.status_code == 400
    assert xml(response).findtext("error/description", "").startswith("media")
    assert Case.objects.count() == before


def test_attributes_are_checked_against_the_definition(
    client: Client, world: World, key: str, jid: str, parking: Category
) -> None:
    base = {"service_code": "repair"}
    missing = _file(world, client, key, jid, **base)
    assert missing.status_code == 400 and "facility" in missing.json()[0]["description"]
    wrong = _file(world, client, key, jid, **base, **{"attribute[facility]": "tree"})
    assert wrong.status_code == 400 and "tree" in wrong.json()[0]["description"]
    not_number = _file(
        world, client, key, jid, **base, **{"attribute[facility]": "lamp", "attribute[floor]": "x"}
    )
    assert not_number.status_code == 400
    ok = _file(
        world, client, key, jid, **base, **{"attribute[facility]": "lamp", "attribute[floor]": "3"}
    )
    assert ok.status_code == 201, ok.content
    case = Case.objects.get(receipt_code=ok.json()[0]["service_request_id"])
    assert "哪类设施：路灯" in case.text
    assert Submission.objects.get(case=case).attributes == {"facility": "lamp", "floor": "3"}


def test_batch_service_answers_a_token_that_resolves_once_accepted(
    client: Client, world: World, key: str, jid: str
) -> None:
    ServiceOption.objects.create(category=Category.objects.get(code="sanitation"), type="batch")
    filed = _file(world, client, key, jid).json()[0]
    assert "service_request_id" not in filed and filed["token"]
    url = f"{BASE}/tokens/{filed['token']}.json"
    pending = client.get(url, {"jurisdiction_id": jid}).json()[0]
    assert pending == {"service_request_id": None, "token": filed["token"]}
    case = Submission.objects.get(token=filed["token"]).case
    staff = world.user(Role.COMMUNITY_STAFF)
    case_transition(actor=staff, case=case, action=Action.ACCEPT, version=case.version)
    done = client.get(url, {"jurisdiction_id": jid}).json()[0]
    assert done["service_request_id"] == case.receipt_code
    assert client.get(f"{BASE}/tokens/nope.json", {"jurisdiction_id": jid}).status_code == 404


def test_blackbox_service_answers_neither_id_nor_token(
    client: Client, world: World, key: str, jid: str
) -> None:
    ServiceOption.objects.create(category=Category.objects.get(code="sanitation"), type="blackbox")
    row = _file(world, client, key, jid).json()[0]
    assert "service_request_id" not in row and "token" not in row
    assert row["service_notice"]


def test_revoked_key_is_refused_and_audited(
    client: Client, world: World, key: str, jid: str
) -> None:
    api_key_revoke(actor=None, name="市民热线平台")
    response = _file(world, client, key, jid)
    assert response.status_code == 403
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {AuditAction.TOKEN_ISSUED, AuditAction.TOKEN_REVOKED} <= actions


# --- reading requests ---------------------------------------------------------------------


def test_get_requests_shows_what_the_public_board_shows(
    client: Client, world: World, key: str, jid: str
) -> None:
    code = _file(world, client, key, jid, first_name="三", last_name="张", phone="13900001111")
    code = code.json()[0]["service_request_id"]
    rows = client.get(f"{BASE}/requests.json", {"jurisdiction_id": jid}).json()
    row = next(r for r in rows if r["service_request_id"] == code)
    assert list(row) == REQUEST_FIELDS
    assert row["status"] == "open" and row["service_code"] == "sanitation"
    assert row["description"] is None  # the public never reads the text
    assert row["requested_datetime"].endswith("+00:00") or row["requested_datetime"][-6] in "+-"
    assert world.a.compound.name in row["address"]
    # Every text the public reads (numbers such as address_id are ids, and one may
    # happen to contain the room number's digits).
    dump = str([[v for v in r.values() if isinstance(v, str)] for r in rows])
    for private in ("13900001111", "张", world.a.person.name, "101"):
        assert private not in dump
    # The system that filed it reads its own description.
    own = client.get(f"{BASE}/requests/{code}.json", {"jurisdiction_id": jid, "api_key": key})
    assert own.json()[0]["description"] == "垃圾桶满了没人清运"


def test_one_item_and_empty_lists_keep_their_shape(
    client: Client, world: World, key: str, jid: str
) -> None:
    code = _file(world, client, key, jid).json()[0]["service_request_id"]
    one = xml(client.get(f"{BASE}/requests/{code}.xml", {"jurisdiction_id": jid}))
    assert one.tag == "service_requests" and len(one.findall("request")) == 1
    assert [c.tag for c in one.find("request")] == REQUEST_FIELDS  # type: ignore[union-attr]
    assert isinstance(
        client.get(f"{BASE}/requests/{code}.json", {"jurisdiction_id": jid}).json(), list
    )
    params = {"jurisdiction_id": world.b.city.code}
    empty = xml(client.get(f"{BASE}/requests.xml", params))
    assert empty.tag == "service_requests" and list(empty) == []
    assert client.get(f"{BASE}/requests.json", params).json() == []


def test_request_outside_the_jurisdiction_is_404(
    client: Client, world: World, key: str, jid: str
) -> None:
    code = _file(world, client, key, jid).json()[0]["service_request_id"]
    other = client.get(f"{BASE}/requests/{code}.json", {"jurisdiction_id": world.b.city.code})
    assert other.status_code == 404


@pytest.mark.parametrize(
    ("params", "needle"),
    [
        ({"start_date": "yesterday"}, "start_date"),
        ({"end_date": "2026-01-05T00:00:00"}, "end_date"),
        ({"start_date": "2026-01-01T00:00:00Z", "end_date": "2026-04-02T00:00:00Z"}, "90"),
        ({"start_date": "2026-03-01T00:00:00Z", "end_date": "2026-01-01T00:00:00Z"}, "start_date"),
        ({"status": "pending"}, "status"),
        ({"page": "0"}, "page"),
        ({"page": "²"}, "page"),  # a digit to str.isdigit, not to int()
        ({"page_size": "²"}, "page_size"),
    ],
)
def test_bad_queries_are_400(client: Client, jid: str, params: dict[str, str], needle: str) -> None:
    response = client.get(f"{BASE}/requests.json", {"jurisdiction_id": jid, **params})
    assert response.status_code == 400
    assert needle in response.json()[0]["description"]


def test_filters_window_status_ids_and_paging(
    client: Client, world: World, key: str, jid: str
) -> None:
    codes = [_file(world, client, key, jid).json()[0]["service_request_id"] for _i in range(3)]
    old = Case.objects.get(receipt_code=codes[0])
    Case.objects.filter(pk=old.pk).update(created_at=timeutils.now() - dt.timedelta(days=100))
    recent = client.get(f"{BASE}/requests.json", {"jurisdiction_id": jid}).json()
    assert {r["service_request_id"] for r in recent} == set(codes[1:])
    # service_request_id overrides the window.
    by_id = client.get(
        f"{BASE}/requests.json", {"jurisdiction_id": jid, "service_request_id": ",".join(codes)}
    ).json()
    assert {r["service_request_id"] for r in by_id} == set(codes)
    assert (
        client.get(f"{BASE}/requests.json", {"jurisdiction_id": jid, "status": "closed"}).json()
        == []
    )
    page = client.get(f"{BASE}/requests.json", {"jurisdiction_id": jid, "page_size": "1"}).json()
    assert len(page) == 1
    second = client.get(
        f"{BASE}/requests.json", {"jurisdiction_id": jid, "page_size": "1", "page": "2"}
    ).json()
    assert second[0]["service_request_id"] != page[0]["service_request_id"]
    by_code = client.get(
        f"{BASE}/requests.json", {"jurisdiction_id": jid, "service_code": "sanitation,repair"}
    ).json()
    assert len(by_code) == 2
    unknown = client.get(f"{BASE}/requests.json", {"jurisdiction_id": jid, "service_code": "x"})
    assert unknown.status_code == 404


def test_closed_status_follows_the_loop(client: Client, world: World, key: str, jid: str) -> None:
    code = _file(world, client, key, jid).json()[0]["service_request_id"]
    case = Case.objects.get(receipt_code=code)
    staff = world.user(Role.COMMUNITY_STAFF)
    case = case_transition(actor=staff, case=case, action=Action.ACCEPT, version=case.version)
    case = case_transition(
        actor=staff, case=case, action=Action.RESOLVE, version=case.version, result="已清运"
    )
    row = client.get(f"{BASE}/requests/{code}.json", {"jurisdiction_id": jid}).json()[0]
    assert row["status"] == "closed" and row["status_notes"] == "已清运"


def test_a_result_is_published_without_phone_or_house_number(
    client: Client, world: World, key: str, jid: str
) -> None:
    code = _file(world, client, key, jid).json()[0]["service_request_id"]
    case = Case.objects.get(receipt_code=code)
    staff = world.user(Role.COMMUNITY_STAFF)
    case = case_transition(actor=staff, case=case, action=Action.ACCEPT, version=case.version)
    result = "已联系3-2-501住户，电话13912345678，已清运"
    case_transition(
        actor=staff, case=case, action=Action.RESOLVE, version=case.version, result=result
    )
    one = client.get(f"{BASE}/requests/{code}.json", {"jurisdiction_id": jid}).json()[0]
    listed = client.get(f"{BASE}/requests.json", {"jurisdiction_id": jid, "status": "closed"})
    for notes in (one["status_notes"], listed.json()[0]["status_notes"]):
        assert "13912345678" not in notes and "5678" not in notes
        assert "3-2-501" not in notes and "已清运" in notes


# --- keys ---------------------------------------------------------------------------------


def test_key_command_creates_and_revokes(capsys: Any, db: Any) -> None:
    call_command("open311_key", "create", "网格通")
    printed = capsys.readouterr().out.strip()
    assert printed.startswith("o311_") and len(printed) > 30
    row = ApiKey.objects.get(name="网格通")
    assert printed not in (row.key_hash, row.prefix) and row.is_active
    call_command("open311_key", "revoke", "网格通")
    row.refresh_from_db()
    assert not row.is_active
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="已经吊销"):
        call_command("open311_key", "revoke", "网格通")
    with pytest.raises(CommandError, match="同名"):
        call_command("open311_key", "create", "网格通")


def test_every_element_is_one_the_spec_names(
    client: Client, world: World, key: str, jid: str, parking: Category
) -> None:
    _file(world, client, key, jid)
    services = xml(client.get(f"{BASE}/services.xml", {"jurisdiction_id": jid}))
    for service in services:
        assert service.tag == "service"
        assert [child.tag for child in service] == SERVICE_FIELDS
    definition = xml(client.get(f"{BASE}/services/repair.xml", {"jurisdiction_id": jid}))
    assert [c.tag for c in definition] == ["service_code", "attributes"]
    attribute_fields = {
        "variable",
        "code",
        "datatype",
        "required",
        "datatype_description",
        "order",
        "description",
        "values",
    }
    for attribute in definition.iter("attribute"):
        assert {c.tag for c in attribute} <= attribute_fields
    for value in definition.iter("value"):
        assert [c.tag for c in value] == ["key", "name"]
    errors = xml(client.get(f"{BASE}/services/none.xml", {"jurisdiction_id": jid}))
    assert [c.tag for c in errors.find("error")] == ["code", "description"]  # type: ignore[union-attr]


def test_service_request_updates_feed(client: Client, world: World, key: str, jid: str) -> None:
    code = _file(world, client, key, jid).json()[0]["service_request_id"]
    case = Case.objects.get(receipt_code=code)
    staff = world.user(Role.COMMUNITY_STAFF)
    case_transition(actor=staff, case=case, action=Action.ACCEPT, version=case.version)
    root = xml(client.get(f"{BASE}/servicerequestupdates.xml", {"jurisdiction_id": jid}))
    assert root.tag == "service_request_updates"
    updates = [
        u for u in root.findall("request_update") if u.findtext("service_request_id") == code
    ]
    assert [u.findtext("external_status_code") for u in updates] == ["submitted", "accepted"]
    assert {c.tag for c in updates[0]} == {
        "update_id",
        "service_request_id",
        "status",
        "updated_datetime",
        "description",
        "media_url",
        "external_status_code",
    }
    far = client.get(
        f"{BASE}/servicerequestupdates.json",
        {
            "jurisdiction_id": jid,
            "start_date": "2020-01-01T00:00:00Z",
            "end_date": "2020-06-01T00:00:00Z",
        },
    )
    assert far.status_code == 400


def test_demo_definitions_are_served(client: Client, jid: str) -> None:
    from doorstep.open311 import demo

    assert demo.build() == 3
    body = client.get(f"{BASE}/services/sea_use.json", {"jurisdiction_id": jid}).json()
    assert [a["code"] for a in body["attributes"]] == ["boat_number", "matter"]
    services = client.get(f"{BASE}/services.json", {"jurisdiction_id": jid}).json()
    suggestion = next(s for s in services if s["service_code"] == "suggestion")
    assert suggestion["type"] == "batch" and "建议" in suggestion["keywords"]


def test_posted_update_becomes_a_note_once(
    client: Client, world: World, key: str, jid: str
) -> None:
    from doorstep.appeals.models import CaseEvent

    code = _file(world, client, key, jid).json()[0]["service_request_id"]
    data = {
        "api_key": key,
        "jurisdiction_id": jid,
        "service_request_id": code,
        "update_id_ext": "fms-881",
        "status": "OPEN",
        "updated_datetime": "2026-11-20T09:00:00+08:00",
        "description": "居民补充：垃圾桶旁边还有建筑垃圾",
    }
    first = client.post(f"{BASE}/servicerequestupdates.xml", data)
    assert first.status_code == 200, first.content
    update_id = xml(first).findtext("request_update/update_id")
    again = client.post(f"{BASE}/servicerequestupdates.xml", data)
    assert xml(again).findtext("request_update/update_id") == update_id
    notes = CaseEvent.objects.filter(case__receipt_code=code, action=Action.NOTE)
    assert notes.count() == 1
    note = notes.get()
    assert note.note == data["description"] and not note.is_public
    assert Case.objects.get(receipt_code=code).state == CaseState.SUBMITTED  # not moved
    for bad_change, needle in (
        ({"api_key": ""}, "api_key"),
        ({"service_request_id": "NOPE"}, "service_request_id"),
        ({"status": "maybe"}, "status"),
        ({"description": ""}, "description"),
        ({"updated_datetime": "soon"}, "updated_datetime"),
    ):
        response = client.post(
            f"{BASE}/servicerequestupdates.json", {**data, "update_id_ext": "x", **bad_change}
        )
        assert response.status_code in (400, 403, 404), response.content
        assert needle in response.json()[0]["description"]
    assert notes.count() == 1


def test_oversized_media_is_refused(
    client: Client, world: World, key: str, jid: str, settings: Any
) -> None:
    settings.DOORSTEP_APPEALS = {"PHOTO_MAX_BYTES": 1024}
    image = io.BytesIO()
    Image.new("RGB", (400, 300), "blue").save(image, "PNG")
    assert image.tell() > 1024
    image.seek(0)
    image.name = "big.png"
    response = client.post(
        f"{BASE}/requests.json",
        {
            "api_key": key,
            "jurisdiction_id": jid,
            "service_code": "sanitation",
            "address_id": str(world.a.compound.pk),
            "media": image,
        },
    )
    assert response.status_code == 400
    assert response.json()[0]["description"].startswith("media")
    assert not Case.objects.exists()


def test_address_string_finds_the_most_specific_place_it_names(
    client: Client, world: World, key: str, jid: str
) -> None:
    text = f"{world.a.community.name}{world.a.compound.name}东门口"
    response = _file(world, client, key, jid, address_id="", address_string=text)
    assert response.status_code == 201, response.content
    case = Case.objects.get(receipt_code=response.json()[0]["service_request_id"])
    assert case.compound == world.a.compound
    assert Submission.objects.get(case=case).address_string == text
