import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client

from doorstep.accounts.models import AuditAction, AuditEvent
from doorstep.accounts.roles import Role, available_roles
from doorstep.conftest import World

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[3]


def _as(user) -> Client:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(user)
    return client


def test_resident_home_lists_the_jurisdiction_in_chinese(world: World) -> None:
    response = Client().get("/")
    html = response.content.decode()
    assert response.status_code == 200
    assert '<html lang="zh-Hans">' in html
    assert "甲社区" in html and "乙社区" in html
    assert "登录" in html


def test_healthz_checks_the_database(world: World) -> None:
    response = Client().get("/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok", "database": "ok"}


def test_favicon_ico_leads_to_the_icon() -> None:
    response = Client().get("/favicon.ico")
    assert response.status_code == 301 and response["Location"].endswith("favicon.svg")


def test_console_navigation_follows_roles(world: World) -> None:
    expectations = {
        Role.COMMUNITY_STAFF: (
            {"/console/units/", "/console/party-orgs/"},
            {"/console/roles/", "/console/audit/", "/admin/"},
        ),
        Role.SECURITY_ADMIN: ({"/console/roles/"}, {"/console/audit/", "/admin/"}),
        Role.AUDITOR: ({"/console/audit/"}, {"/console/roles/", "/admin/"}),
        Role.SYSTEM_ADMIN: ({"/admin/"}, {"/console/roles/", "/console/audit/"}),
    }
    for role, (present, absent) in expectations.items():
        html = _as(world.user(role)).get("/console/").content.decode()
        for url in present:
            assert f'href="{url}"' in html, f"{role} should see {url}"
        for url in absent:
            assert f'href="{url}"' not in html, f"{role} should not see {url}"


def test_residents_are_sent_home_from_the_console(world: World) -> None:
    response = _as(world.user(Role.RESIDENT)).get("/console/")
    assert response.status_code == 302 and response["Location"] == "/"
    assert _as(world.user(Role.RESIDENT)).get("/console/units/").status_code == 404


def test_console_home_summarises_the_scope(world: World) -> None:
    html = _as(world.user(Role.COMMUNITY_STAFF)).get("/console/").content.decode()
    assert "甲社区" in html and "小区" in html and "楼栋" in html


def test_unit_pages_search_and_htmx_fragment(world: World) -> None:
    client = _as(world.user(Role.DISTRICT_ADMIN))
    page = client.get(f"/console/units/{world.a.community.pk}/")
    assert page.status_code == 200 and "甲小区" in page.content.decode()
    fragment = client.get(f"/console/units/{world.a.community.pk}/", HTTP_HX_REQUEST="true")
    assert "<html" not in fragment.content.decode() and "甲小区" in fragment.content.decode()
    found = client.get("/console/units/?q=小区", HTTP_HX_REQUEST="true").content.decode()
    assert "甲小区" in found and "乙小区" not in found


def test_admin_site_is_for_system_admins_only(world: World) -> None:
    assert _as(world.user(Role.SYSTEM_ADMIN)).get("/admin/").status_code == 200
    assert _as(world.user(Role.SYSTEM_ADMIN)).get("/admin/orgs/unit/").status_code == 200
    for role in (Role.SECURITY_ADMIN, Role.AUDITOR, Role.CITY_ADMIN):
        assert _as(world.user(role)).get("/admin/").status_code == 302  # to the admin login


