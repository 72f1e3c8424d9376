"""The grid pages: who may open them (404 out of scope), the balancing preview and its
Apply button, the grid map's data, and the grid member's phone view."""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

import pytest
from django.test import Client
from django.urls import include, path
from django.utils import timezone

from doorstep.accounts.roles import Role
from doorstep.conftest import make_user
from doorstep.grids.models import Grid, GridHousehold, Visit
from doorstep.grids.services import household_link
from doorstep.orgs.services import unit_create
from doorstep.people.services import household_create

# The grid pages are wired into config.urls by the project; here they are included on
# their own so that these tests do not depend on that wiring.
urlpatterns = [path("", include("doorstep.grids.urls")), path("", include("config.urls"))]
pytestmark = pytest.mark.urls("doorstep.grids.tests.test_views")


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def community_pages(world: Any) -> list[str]:
    pk = world.a.community.pk
    return [
        f"/console/grids/units/{pk}/",
        f"/console/grids/units/{pk}/balance/",
        f"/console/grids/units/{pk}/map/",
    ]


def test_community_staff_open_the_grid_pages(world: Any) -> None:
    client = client_for(world.user(Role.COMMUNITY_STAFF))
    for url in [*community_pages(world), f"/console/grids/{world.a.grid.pk}/", "/console/grids/"]:
        response = client.get(url)
        assert response.status_code == 200, url
    listing = client.get(community_pages(world)[0]).content.decode()
    assert "第一网格" in listing


@pytest.mark.parametrize(
    "role", [Role.GRID_MEMBER, Role.GRID_LEADER, Role.BUILDING_LEADER, Role.RESIDENT]
)
def test_the_community_pages_are_404_for_those_who_do_not_run_its_grids(
    world: Any, role: str
) -> None:
    client = client_for(world.user(role))
    for url in community_pages(world):
        assert client.get(url).status_code == 404, (role, url)


def test_staff_of_tree_b_get_404_on_tree_a(world: Any) -> None:
    other = make_user("b_staff", Role.COMMUNITY_STAFF, world.b.community)
    client = client_for(other)
    for url in [*community_pages(world), f"/console/grids/{world.a.grid.pk}/"]:
        assert client.get(url).status_code == 404, url
    assert (
        client.post(community_pages(world)[1], {"max_size": 50, "per_member": 10}).status_code
        == 404
    )
    assert client.get(f"/console/my-grid/households/{world.a.household.pk}/").status_code == 404


def test_a_grid_member_sees_only_their_grid(world: Any) -> None:
    other_grid = Grid.objects.create(unit=world.a.community, name="第二网格")
    client = client_for(world.user(Role.GRID_MEMBER))
    assert client.get(f"/console/grids/{world.a.grid.pk}/").status_code == 200
    assert client.get(f"/console/grids/{other_grid.pk}/").status_code == 404
    assert client.get(f"/console/grids/{world.b.grid.pk}/").status_code == 404


def test_residents_get_404_everywhere(world: Any) -> None:
    client = client_for(world.user(Role.RESIDENT))
    for url in ["/console/grids/", "/console/my-grid/", f"/console/grids/{world.a.grid.pk}/",
                f"/console/my-grid/households/{world.a.household.pk}/"]:  # fmt: skip
        assert client.get(url).status_code == 404, url


# --- Balancing preview -------------------------------------------------------------------


@pytest.fixture
def estate(world: Any) -> Any:
    building = unit_create(kind="building", name="2号楼", parent=world.a.compound)
    for i in range(45):
        household_create(unit=building, entrance="1", room=f"{i + 1:03d}")
    return world


def test_the_preview_reports_and_changes_nothing_then_apply_applies(estate: Any) -> None:
    client = client_for(estate.user(Role.COMMUNITY_STAFF))
    url = f"/console/grids/units/{estate.a.community.pk}/balance/"
    links_before = GridHousehold.objects.count()
    response = client.get(url, {"max_size": 40, "per_member": 10})
    assert response.status_code == 200
    page = response.content.decode()
    assert "第二网格" in page and "（新建）" in page
    assert GridHousehold.objects.count() == links_before
    assert not Grid.objects.filter(name="第二网格").exists()

    fingerprint = re.search(r'name="fingerprint" value="([0-9a-f]+)"', page)
    assert fingerprint is not None
    response = client.post(
        url, {"max_size": 40, "per_member": 10, "fingerprint": fingerprint.group(1)}
    )
    assert response.status_code == 302
    assert GridHousehold.objects.filter(grid__unit=estate.a.community).count() == 46
    sizes = sorted(
        GridHousehold.objects.filter(grid__unit=estate.a.community)
        .values_list("grid__name", flat=True)
        .order_by("grid__name")
    )
    assert (sizes.count("第一网格"), sizes.count("第二网格")) == (23, 23)
    from doorstep.accounts.models import AuditAction, AuditEvent

    event = AuditEvent.objects.get(action=AuditAction.GRIDS_BALANCED)
    assert event.actor == estate.user(Role.COMMUNITY_STAFF)
    assert event.detail["grids_created"] == 1 and event.detail["households_moved"] > 0


def test_apply_with_a_stale_fingerprint_is_refused_and_changes_nothing(estate: Any) -> None:
    client = client_for(estate.user(Role.COMMUNITY_STAFF))
    url = f"/console/grids/units/{estate.a.community.pk}/balance/"
    page = client.get(url).content.decode()
    fingerprint = re.search(r'name="fingerprint" value="([0-9a-f]+)"', page)
    assert fingerprint is not None
    household_create(unit=estate.a.building, entrance="9", room="901")  # changed meanwhile
    links_before = sorted(GridHousehold.objects.values_list("household_id", "grid_id"))
    grids_before = Grid.objects.count()
    response = client.post(
        url, {"max_size": 50, "per_member": 10, "fingerprint": fingerprint.group(1)}
    )
    assert response.status_code == 409
    assert "重新预览" in response.content.decode()
    assert sorted(GridHousehold.objects.values_list("household_id", "grid_id")) == links_before
    assert Grid.objects.count() == grids_before


