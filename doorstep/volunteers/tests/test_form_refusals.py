"""A refused form of the volunteer pages comes back as it was sent: status 400 (409 for a
page out of date), the message beside the field it names and in the summary above, what
was typed still in the inputs, the page's other forms empty, and nothing written."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.test import Client

from doorstep.accounts.roles import Role
from doorstep.conftest import World
from doorstep.core import timeutils
from doorstep.core.testing import error_beside, selected, summary, tag, value
from doorstep.people.services import person_link_account

from ..choices import SignupStatus
from ..models import Activity, Signup, StarThresholds, Team, TeamMember
from ..services import check_in, check_out, signup_create, team_create
from .scope import tree_activity, tree_team

pytestmark = pytest.mark.django_db

URL = "/console/volunteers/"


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _announce(world: World, team: Team) -> dict[str, Any]:
    return {
        "action": "activity",
        "unit": str(world.a.community.pk),
        "title": "清理楼道杂物",
        "activity_type": "clutter",
        "place": "3号楼",
        "starts_at": "2030-06-01T09:00",
        "ends_at": "2030-06-01T11:00",
        "slots": "8",
        "team": str(team.pk),
        "is_party_post": "on",
    }


@pytest.mark.parametrize(
    ("field", "bad", "message"),
    [
        ("ends_at", "2030-06-01T08:00", "结束时间须晚于开始时间。"),  # the service's
        ("ends_at", "2030-06-02T11:00", "一次活动不能超过24小时。"),
        ("slots", "0", "名额须为1到1000之间的整数。"),
        ("slots", "²", "名额须为正整数。"),  # the form's: no whole number
        ("starts_at", "2030-06-31T09:00", "时间格式不正确。"),
    ],
)
def test_a_refused_activity_keeps_what_was_typed_with_the_message_beside_its_field(
    world: World, field: str, bad: str, message: str
) -> None:
    team = tree_team(world.a)
    staff = client_for(world.user(Role.COMMUNITY_STAFF))
    form = _announce(world, team) | {field: bad}
    before = Activity.objects.count()
    response = staff.post(f"{URL}?unit={world.a.community.pk}", form)
    assert response.status_code == 400
    assert Activity.objects.count() == before
    page = response.content.decode()
    assert error_beside(page, f"a-{field}") == message
    labels = {"ends_at": "结束时间", "slots": "名额", "starts_at": "开始时间"}
    assert summary(page) == [f"{labels[field]}：{message}"]
    # Every value typed is still there: texts, numbers, times, selects and the checkbox.
    for name in ("title", "place", "starts_at", "ends_at", "slots"):
        assert value(page, f"a-{name}") == form[name], name
    assert selected(page, "a-unit") == [form["unit"]]
    assert selected(page, "a-activity_type") == ["clutter"]
    assert selected(page, "a-team") == [str(team.pk)]
    assert " checked" in tag(page, "a-is_party_post")
    # The other fields carry no message, and the page's other forms are as new.
    assert error_beside(page, "a-title") is None
    assert value(page, "t-name") is None and error_beside(page, "t-name") is None
    assert value(page, "s-star1") == "100" and error_beside(page, "s-star1") is None


def test_a_refused_activity_is_worded_in_english_too(world: World) -> None:
    staff = client_for(world.user(Role.COMMUNITY_STAFF))
    form = _announce(world, tree_team(world.a)) | {"ends_at": "2030-06-01T08:00"}
    response = staff.post(URL, form, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    page = response.content.decode()
    message = "The end must be after the start."
    assert error_beside(page, "a-ends_at") == message
    # The field's label and the message, with the page's own punctuation.
    [line] = summary(page)
    assert re.fullmatch(rf"[A-Za-z ]+: {re.escape(message)}", line), line


def test_a_valid_activity_still_redirects_with_the_flash(world: World) -> None:
    staff = client_for(world.user(Role.COMMUNITY_STAFF))
    url = f"{URL}?unit={world.a.community.pk}"
    response = staff.post(url, _announce(world, tree_team(world.a)))
    assert response.status_code == 302 and response["Location"] == url
    activity = Activity.objects.get()
    assert (activity.title, activity.slots, activity.is_party_post) == ("清理楼道杂物", 8, True)
    assert activity.starts_at == dt.datetime(2030, 6, 1, 1, 0, tzinfo=dt.UTC)
    page = staff.get(url).content.decode()
    assert "志愿活动已发布。" in page and 'class="error"' not in page


def test_a_refused_team_keeps_its_name_and_community(world: World) -> None:
    team = tree_team(world.a)
    staff = client_for(world.user(Role.COMMUNITY_STAFF))
    form = {"action": "team", "unit": str(world.a.community.pk), "name": team.name}
    response = staff.post(URL, form)
    assert response.status_code == 400
    assert Team.objects.count() == 1
    page = response.content.decode()
    assert error_beside(page, "t-name") == "该社区/村已有同名志愿服务队。"
    assert summary(page) == ["名称：该社区/村已有同名志愿服务队。"]
    assert value(page, "t-name") == team.name
    assert selected(page, "t-unit") == [form["unit"]]
    # The activity form, which also has a name (its title), stays empty.
    assert value(page, "a-title") is None and error_beside(page, "a-title") is None


def test_a_team_with_no_community_chosen_is_refused_beside_the_community(world: World) -> None:
    staff = client_for(world.user(Role.COMMUNITY_STAFF))
    response = staff.post(URL, {"action": "team", "unit": "²", "name": "邻里帮帮行"})
    assert response.status_code == 400 and not Team.objects.exists()
    page = response.content.decode()
    assert error_beside(page, "t-unit") == "请选择社区/村。"
    assert value(page, "t-name") == "邻里帮帮行"


def test_refused_star_thresholds_are_told_beside_the_five_and_kept(world: World) -> None:
    staff = client_for(world.user(Role.COMMUNITY_STAFF))
    url = f"{URL}?unit={world.a.community.pk}"
    stars = {"action": "stars", "unit": str(world.a.community.pk)}
    typed = {"star1": "10", "star2": "30", "star3": "20", "star4": "40", "star5": "50"}
    response = staff.post(url, stars | typed)
    assert response.status_code == 400
    assert not StarThresholds.objects.exists()
    page = response.content.decode()
    # The service judges the five together: its message stands after the five inputs.
    assert re.search(
        r'保存星级标准</button><span class="error" role="alert">星级时长须逐级递增。</span>', page
    )
    assert summary(page) == ["星级时长须逐级递增。"]
    assert [value(page, f"s-star{n}") for n in range(1, 6)] == list(typed.values())
    # One that is no whole number is told beside itself.
    response = staff.post(url, stars | typed | {"star3": "x"})
    assert response.status_code == 400 and not StarThresholds.objects.exists()
    page = response.content.decode()
    assert error_beside(page, "s-star3") == "星级时长须为整数小时。"
    assert summary(page) == ["3星：星级时长须为整数小时。"]
    assert value(page, "s-star3") == "x" and error_beside(page, "s-star2") is None
    # A number past any lifetime of volunteering (or the database's integers) is told.
    huge = typed | {"star3": "35", "star5": "118059162071"}
    response = staff.post(url, stars | huge)
    assert response.status_code == 400 and not StarThresholds.objects.exists()
    assert summary(response.content.decode()) == ["星级时长不能超过 100000 小时。"]


# --- An activity's roster ----------------------------------------------------------------


@pytest.fixture
def checked_out(world: World, monkeypatch: Any) -> Signup:
    """Tree A's resident signed up, checked in and out of tree A's two-hour activity."""
    activity = tree_activity(world.a)
    monkeypatch.setattr(timeutils, "now", lambda: activity.starts_at + dt.timedelta(minutes=90))
    staff = world.user(Role.COMMUNITY_STAFF)
    signup = signup_create(actor=staff, activity=activity, person=world.a.person)
    check_in(actor=None, signup=signup, at=activity.starts_at, method="qr")
    return check_out(actor=None, signup=signup, method="qr")


def _roster(signup: Signup) -> str:
    return f"{URL}activities/{signup.activity_id}/"


def test_minutes_out_of_range_are_refused_beside_that_rows_minutes(
    world: World, checked_out: Signup
) -> None:
    staff = client_for(world.user(Role.COMMUNITY_STAFF))
    response = staff.post(
        _roster(checked_out), {"action": "confirm", "signup": checked_out.pk, "minutes": "999"}
    )
    assert response.status_code == 400
    page = response.content.decode()
    message = "服务时长须在0到120分钟之间。"
    assert error_beside(page, f"confirm-{checked_out.pk}-minutes") == message
    assert summary(page) == [f"确认时长（分钟）：{message}"]
    assert value(page, f"confirm-{checked_out.pk}-minutes") == "999"
    checked_out.refresh_from_db()
    assert (checked_out.status, checked_out.minutes) == (SignupStatus.CHECKED_OUT, 90)
    assert checked_out.transfer_id is None


def test_a_rejection_without_a_note_is_refused_beside_the_note(
    world: World, checked_out: Signup
) -> None:
    staff = client_for(world.user(Role.COMMUNITY_STAFF))
    response = staff.post(
        _roster(checked_out), {"action": "reject", "signup": checked_out.pk, "note": "  "}
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert error_beside(page, f"reject-{checked_out.pk}-note") == "此项不能为空。"
    assert summary(page) == ["不予确认的原因：此项不能为空。"]
    assert (
        value(page, f"confirm-{checked_out.pk}-minutes") == "90"
    )  # the row's other form as it was
    checked_out.refresh_from_db()
    assert (checked_out.status, checked_out.note) == (SignupStatus.CHECKED_OUT, "")


def test_a_stale_check_in_is_a_conflict_told_beside_the_row(
    world: World, checked_out: Signup
) -> None:
    """The button of a page loaded before the volunteer checked out: 409, nothing moved."""
    staff = client_for(world.user(Role.COMMUNITY_STAFF))
    response = staff.post(_roster(checked_out), {"action": "check_in", "signup": checked_out.pk})
    assert response.status_code == 409
    page = response.content.decode()
    message = "报名当前为“已签退”，不能改为“已签到”。"
    assert summary(page) == [message]
    row = page.split(f'name="signup" value="{checked_out.pk}"')[-1]
    assert re.match(rf'.*?</form>\s*<span class="error" role="alert">{message}</span>', row, re.S)
    checked_out.refresh_from_db()
    assert checked_out.status == SignupStatus.CHECKED_OUT


def test_signing_up_a_person_twice_is_refused_beside_their_button(
    world: World, checked_out: Signup
) -> None:
    staff = client_for(world.user(Role.COMMUNITY_STAFF))
    url = f"{_roster(checked_out)}?q={world.a.person.name}"
    response = staff.post(url, {"action": "signup", "person": world.a.person.pk})
    assert response.status_code == 400
    page = response.content.decode()
    assert summary(page) == ["已报名该活动。"]
    button = f'name="person" value="{world.a.person.pk}"><button name="action" value="signup"'
    assert re.search(
        re.escape(button)
        + r'[^<]*>报名</button></form><span class="error" role="alert">已报名该活动。</span>',
        page,
    )
    assert Signup.objects.count() == 1


def test_a_roster_action_still_redirects(world: World, checked_out: Signup) -> None:
    staff = client_for(world.user(Role.COMMUNITY_STAFF))
    response = staff.post(
        _roster(checked_out), {"action": "confirm", "signup": checked_out.pk, "minutes": "60"}
    )
    assert response.status_code == 302 and response["Location"] == _roster(checked_out)
    checked_out.refresh_from_db()
    assert (checked_out.status, checked_out.minutes) == (SignupStatus.CONFIRMED, 60)


# --- A team's page -----------------------------------------------------------------------


def test_adding_a_member_twice_is_refused_beside_their_button(world: World) -> None:
    team = team_create(actor=None, unit=world.a.community, name="邻里帮帮行", leader=world.a.person)
    staff = client_for(world.user(Role.COMMUNITY_STAFF))
    url = f"{URL}teams/{team.pk}/?q={world.a.person.name}"
    response = staff.post(url, {"person": world.a.person.pk})
    assert response.status_code == 400
    page = response.content.decode()
    assert summary(page) == ["该居民已是本队队员。"]
    assert re.search(
        rf'name="person" value="{world.a.person.pk}"><button type="submit" class="button secondary">'
        r'加入本队</button></form><span class="error" role="alert">该居民已是本队队员。</span>',
        page,
    )
    assert TeamMember.objects.filter(team=team).count() == 1


# --- The resident's pages ----------------------------------------------------------------


def test_a_residents_refused_sign_up_is_told_on_the_page(world: World) -> None:
    """A party post takes party members only: the page says so beside its button (400),
    not in a flash after a redirect."""
    activity = tree_activity(world.a)
    activity.is_party_post = True
    activity.save(update_fields=["is_party_post"])
    user = world.user(Role.RESIDENT)
    person_link_account(person=world.a.person, user=user)
    response = client_for(user).post("/me/volunteering/", {"activity": activity.pk})
    assert response.status_code == 400
    page = response.content.decode()
    message = "党员认领岗位只接受党员报名。"
    assert summary(page) == [message]
    assert re.search(
        rf'name="activity" value="{activity.pk}"><button type="submit" class="button">报名</button>'
        rf'</form><span class="error" role="alert">{message}</span>',
        page,
    )
    assert not Signup.objects.exists()


def test_a_refused_scan_is_told_on_the_page(world: World) -> None:
    activity = tree_activity(world.a)
    user = world.user(Role.RESIDENT)
    person_link_account(person=world.a.person, user=user)
    response = client_for(user).post(f"/volunteer/scan/{activity.checkin_token}/")
    assert response.status_code == 400
    assert re.search(
        r'<div class="error" role="alert"><p>您没有报名该活动，或已经签退。</p></div>',
        response.content.decode(),
    )
    assert not Signup.objects.exists()
