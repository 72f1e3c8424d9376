"""The registry pages and a resident's own record, through the URLs a browser uses."""

import datetime as dt
import random
import re

import pytest
from django.test import Client
from django.urls import include, path

from config import urls as site_urls
from doorstep.accounts.models import AuditAction, AuditEvent, AuditOutcome
from doorstep.accounts.roles import Role
from doorstep.conftest import World, make_user
from doorstep.core import crypto
from doorstep.core.synthetic import person_name
from doorstep.orgs.services import party_org_create
from doorstep.people.idnumber import make_id_number
from doorstep.people.models import Person
from doorstep.people.services import mobile_register, party_member_register, person_create

# The site's URLs, plus the registry's until config/urls.py includes them.
urlpatterns = list(site_urls.urlpatterns)
if not any(getattr(p, "namespace", None) == "people" for p in urlpatterns):
    urlpatterns.insert(0, path("", include("doorstep.people.urls")))
    urlpatterns.insert(0, path("api/v1/", include("doorstep.people.api_urls")))
handler404 = site_urls.handler404

pytestmark = [pytest.mark.django_db, pytest.mark.urls(__name__)]

ADULT_ID = make_id_number("510502", dt.date(1980, 3, 15), 123)
PHONE = "13912345678"


def _as(user) -> Client:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(user)
    return client


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


# --- Registry search ----------------------------------------------------------------------


