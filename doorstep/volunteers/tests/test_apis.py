"""The volunteers API through DRF's client: teams and activities as each role sees
them, an idempotent sign-up, check-in, check-out and confirmation by the organizer
paying points once, my records and star level, and bad input that names the field and
changes nothing."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from rest_framework.test import APIClient

from doorstep.accounts.roles import Role
from doorstep.conftest import World, outsider
from doorstep.people.services import person_link_account
from doorstep.points.choices import ActivityType
from doorstep.points.models import Transfer
from doorstep.points.services import earning_rule_set

from ..choices import SignupStatus
from ..models import Activity, Signup
from ..services import activity_create, signup_create
from .scope import START, tree_activity, tree_team

pytestmark = pytest.mark.django_db
HOUR = dt.timedelta(hours=1)


def api(user: Any) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def activity(world: World) -> Activity:
    earning_rule_set(
        actor=None,
        unit=world.a.community,
        activity_type=ActivityType.SANITATION,
        points_per_time=5,
        points_per_hour=10,
    )
    return tree_activity(world.a)  # 2 hours from START, 10 slots


@pytest.fixture
def staff(world: World) -> APIClient:
    return api(world.user(Role.COMMUNITY_STAFF))


@pytest.fixture
def resident(world: World) -> APIClient:
    user = world.user(Role.RESIDENT)
    person_link_account(person=world.a.person, user=user)
    return api(user)


def signups_url(activity: Activity) -> str:
    return f"/api/v1/volunteers/activities/{activity.pk}/signups/"


def test_a_resident_signs_up_once_however_often_they_tap(
    world: World, activity: Activity, resident: APIClient
) -> None:
    first = resident.post(signups_url(activity), {}, format="json")
    assert first.status_code == 201, first.content
    assert first.json()["status"] == "signed_up" and first.json()["person"] == "甲*民"
    again = resident.post(signups_url(activity), {}, format="json")
    assert again.status_code == 200 and again.json()["id"] == first.json()["id"]
    assert Signup.objects.count() == 1
    detail = resident.get(f"/api/v1/volunteers/activities/{activity.pk}/").json()
    assert (detail["taken"], detail["slots"], detail["points_per_hour"]) == (1, 10, 10)
    # Cancelled, then signed up again: a new sign-up.
    cancelled = resident.post(
        f"/api/v1/volunteers/signups/{first.json()['id']}/cancellation/", format="json"
    )
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert resident.post(signups_url(activity), {}, format="json").status_code == 201


def test_the_organizer_checks_in_out_and_confirms_which_pays_points_once(
    world: World, activity: Activity, staff: APIClient, resident: APIClient
) -> None:
    created = staff.post(signups_url(activity), {"person": world.a.person.pk}, format="json")
    assert created.status_code == 201, created.content
    pk = created.json()["id"]
    base = f"/api/v1/volunteers/signups/{pk}"
    checked_in = staff.post(f"{base}/check-in/", {"at": START.isoformat()}, format="json")
    assert checked_in.status_code == 200 and checked_in.json()["check_method"] == "staff"
    out = staff.post(
        f"{base}/check-out/",
        {"at": (START + 90 * dt.timedelta(minutes=1)).isoformat()},
        format="json",
    )
    assert out.json()["minutes"] == 90 and out.json()["points"] is None
    confirmed = staff.post(f"{base}/confirmation/", {}, format="json")
    assert confirmed.status_code == 200, confirmed.content
    assert (confirmed.json()["status"], confirmed.json()["points"]) == ("confirmed", 5 + 15)
    twice = staff.post(f"{base}/confirmation/", {}, format="json")
    assert twice.status_code == 400 and twice.json()["errors"][0]["field"] == "signup"
    assert Transfer.objects.filter(kind="earn").count() == 1
    # The volunteer's own records and standing.
    me = resident.get("/api/v1/volunteers/me/").json()
    assert me == {
        "hours": 1.5,
        "stars": 0,
        "next_stars_at": 100,
        "thresholds": [100, 300, 600, 1000, 1500],
    }
    records = resident.get("/api/v1/volunteers/me/signups/").json()["results"]
    assert [(r["id"], r["points"], r["minutes"]) for r in records] == [(pk, 20, 90)]


def test_the_roster_and_lists_are_scoped_and_bounded_in_queries(
    world: World,
    activity: Activity,
    staff: APIClient,
    resident: APIClient,
    django_assert_max_num_queries: Any,
) -> None:
    for person in [world.a.person]:
        signup_create(actor=world.user(Role.COMMUNITY_STAFF), activity=activity, person=person)
    other = tree_activity(world.b)
    with django_assert_max_num_queries(8):
        listed = staff.get("/api/v1/volunteers/activities/").json()["results"]
    assert [a["id"] for a in listed] == [activity.pk]
    with django_assert_max_num_queries(8):
        roster = staff.get(signups_url(activity)).json()["results"]
    assert [r["person"] for r in roster] == ["甲*民"]
    with django_assert_max_num_queries(8):
        teams = staff.get("/api/v1/volunteers/teams/").json()["results"]
    assert [(t["name"], t["leader"], t["member_count"]) for t in teams] == [
        ("环境志愿服务队", "甲*民", 1)
    ]
    assert tree_team(world.b).pk not in [t["id"] for t in teams]
    # Another tree's rows answer 404, for staff and residents alike.
    for client in (staff, resident):
        assert client.get(f"/api/v1/volunteers/activities/{other.pk}/").status_code == 404
        assert client.post(signups_url(other), {}, format="json").status_code == 404
    b_signup = Signup.objects.create(activity=other, person=world.b.person)
    assert (
        staff.post(
            f"/api/v1/volunteers/signups/{b_signup.pk}/check-in/", {}, format="json"
        ).status_code
        == 404
    )
    assert api(outsider(world)).get(signups_url(activity)).status_code == 404
    # A resident sees the activities where they live, and in a roster only themselves.
    assert [a["id"] for a in resident.get("/api/v1/volunteers/activities/").json()["results"]] == [
        activity.pk
    ]
    assert len(resident.get(signups_url(activity)).json()["results"]) == 1
    # A clerk has nothing to do with volunteering.
    clerk = api(world.user(Role.OUTLET_CLERK))
    assert clerk.get("/api/v1/volunteers/activities/").json()["results"] == []
    assert clerk.get(f"/api/v1/volunteers/activities/{activity.pk}/").status_code == 404


def test_a_resident_may_not_check_in_or_confirm_their_own_sign_up(
    world: World, activity: Activity, resident: APIClient
) -> None:
    pk = resident.post(signups_url(activity), {}, format="json").json()["id"]
    response = resident.post(
        f"/api/v1/volunteers/signups/{pk}/check-in/", {"at": START.isoformat()}, format="json"
    )
    assert response.status_code == 403
    assert Signup.objects.get(pk=pk).status == SignupStatus.SIGNED_UP
    # Nor sign someone else up.
    other = resident.post(signups_url(activity), {"person": world.b.person.pk}, format="json")
    assert other.status_code == 400 and other.json()["errors"][0]["field"] == "person"


@pytest.mark.parametrize(
    "path,data,field",
    [
        ("check-in", {"at": "yesterday"}, "at"),
        ("check-in", {"at": (START - 2 * HOUR).isoformat()}, "at"),
        ("check-in", {"at": (START + 5 * HOUR).isoformat()}, "at"),
        ("confirmation", {}, "signup"),
        ("confirmation", {"minutes": "many"}, "minutes"),
        ("check-out", {"at": "2030-02-30T10:00:00"}, "at"),
        ("rejection", {}, "note"),
        ("rejection", {"note": "x" * 201}, "note"),
    ],
)
def test_bad_input_names_the_field_and_changes_nothing(
    world: World, activity: Activity, staff: APIClient, path: str, data: dict[str, Any], field: str
) -> None:
    pk = staff.post(signups_url(activity), {"person": world.a.person.pk}, format="json").json()[
        "id"
    ]
    response = staff.post(f"/api/v1/volunteers/signups/{pk}/{path}/", data, format="json")
    assert response.status_code == 400, response.content
    assert response.json()["errors"][0]["field"] == field
    signup = Signup.objects.get(pk=pk)
    assert (signup.status, signup.checked_in_at, signup.minutes) == ("signed_up", None, 0)
    assert not Transfer.objects.exists()


def test_confirming_more_minutes_than_the_activity_is_refused(
    world: World, activity: Activity, staff: APIClient
) -> None:
    pk = staff.post(signups_url(activity), {"person": world.a.person.pk}, format="json").json()[
        "id"
    ]
    staff.post(
        f"/api/v1/volunteers/signups/{pk}/check-in/", {"at": START.isoformat()}, format="json"
    )
    staff.post(
        f"/api/v1/volunteers/signups/{pk}/check-out/",
        {"at": (START + HOUR).isoformat()},
        format="json",
    )
    refused = staff.post(
        f"/api/v1/volunteers/signups/{pk}/confirmation/", {"minutes": 121}, format="json"
    )
    assert refused.status_code == 400 and refused.json()["errors"][0]["field"] == "minutes"
    english = staff.post(
        f"/api/v1/volunteers/signups/{pk}/confirmation/",
        {"minutes": -1},
        format="json",
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert english.status_code == 400 and english.json()["errors"][0]["field"] == "minutes"
    assert "0" in english.json()["errors"][0]["message"]
    assert Signup.objects.get(pk=pk).status == SignupStatus.CHECKED_OUT
    assert not Transfer.objects.exists()


def test_a_full_activity_a_party_post_and_bad_list_parameters(
    world: World, activity: Activity, staff: APIClient, resident: APIClient
) -> None:
    post = activity_create(
        actor=None,
        unit=world.a.community,
        title="党员先锋岗",
        activity_type=ActivityType.PATROL,
        place="东门",
        starts_at=START,
        ends_at=START + HOUR,
        slots=1,
        is_party_post=True,
    )
    refused = resident.post(signups_url(post), {}, format="json")
    assert refused.status_code == 400 and refused.json()["errors"][0]["field"] == "person"
    assert resident.get(f"/api/v1/volunteers/activities/{post.pk}/").json()["is_party_post"] is True
    full = activity_create(
        actor=None,
        unit=world.a.community,
        title="敬老助餐",
        activity_type=ActivityType.ELDERLY_HELP,
        place="食堂",
        starts_at=START,
        ends_at=START + HOUR,
        slots=1,
    )
    assert (
        staff.post(signups_url(full), {"person": world.a.person.pk}, format="json").status_code
        == 201
    )
    from doorstep.people.services import person_create

    neighbour = person_create(name="甲邻居", unit=world.a.compound)
    crowded = staff.post(signups_url(full), {"person": neighbour.pk}, format="json")
    assert crowded.status_code == 400 and crowded.json()["errors"][0]["code"] == "full"
    assert Signup.objects.filter(activity=full).count() == 1
    for params, field in (({"unit": "x"}, "unit"), ({"upcoming": "maybe"}, "upcoming")):
        bad = staff.get("/api/v1/volunteers/activities/", params)
        assert bad.status_code == 400 and bad.json()["errors"][0]["field"] == field
    assert (
        resident.post("/api/v1/volunteers/scan/", {"token": "nope"}, format="json").status_code
        == 404
    )
    assert (
        resident.post("/api/v1/volunteers/scan/", {}, format="json").json()["errors"][0]["field"]
        == "token"
    )


def test_a_user_without_a_registry_record_has_no_standing(world: World) -> None:
    client = api(world.user(Role.RESIDENT))
    assert client.get("/api/v1/volunteers/me/").status_code == 404
    assert client.get("/api/v1/volunteers/me/signups/").json()["results"] == []
    anonymous = APIClient()
    assert anonymous.get("/api/v1/volunteers/activities/").status_code == 401
