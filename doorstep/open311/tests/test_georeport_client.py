"""The real Open311 client from PyPI, ``georeport``, reads the endpoint over HTTP — in
JSON and in XML. A client nobody here wrote is the check that this is the standard and
not our reading of it."""

from __future__ import annotations

from typing import Any

import pytest
from georeport import GeoReport

from doorstep.appeals.choices import CaseKind, Channel
from doorstep.appeals.models import Category
from doorstep.appeals.services import case_submit
from doorstep.conftest import World
from doorstep.open311.models import ServiceAttribute

# The server runs in another thread: the data must be committed. A transactional test
# starts from whatever an earlier one left (the test runner empties the tables after
# each), so the categories it needs are made here rather than taken from the defaults.
pytestmark = pytest.mark.django_db(transaction=True)


def _category(code: str, name: str, parent: Category | None = None) -> Category:
    found, _created = Category.objects.get_or_create(
        code=code, defaults={"name": name, "parent": parent}
    )
    return found


@pytest.fixture
def filed(world: World) -> list[str]:
    living = _category("living", "人居环境")
    sanitation = _category("sanitation", "环境卫生", living)
    ServiceAttribute.objects.create(
        category=_category("repair", "设施维修", living),
        code="facility",
        datatype="multivaluelist",
        required=True,
        order=1,
        description="哪类设施",
        values=[{"key": "lamp", "name": "路灯"}, {"key": "bench", "name": "座椅"}],
    )
    codes = []
    for text in ("楼道灯坏了", "垃圾没人清运"):
        case = case_submit(
            actor=world.user("resident"),
            kind=CaseKind.PROBLEM,
            category=sanitation,
            channel=Channel.ONLINE,
            text=text,
            household=world.a.household,
        )
        codes.append(case.receipt_code)
    return codes


@pytest.mark.parametrize("output_format", ["json", "xml"])
def test_georeport_client_reads_everything(
    live_server: Any, world: World, filed: list[str], output_format: str
) -> None:
    client = GeoReport(
        f"{live_server.url}/open311/v2",
        jurisdiction=world.a.city.code,
        output_format=output_format,
    )
    services = client.get_service_list()
    codes = {s["service_code"] for s in services}
    assert {"sanitation", "repair"} <= codes

    definition = client.get_service_definition("repair")
    assert definition["service_code"] == "repair"
    attributes = definition["attributes"]
    attribute = attributes[0] if output_format == "json" else attributes["attribute"]
    assert attribute["code"] == "facility"
    assert attribute["datatype"] == "multivaluelist"

    requests = client.get_service_requests(service_code="sanitation", status="open")
    if output_format == "xml" and isinstance(requests, dict):
        requests = [requests]  # xmltodict gives a dict for a single element
    assert {r["service_request_id"] for r in requests} == set(filed)

    one = client.get_service_request(filed[0])
    assert one["service_request_id"] == filed[0]
    assert one["status"] == "open"
    assert one["service_name"] == "环境卫生"