def test_registry_lists_masked_rows_in_scope(world: World, wang: Person) -> None:
    response = _as(world.user(Role.COMMUNITY_STAFF)).get("/console/registry/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "王伟" in html and "甲居民" in html and "乙居民" not in html
    assert ADULT_ID[:4] + "**********" + ADULT_ID[-4:] in html and "139****5678" in html
    assert ADULT_ID not in html and PHONE not in html
    assert "退役军人" in html and "1号楼1单元101" in html


def test_registry_search_answers_htmx_with_the_rows_only(world: World, wang: Person) -> None:
    client = _as(world.user(Role.COMMUNITY_STAFF))
    for q in ("wangwei", "ww", "王", "5678"):
        fragment = client.get("/console/registry/", {"q": q}, HTTP_HX_REQUEST="true")
        html = fragment.content.decode()
        assert fragment.status_code == 200 and "<html" not in html, q
        assert "王伟" in html and "甲居民" not in html, q


def test_registry_filters_by_tag_and_age_group(world: World, wang: Person) -> None:
    client = _as(world.user(Role.COMMUNITY_STAFF))
    html = client.get("/console/registry/", {"tag": "veteran"}).content.decode()
    assert "王伟" in html and "甲居民" not in html
    html = client.get("/console/registry/", {"age_group": "child"}).content.decode()
    assert "王伟" not in html and "没有符合条件的人员" in html


def test_registry_tag_filter_is_a_row_of_checkboxes(world: World, wang: Person) -> None:
    html = _as(world.user(Role.COMMUNITY_STAFF)).get("/console/registry/", {"tag": "veteran"})
    page = html.content.decode()
    assert '<input type="checkbox" name="tag" value="veteran"' in page
    assert "checked" in page.split('value="veteran"', 1)[1].split(">", 1)[0]
    assert "<option" not in page.split('class="registry-tags"', 1)[1].split("</fieldset>", 1)[0]


def test_built_in_tags_read_in_the_readers_language_and_renamed_ones_as_written(
    world: World, wang: Person
) -> None:
    from doorstep.people.models import Tag

    staff = world.user(Role.COMMUNITY_STAFF)
    english = Client(HTTP_ACCEPT_LANGUAGE="en")
    english.force_login(staff)
    main = english.get("/console/registry/").content.decode().split("<main", 1)[1]
    assert '<span class="tag-pill">Veteran</span>' in main and "退役军人" not in main
    assert re.search(r'value="veteran"[^>]*>\s*Veteran</label>', main)
    person = english.get(f"/console/registry/people/{wang.pk}/").content.decode()
    assert '<span class="tag-pill">Veteran</span>' in person

    Tag.objects.filter(code="veteran").update(name="退役军人（优抚对象）")
    main = english.get("/console/registry/").content.decode().split("<main", 1)[1]
    assert '<span class="tag-pill">退役军人（优抚对象）</span>' in main and "Veteran" not in main
    chinese = _as(staff).get("/console/registry/").content.decode()
    assert '<span class="tag-pill">退役军人（优抚对象）</span>' in chinese


def test_a_bad_whole_id_number_gets_a_clear_message(world: World) -> None:
    bad = ADULT_ID[:17] + ("0" if ADULT_ID[17] != "0" else "1")
    html = (
        _as(world.user(Role.COMMUNITY_STAFF))
        .get("/console/registry/", {"q": bad}, HTTP_HX_REQUEST="true")
        .content.decode()
    )
    assert "校验位不正确" in html


@pytest.mark.parametrize("role", [Role.RESIDENT, Role.AUDITOR, Role.SECURITY_ADMIN])
def test_registry_pages_do_not_exist_for_non_registry_roles(
    world: World, wang: Person, role: str
) -> None:
    client = _as(world.user(role))
    for url in (
        "/console/registry/",
        f"/console/registry/people/{wang.pk}/",
        f"/console/registry/households/{world.a.household.pk}/",
        "/console/registry/party-members/",
        "/console/registry/mobile-party-members/",
    ):
        assert client.get(url).status_code == 404, url


def test_registry_query_count_does_not_grow_with_the_page(
    world: World, django_assert_max_num_queries
) -> None:  # type: ignore[no-untyped-def]
    rng = random.Random(3)
    for _ in range(120):
        person = person_create(name=person_name(rng), unit=world.a.building, phone="13800001111")
        person.tags.set([1, 2])
    client = _as(world.user(Role.COMMUNITY_STAFF))
    client.get("/console/registry/")  # warm the session
    for size in (20, 50, 200):
        with django_assert_max_num_queries(14):
            response = client.get("/console/registry/", {"page_size": size})
        assert response.status_code == 200
        rows = re.findall(r'href="/console/registry/people/\d+/"', response.content.decode())
        assert len(rows) == min(size, 121)
        with django_assert_max_num_queries(10):
            client.get("/console/registry/", {"page_size": size}, HTTP_HX_REQUEST="true")


# --- Person detail and reveal ---------------------------------------------------------------


def test_person_detail_shows_masked_numbers_and_reveal_buttons(world: World, wang: Person) -> None:
    html = _as(world.user(Role.COMMUNITY_STAFF)).get(f"/console/registry/people/{wang.pk}/")
    text = html.content.decode()
    assert html.status_code == 200
    assert text.count("查看完整号码") == 2
    assert PHONE not in text and ADULT_ID not in text


def test_reveal_shows_the_number_in_a_fragment_and_is_audited(world: World, wang: Person) -> None:
    client = _as(world.user(Role.COMMUNITY_STAFF))
    url = f"/console/registry/people/{wang.pk}/reveal/"
    response = client.post(url, {"field": "phone"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and PHONE in response.content.decode()
    assert "no-store" in response["Cache-Control"]
    response = client.post(url, {"field": "id_number"}, HTTP_HX_REQUEST="true")
    assert ADULT_ID in response.content.decode()
    events = AuditEvent.objects.filter(action=AuditAction.REVEAL, object_id=str(wang.pk))
    assert sorted(e.detail["field"] for e in events) == ["id_number", "phone"]
    assert client.post(url, {"field": "name"}).status_code == 400
    assert client.get(url).status_code == 405


def test_grid_member_sees_no_button_and_a_forced_reveal_is_refused(
    world: World, wang: Person
) -> None:
    client = _as(world.user(Role.GRID_MEMBER))
    page = client.get(f"/console/registry/people/{wang.pk}/")
    assert page.status_code == 200 and "查看完整号码" not in page.content.decode()
    response = client.post(f"/console/registry/people/{wang.pk}/reveal/", {"field": "phone"})
    assert response.status_code == 403 and PHONE not in response.content.decode()
    event = AuditEvent.objects.get(action=AuditAction.REVEAL)
    assert (event.outcome, event.actor_username) == (AuditOutcome.DENIED, "u_grid_member")


def test_out_of_scope_person_is_not_found(world: World) -> None:
    client = _as(world.user(Role.COMMUNITY_STAFF))
    assert client.get(f"/console/registry/people/{world.b.person.pk}/").status_code == 404
    response = client.post(
        f"/console/registry/people/{world.b.person.pk}/reveal/", {"field": "phone"}
    )
    assert response.status_code == 404
    assert not AuditEvent.objects.filter(action=AuditAction.REVEAL).exists()


# --- Households, party members, mobile registrations -------------------------------------------


def test_household_detail_shows_members_relation_head_and_grid(world: World, wang: Person) -> None:
    response = _as(world.user(Role.COMMUNITY_STAFF)).get(
        f"/console/registry/households/{world.a.household.pk}/"
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "1号楼1单元101" in html and "第一网格" in html
    assert html.index("甲居民") < html.index("王伟")  # the head first
    assert "户主" in html and "配偶" in html
    assert f"/console/appeals/new/?household={world.a.household.pk}" in html  # enter a case
    other = f"/console/registry/households/{world.b.household.pk}/"
    assert _as(world.user(Role.COMMUNITY_STAFF)).get(other).status_code == 404


def test_party_member_and_mobile_pages_count_per_organization(world: World, wang: Person) -> None:
    functional = party_org_create(
        kind="functional", name="甲站点功能党支部", unit=world.a.community
    )
    party_member_register(person=wang, party_org=world.a.party_org)
    mobile_register(
        person=world.a.person,
        party_org=functional,
        registered_on=dt.date(2026, 3, 1),
        origin_org="某县某村党支部",
    )
    client = _as(world.user(Role.COMMUNITY_STAFF))
    html = client.get("/console/registry/party-members/").content.decode()
    assert "甲社区党委" in html and "王伟" in html
    html = client.get("/console/registry/mobile-party-members/").content.decode()
    assert "甲站点功能党支部" in html and "某县某村党支部" in html and "138****0000" in html


# --- A resident's own record ----------------------------------------------------------------


@pytest.fixture
def resident(world: World, wang: Person):  # type: ignore[no-untyped-def]
    user = make_user("resident_w", Role.RESIDENT)
    Person.objects.filter(pk=wang.pk).update(user=user)
    return user


def test_resident_sees_their_own_record_masked(world: World, wang: Person, resident) -> None:  # type: ignore[no-untyped-def]
    html = _as(resident).get("/me/record/").content.decode()
    assert "王伟" in html and "139****5678" in html and "1号楼1单元101" in html
    assert PHONE not in html and ADULT_ID not in html and "甲居民" not in html


def test_resident_without_a_record_is_told_so(world: World) -> None:
    html = _as(world.user(Role.RESIDENT)).get("/me/record/").content.decode()
    assert "尚未关联居民信息" in html


def test_resident_corrects_name_and_phone(world: World, wang: Person, resident) -> None:  # type: ignore[no-untyped-def]
    client = _as(resident)
    response = client.post("/me/record/", {"name": "王伟伟", "phone": "137 0000 1111"})
    assert response.status_code == 302 and response["Location"] == "/me/record/"
    wang.refresh_from_db()
    assert (wang.name, wang.name_initials, wang.phone_masked) == ("王伟伟", "www", "137****1111")
    assert crypto.open_sealed(wang.phone_sealed) == "13700001111"


def test_a_bad_phone_is_shown_and_changes_nothing(world: World, wang: Person, resident) -> None:  # type: ignore[no-untyped-def]
    response = _as(resident).post("/me/record/", {"name": "李四", "phone": "12345"})
    assert response.status_code == 400 and "电话号码格式不正确" in response.content.decode()
    wang.refresh_from_db()
    assert (wang.name, wang.phone_masked) == ("王伟", "139****5678")


def test_deletion_asks_for_confirmation_then_pseudonymizes(
    world: World, wang: Person, resident
) -> None:  # type: ignore[no-untyped-def]
    client = _as(resident)
    page = client.get("/me/record/delete/")
    assert page.status_code == 200 and "确认删除" in page.content.decode()
    unconfirmed = client.post("/me/record/delete/", {})
    assert unconfirmed.status_code == 400 and "请勾选确认" in unconfirmed.content.decode()
    wang.refresh_from_db()
    assert wang.pseudonymized_at is None and wang.name == "王伟"

    response = client.post("/me/record/delete/", {"confirm": "on"})
    assert response.status_code == 302 and response["Location"] == "/"
    wang.refresh_from_db()
    assert wang.pseudonymized_at is not None and wang.name.startswith("已注销居民")
    assert (wang.user_id, wang.phone_hash, wang.id_number_hash) == (None, "", "")
    assert AuditEvent.objects.filter(
        action=AuditAction.PSEUDONYMIZED, actor_username="resident_w"
    ).exists()
    assert "尚未关联居民信息" in client.get("/me/record/").content.decode()


def test_a_wide_search_says_when_there_are_more_than_it_counts(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A city administrator's count stops at the limit: the caption says "more than",
    and pages go as far as the limit; a community worker's count is exact."""
    from doorstep.people import selectors

    monkeypatch.setattr(selectors, "COUNT_LIMIT", 3)
    for i in range(5):
        person_create(name=f"周{chr(0x4E00 + i)}", unit=world.a.building)
    html = _as(world.user(Role.CITY_ADMIN)).get("/console/registry/", {"q": "周"}).content
    assert "超过 3 人" in html.decode()
    html = _as(world.user(Role.COMMUNITY_STAFF)).get("/console/registry/", {"q": "周"}).content
    assert "共 5 人" in html.decode()
    body = (
        _as(world.user(Role.CITY_ADMIN))
        .get("/api/v1/people/", {"q": "zhou", "page_size": "2"})
        .json()
    )
    assert (body["count"], body["more"], len(body["results"])) == (3, True, 2)