# --- The grid map ------------------------------------------------------------------------


def test_the_map_passes_boundaries_and_markers_as_json_without_inline_script(world: Any) -> None:
    building = unit_create(
        kind="building", name="5号楼", parent=world.a.compound, lat=30.01, lng=110.02
    )
    for i in range(3):
        household_link(household=household_create(unit=building, room=f"{i}"), grid=world.a.grid)
    client = client_for(world.user(Role.COMMUNITY_STAFF))
    page = client.get(f"/console/grids/units/{world.a.community.pk}/map/").content.decode()
    match = re.search(r'<script id="grid-map-data" type="application/json">(.*?)</script>', page)
    assert match is not None
    data = json.loads(match.group(1))
    markers = sorted((m["label"], m["households"], m["lat"], m["lng"]) for m in data["markers"])
    # 1号楼 has no coordinates of its own: it takes the city's (the nearest ancestor's).
    assert markers == [("1号楼", 1, 30.0, 110.0), ("5号楼", 3, 30.01, 110.02)]
    (grid,) = data["grids"]
    assert grid["name"] == "第一网格" and grid["estimated"] is True
    assert grid["boundary"]["type"] == "Polygon"
    assert data["tileUrl"] == ""
    scripts = re.findall(r"<script(?![^>]*\bsrc=)([^>]*)>", page)
    assert all('type="application/json"' in attrs for attrs in scripts)
    assert "style=" not in page
    assert "js/grid-map.js" in page


# --- The phone view ----------------------------------------------------------------------


def fill_grid(world: Any, member: Any, count: int, start: int = 0) -> list[Any]:
    households = []
    for i in range(start, start + count):
        household = household_create(unit=world.a.building, entrance="5", room=f"{i:03d}")
        household_link(household=household, grid=world.a.grid, member=member)
        households.append(household)
    return households


def visit(world: Any, household: Any, days_ago: int) -> None:
    Visit.objects.create(
        household=household,
        grid=world.a.grid,
        visitor=world.user(Role.GRID_LEADER),
        visited_on=timezone.localdate() - dt.timedelta(days=days_ago),
    )


def test_my_grid_lists_my_households_overdue_first(world: Any) -> None:
    member = world.user(Role.GRID_MEMBER)
    recent, old, _never, stale = fill_grid(world, member, 4)
    visit(world, recent, 3)
    visit(world, old, 200)
    visit(world, stale, 100)
    visit(world, stale, 120)
    page = client_for(member).get("/console/my-grid/").content.decode()
    rooms = re.findall(r"5单元(\d{3})", page)
    # Never visited, then the longest unvisited, then those visited within 90 days.
    assert rooms == ["002", "001", "003", "000"]
    assert page.count('class="overdue"') == 3
    # The household of the world fixture is in the grid but not linked to this member.
    assert "1单元101" not in page


def test_a_grid_leader_sees_every_household_of_the_grid(world: Any) -> None:
    fill_grid(world, world.user(Role.GRID_MEMBER), 2)
    page = client_for(world.user(Role.GRID_LEADER)).get("/console/my-grid/").content.decode()
    assert "1单元101" in page and page.count("5单元") == 2


def test_a_household_everyone_left_says_so_before_the_visit(world: Any) -> None:
    from doorstep.people.models import Person

    Person.objects.filter(pk=world.a.person.pk).update(
        left_on=dt.date(2026, 1, 5), left_reason="deceased"
    )
    client = client_for(world.user(Role.GRID_LEADER))
    page = client.get("/console/my-grid/").content.decode()
    assert "1单元101" in page and "无在册成员" in page
    household = client.get(f"/console/my-grid/households/{world.a.household.pk}/")
    html = household.content.decode()
    assert "没有在册的家庭成员" in html and "已迁出或去世：甲居民（去世 2026-01-05）" in html


def test_my_grid_query_count_does_not_grow_with_households(
    world: Any, django_assert_max_num_queries: Any
) -> None:
    member = world.user(Role.GRID_MEMBER)
    client = client_for(member)
    for household in fill_grid(world, member, 5):
        visit(world, household, 10)
    client.get("/console/my-grid/")  # warm the session
    with django_assert_max_num_queries(12) as small:
        client.get("/console/my-grid/")
    for household in fill_grid(world, member, 40, start=100):
        visit(world, household, 200)
    with django_assert_max_num_queries(len(small.captured_queries)):
        response = client.get("/console/my-grid/")
    assert response.content.decode().count("5单元") == 45


def test_the_household_page_says_who_lives_there(world: Any) -> None:
    from doorstep.people.services import person_create

    household = world.a.household
    person_create(name="甲老人", household=household, relation="parent",
                  birth_date=dt.date(1940, 5, 1), tags=["living_alone"])  # fmt: skip
    page = client_for(world.user(Role.GRID_LEADER)).get(
        f"/console/my-grid/households/{household.pk}/"
    )
    html = page.content.decode()
    members = html.split('id="members-title"', 1)[1].split("</section>", 1)[0]
    assert world.a.person.name in members and "户主" in members
    assert "甲老人" in members and "独居" in members
    age = (
        timezone.localdate().year
        - 1940
        - (timezone.localdate() < dt.date(timezone.localdate().year, 5, 1))
    )
    assert f"{age}岁" in members
    # The phone is masked; the full number is the registry's audited reveal.
    assert "138****0000" in members and "13800000000" not in html