def test_admin_creates_units_through_the_service(world: World) -> None:
    client = _as(world.user(Role.SYSTEM_ADMIN))
    response = client.post(
        "/admin/orgs/unit/add/",
        {
            "kind": "compound",
            "name": "新建小区",
            "code": "",
            "parent": world.a.community.pk,
            "is_active": "on",
            "boundary": "null",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    from doorstep.orgs.models import Unit

    unit = Unit.objects.get(name="新建小区")
    assert (
        unit.path.startswith(world.a.community.path) and unit.depth == world.a.community.depth + 1
    )


def test_security_admin_grants_a_role_in_the_console(world: World) -> None:
    from doorstep.conftest import make_user

    make_user("newstaff")
    client = _as(world.user(Role.SECURITY_ADMIN))
    options = client.get("/console/roles/scope-options/?role=community_staff").content.decode()
    assert f'value="{world.a.community.pk}"' in options
    response = client.post(
        "/console/roles/grant/",
        {"username": "newstaff", "role": "community_staff", "scope": world.a.community.pk},
    )
    assert response.status_code == 302
    assert "newstaff" in client.get("/console/roles/").content.decode()
    bad = client.post(
        "/console/roles/grant/",
        {"username": "newstaff", "role": "community_staff", "scope": world.a.city.pk},
    )
    assert bad.status_code == 400 and "这一级" in bad.content.decode()


def test_auditor_reads_filters_and_exports_the_audit_log(world: World) -> None:
    Client().post("/accounts/login/", {"username": "u_resident", "password": "bad"})
    client = _as(world.user(Role.AUDITOR))
    page = client.get("/console/audit/?action=login_failed").content.decode()
    assert "u_resident" in page
    export = client.get("/console/audit/export.csv?action=login_failed")
    body = b"".join(export.streaming_content).decode()  # type: ignore[attr-defined]
    assert "u_resident" in body and "login_failed" in body
    assert AuditEvent.objects.filter(action=AuditAction.EXPORT, actor_username="u_auditor").exists()
    assert _as(world.user(Role.SYSTEM_ADMIN)).get("/console/audit/").status_code == 404


def test_elder_mode_is_remembered_on_the_account(world: World) -> None:
    user = world.user(Role.RESIDENT)
    client = _as(user)
    client.post("/preferences/elder-mode/", {"on": "1", "next": "/"})
    user.refresh_from_db()
    assert user.elder_mode
    fresh = Client()
    fresh.force_login(user)
    first = fresh.get("/")
    assert first.cookies["doorstep_elder"].value == "1"
    assert 'class="elder' in fresh.get("/").content.decode()


def test_open_redirect_is_refused(world: World) -> None:
    response = Client().post(
        "/preferences/elder-mode/", {"on": "1", "next": "https://evil.example/"}
    )
    assert response["Location"] == "/"


def test_unknown_page_is_a_friendly_404() -> None:
    response = Client().get("/no-such-page/")
    assert response.status_code == 404 and "页面不存在" in response.content.decode()


def test_seed_demo_builds_the_case_study_places_once(tmp_path: Path) -> None:
    from django.core.management import call_command

    from doorstep.orgs.models import Unit

    credentials = tmp_path / "creds.txt"
    call_command("seed_demo", credentials=str(credentials), scale=0.05)
    mianfang = Unit.objects.get(name="棉纺厂小区")
    assert Unit.objects.filter(parent=mianfang, kind="building").count() == 16
    dongshan = Unit.objects.get(code="350626")
    assert Unit.objects.filter(dongshan.subtree_q(), kind="village").count() == 61
    assert {"上平社区", "江悦社区", "颐和社区", "陈城镇", "前楼镇"} <= set(
        Unit.objects.values_list("name", flat=True)
    )
    lines = [
        line.split("\t")
        for line in credentials.read_text().splitlines()
        if not line.startswith("#")
    ]
    assert {row[2] for row in lines} == set(available_roles())
    assert all(len(row) == 4 and len(row[1]) >= 12 for row in lines)
    assert oct(credentials.stat().st_mode & 0o777) == "0o600"
    # Two households per building at this scale, in all 16 buildings.
    from doorstep.people.models import Household, Person

    assert Household.objects.filter(mianfang.subtree_q(field="unit__path")).count() == 16 * 2
    resident = Person.objects.get(user__username="demo_resident")
    # A week of registry upkeep went through the services: a move, a closed flat opened
    # again, a newborn, a correction the demo resident reads in their record's history,
    # and a death.
    from doorstep.accounts.models import AuditAction, AuditEvent

    upkeep = set(
        AuditEvent.objects.filter(actor__username="demo_community_staff").values_list(
            "action", flat=True
        )
    )
    assert {
        AuditAction.PERSON_MOVED,
        AuditAction.HOUSEHOLD_CLOSED,
        AuditAction.PERSON_REGISTERED,
        AuditAction.PERSON_CHANGED,
        AuditAction.PERSON_LEFT,
    } <= upkeep
    assert resident.tags.filter(code="veteran").exists()
    # The compound's oldest resident living with family died: off the register, kept.
    [deceased] = Person.objects.filter(left_reason="deceased")
    assert deceased.household is not None and deceased.household.is_active
    assert deceased.left_on is not None and deceased.pseudonymized_at is None
    # Recent home visits found wishes still waiting to be taken up.
    from doorstep.grids.models import Wish

    assert Wish.objects.filter(status="open", visit__isnull=False).exists()
    # The home page greets the resident by the name their record shows.
    assert resident.user is not None and resident.user.display_name == resident.name
    before = Unit.objects.count()
    call_command("seed_demo", credentials=str(credentials))
    assert Unit.objects.count() == before
    # Each demo account can log in with the password written down for it.
    username, password = lines[0][0], lines[0][1]
    assert (
        Client().post("/accounts/login/", {"username": username, "password": password}).status_code
        == 302
    )
    # The demo clerk works both the charity shop's counter and the canteen's.
    clerk = next(row for row in lines if row[2] == Role.OUTLET_CLERK)
    client = Client()
    client.post("/accounts/login/", {"username": clerk[0], "password": clerk[1]})
    assert "颐和爱心屋" in client.get("/console/counter/").content.decode()
    assert "颐和食堂" in client.get("/console/canteen/counter/").content.decode()
    # The demo resident finds volunteering to sign up for, whatever day the demo is built.
    demo_resident = Client()
    demo_resident.force_login(resident.user)
    mine = demo_resident.get("/me/volunteering/").content.decode()
    assert 'name="activity"' in mine and "近期没有可报名的活动。" not in mine
    # The demo resident volunteers with their compound's first team: hours and points.
    from doorstep.volunteers.models import Signup as DemoSignup

    assert DemoSignup.objects.filter(person=resident, status="confirmed").exists()
    assert "还没有积分记录。" not in demo_resident.get("/me/points/").content.decode()
    # The demo resident has reported online: one case waits for their rating.
    home = demo_resident.get("/").content.decode()
    assert "已办结、待您评价的诉求" in home and "正在办理的诉求" in home
    from doorstep.appeals.models import Case

    own = Case.objects.filter(reporter_user=resident.user)
    assert sorted(own.values_list("state", flat=True)) == ["closed", "in_progress", "resolved"]
    listed = demo_resident.get("/appeals/mine/").content.decode()
    assert all(code in listed for code in own.values_list("receipt_code", flat=True))
    # The demo grid member has been visiting: most households seen lately, some overdue.
    member = next(row for row in lines if row[2] == Role.GRID_MEMBER)
    walker = Client()
    walker.post("/accounts/login/", {"username": member[0], "password": member[1]})
    grid = walker.get("/console/my-grid/").content.decode()
    assert grid.count("最近走访") > 3 * grid.count("从未走访") and "待走访" in grid
    from doorstep.grids.models import Visit

    visits = Visit.objects.filter(visitor__username=member[0])
    assert visits.count() > 20
    assert visits.values("household").distinct().count() > 10
    # ... and has a morning's cases in the phone queue: one to accept, two under way.
    queue = walker.get("/console/appeals/queue/").content.decode()
    assert all(text in queue for text in ("挡住了消防通道", "路灯坏了", "水龙头漏水")), queue
    day = Case.objects.filter(idempotency_key__startswith="demo-grid-day-")
    assert sorted(day.values_list("state", flat=True)) == [
        "in_progress",
        "in_progress",
        "submitted",
    ]
    assert set(day.values_list("grid__name", flat=True)) == {"第1网格"}
    # The demo's year runs up to the day it is built: this month's figures are there.
    from doorstep.core import timeutils
    from doorstep.points.models import Redemption
    from doorstep.sites.models import ServiceRecord
    from doorstep.volunteers.models import Signup

    today = timeutils.local_today()
    served = ServiceRecord.objects.latest("delivered_at").delivered_at
    assert today - dt.timedelta(days=3) <= timeutils.local(served).date() < today
    confirmed = Signup.objects.filter(status="confirmed").latest("checked_out_at")
    assert confirmed.checked_out_at is not None
    assert timeutils.local(confirmed.checked_out_at).date() >= today - dt.timedelta(days=30)
    assert timeutils.local(Redemption.objects.latest("created_at").created_at).date() >= (
        today - dt.timedelta(days=45)
    )


def test_production_settings_pass_the_deploy_check() -> None:
    env = {
        **{k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"},
        "DJANGO_SETTINGS_MODULE": "config.django.production",
        "DJANGO_SECRET_KEY": "x" * 64 + "-production-like-secret-for-the-check",
        "DJANGO_ALLOWED_HOSTS": "doorstep.example.gov.cn",
        "DOORSTEP_FIELD_KEYS": "k1:" + "A" * 43,
        "DOORSTEP_HASH_KEY": "B" * 43,
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_malformed_audit_dates_filter_nothing_instead_of_failing(world: World) -> None:
    client = _as(world.user(Role.AUDITOR))
    for query in ("since=2026-13-01", "until=not-a-date", "since=2026-02-30&until=2026-02-31"):
        assert client.get(f"/console/audit/?{query}").status_code == 200
        assert client.get(f"/console/audit/export.csv?{query}").status_code == 200


@pytest.mark.heavy
def test_full_demo_matches_the_case_studies(tmp_path: Path) -> None:
    """The full-size demo (about 30 s): 736 households in 棉纺厂小区's 16 buildings, an
    old compound's age structure, mobile party members at the Red Cube branch."""
    import datetime as dt

    from django.core.management import call_command

    from doorstep.orgs.models import Unit
    from doorstep.people.models import Household, MobileRegistration, Person

    call_command("seed_demo", credentials=str(tmp_path / "creds.txt"))
    mianfang = Unit.objects.get(name="棉纺厂小区")
    assert Household.objects.filter(mianfang.subtree_q(field="unit__path")).count() == 736
    people = Person.objects.filter(mianfang.subtree_q(field="unit__path"))
    elderly = people.filter(birth_date__lte=dt.date(1966, 11, 1)).count() / people.count()
    children = people.filter(birth_date__gt=dt.date(2012, 11, 1)).count() / people.count()
    assert 0.25 < elderly < 0.45 and 0.08 < children < 0.25
    assert (
        MobileRegistration.objects.filter(party_org__kind="functional", status="active").count()
        == 60
    )


def test_an_error_message_is_an_alert_and_other_news_a_status() -> None:
    """A refusal reported through Django's messages (as the sites pages do) is announced
    at once; a confirmation waits its turn."""
    from django.contrib import messages
    from django.contrib.messages.storage.fallback import FallbackStorage
    from django.template.loader import render_to_string
    from django.test import RequestFactory

    from doorstep.core.testing import alerts

    request = RequestFactory().get("/")
    request.session = {}  # type: ignore[assignment]
    request._messages = FallbackStorage(request)  # type: ignore[attr-defined]
    messages.error(request, "结束日期早于开始日期。")
    messages.success(request, "已保存。")
    html = render_to_string("web/_messages.html", request=request)
    assert alerts(html) == ["结束日期早于开始日期。"]
    assert '<p class="message success" role="status">已保存。</p>' in html


def test_admin_moves_a_unit_with_its_cases_and_the_move_is_audited(world: World) -> None:
    from doorstep.accounts.models import AuditAction, AuditEvent
    from doorstep.appeals.tests.factories import submit
    from doorstep.orgs.models import Unit

    case = submit(world)
    street = world.a.street
    client = _as(world.user(Role.SYSTEM_ADMIN))
    response = client.post(
        f"/admin/orgs/unit/{street.pk}/change/",
        {
            "kind": street.kind,
            "name": street.name,
            "code": street.code,
            "parent": world.b.district.pk,
            "is_active": "on",
            "boundary": "null",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    street = Unit.objects.get(pk=street.pk)
    assert street.parent_id == world.b.district.pk
    case.refresh_from_db()
    assert case.unit_path.startswith(street.path)
    event = AuditEvent.objects.get(action=AuditAction.UNIT_MOVED)
    assert event.object_id == str(street.pk)
    assert event.actor == world.user(Role.SYSTEM_ADMIN)
    assert event.detail == {
        "from_parent": world.a.district.pk,
        "from": str(world.a.district),
        "to_parent": world.b.district.pk,
        "to": str(world.b.district),
    }
    # The auditor reads the move on the audit log page, with the places named.
    page = _as(world.user(Role.AUDITOR)).get("/console/audit/?action=unit_moved").content.decode()
    assert str(world.a.district) in page and str(world.b.district) in page


def test_admin_refuses_a_move_under_the_unit_s_own_subtree_with_a_message(
    world: World,
) -> None:
    from doorstep.accounts.models import AuditAction, AuditEvent
    from doorstep.orgs.models import Unit

    district = world.a.district
    before = Unit.objects.get(pk=district.pk)
    client = _as(world.user(Role.SYSTEM_ADMIN))
    for parent, words in ((world.a.street, "自己的下级"), (world.b.community, "不能设在")):
        response = client.post(
            f"/admin/orgs/unit/{district.pk}/change/",
            {
                "kind": district.kind,
                "name": "改了名字",
                "code": district.code,
                "parent": parent.pk,
                "is_active": "on",
                "boundary": "null",
            },
        )
        assert response.status_code == 200
        assert words in response.content.decode()
    response = client.post(
        f"/admin/orgs/unit/{world.a.street.pk}/change/",
        {"name": "某街道", "code": "12", "parent": district.pk, "is_active": "on",
         "boundary": "null"},
    )  # fmt: skip
    assert response.status_code == 200 and "12位" in response.content.decode()
    assert Unit.objects.get(pk=world.a.street.pk).code == world.a.street.code
    after = Unit.objects.get(pk=district.pk)
    assert (after.parent_id, after.path, after.name) == (before.parent_id, before.path, before.name)
    assert not AuditEvent.objects.filter(action=AuditAction.UNIT_MOVED).exists()
