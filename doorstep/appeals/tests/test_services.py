"""Intake, routing and the closed loop through the services."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from doorstep.accounts.roles import Role
from doorstep.accounts.scoping import scoped
from doorstep.appeals.choices import (
    TRANSITIONS,
    Action,
    Actor,
    CaseKind,
    CaseState,
    Channel,
    Color,
    Level,
)
from doorstep.appeals.models import Case, CaseEvent, Follow, JointTask, Rating
from doorstep.appeals.services import (
    case_follow,
    case_submit,
    case_transition,
    joint_task_add,
    joint_task_reply,
)
from doorstep.conftest import World, make_user
from doorstep.core.errors import Conflict, NotFound, PermissionDenied, ValidationError
from doorstep.orgs.services import department_create

from .factories import category, proxy_submit, step, submit

pytestmark = pytest.mark.django_db


# --- Intake and routing -------------------------------------------------------------------


def test_green_case_goes_to_the_grid_of_the_household(world: World) -> None:
    case = submit(world, code="sanitation")
    assert (case.color, case.level, case.grid_id) == (Color.GREEN, Level.GRID, world.a.grid.pk)
    assert case.community_id == world.a.community.pk
    assert case.compound_id == world.a.compound.pk
    assert case.unit_path == world.a.building.path
    assert case.state == CaseState.SUBMITTED
    assert case.deadline == case.clock_started_at + dt.timedelta(days=1)
    assert len(case.receipt_code) == 8
    event = case.events.get()
    assert (event.action, event.to_state) == (Action.SUBMIT, CaseState.SUBMITTED)
    from doorstep.appeals.notify import followers_of

    assert followers_of(case) == {world.user(Role.RESIDENT).pk}


def test_yellow_case_goes_to_the_community(world: World) -> None:
    case = submit(world, code="property")
    assert (case.color, case.level) == (Color.YELLOW, Level.COMMUNITY)
    assert case.deadline == case.clock_started_at + dt.timedelta(days=7)


def test_red_case_opens_a_joint_case_at_the_party_org_with_the_lead_department(
    world: World,
) -> None:
    lead = department_create(kind="natural_resources", name="甲区自然资源局", unit=world.a.district)
    case = submit(world, code="land")
    assert (case.color, case.level, case.party_org_id) == (
        Color.RED,
        Level.PARTY_ORG,
        world.a.party_org.pk,
    )
    assert case.is_joint
    task = JointTask.objects.get(case=case)
    assert (task.department_id, task.is_lead) == (lead.pk, True)
    assert case.deadline == case.clock_started_at + dt.timedelta(days=30)


def test_map_pick_finds_the_nearest_community_and_refuses_outside(world: World) -> None:
    resident = world.user(Role.RESIDENT)
    case = case_submit(
        actor=resident,
        kind=CaseKind.PROBLEM,
        category=category("repair"),
        channel=Channel.ONLINE,
        text="路灯坏了",
        lat=30.0005,
        lng=110.0005,
    )
    # Tree A's city sits at (30, 110); its community has no point, so the nearest
    # grassroots unit with coordinates decides. None here: refused.
    assert case.community.kind in ("community", "village")
    before = Case.objects.count()
    with pytest.raises(ValidationError, match="不在本辖区") as exc:
        case_submit(
            actor=resident,
            kind=CaseKind.PROBLEM,
            category=category("repair"),
            channel=Channel.ONLINE,
            text="路灯坏了",
            lat=45.0,
            lng=125.0,
        )
    assert exc.value.field == "location"
    assert Case.objects.count() == before


@pytest.fixture(autouse=True)
def _place_community(world: World) -> None:
    from doorstep.orgs.models import Unit

    Unit.objects.filter(pk=world.a.community.pk).update(lat=30.0, lng=110.0)
    Unit.objects.filter(pk=world.b.community.pk).update(lat=36.5, lng=104.1)


@pytest.mark.parametrize(
    "kwargs,field,message",
    [
        ({"category": "no-such"}, "category", "未知的诉求类别"),
        ({"category": "living"}, "category", "请选择具体的小类"),
        ({"text": "长" * 20000}, "text", "不能超过 4000 个字"),
        ({"text": "   "}, "text", "不能为空"),
        ({"kind": "gossip"}, "kind", "未知的诉求类型"),
        ({"channel": "fax"}, "channel", "未知的渠道"),
        ({"household": None}, "location", "请选择小区"),
        ({"household": None, "lat": 91, "lng": 110}, "location", "中国境内"),
        ({"idempotency_key": "k" * 65}, "idempotency_key", "64"),
    ],
)
def test_bad_input_names_the_field_and_creates_nothing(
    world: World, kwargs: dict[str, Any], field: str, message: str
) -> None:
    params: dict[str, Any] = {
        "actor": world.user(Role.RESIDENT),
        "kind": CaseKind.PROBLEM,
        "category": "sanitation",
        "channel": Channel.ONLINE,
        "text": "楼道灯坏了",
        "household": world.a.household,
    }
    params.update(kwargs)
    with pytest.raises(ValidationError, match=message) as exc:
        case_submit(**params)
    assert exc.value.field == field
    assert not Case.objects.exists() and not CaseEvent.objects.exists()


def test_html_in_text_is_kept_as_text(world: World) -> None:
    case = submit(world, text="<script>alert(1)</script>")
    assert case.text == "<script>alert(1)</script>"


def test_same_idempotency_key_gives_the_same_case(world: World) -> None:
    first = submit(world, idempotency_key="tap-1")
    again = submit(world, idempotency_key="tap-1")
    other = submit(world, idempotency_key="tap-2")
    assert first.pk == again.pk != other.pk
    assert Case.objects.count() == 2
    # The key is unique per submitter: another resident may use the same string.
    neighbour = make_user("neighbour", Role.RESIDENT)
    assert submit(world, idempotency_key="tap-1", actor=neighbour).pk != first.pk


def test_proxy_intake_needs_staff_of_that_community(world: World) -> None:
    grid_member = world.user(Role.GRID_MEMBER)
    case = proxy_submit(world, world.a, grid_member)
    assert case.reporter_person_id == world.a.person.pk and case.submitted_by_id == grid_member.pk
    with pytest.raises(PermissionDenied):
        proxy_submit(world, world.b, grid_member)
    with pytest.raises(PermissionDenied):
        proxy_submit(world, world.a, world.user(Role.RESIDENT))
    assert Case.objects.count() == 1


# --- The transition table -------------------------------------------------------------------


def _actor(world: World, kind: str) -> Any:
    actors: dict[str, Any] = {
        Actor.REPORTER: world.user(Role.RESIDENT),
        Actor.HANDLER: world.user(Role.COMMUNITY_STAFF),
        Actor.SYSTEM: None,
    }
    return actors[kind]


def _params(world: World, action: str) -> dict[str, Any]:
    if action == Action.ASSIGN:
        return {"assignee": world.user(Role.GRID_MEMBER)}
    if action == Action.RESOLVE:
        return {"result": "已清理"}
    if action == Action.REJECT:
        return {"note": "不属于本社区职责"}
    if action == Action.RATE:
        return {"score": 5, "comment": "满意"}
    if action == Action.MERGE:
        return {"target": submit(world, text="同一处杂物")}
    return {}


@pytest.mark.parametrize("action", list(TRANSITIONS))
def test_transition_table(world: World, action: str) -> None:
    """Every action × state × kind of actor: allowed exactly when the table says so;
    a refusal changes nothing."""
    transition = TRANSITIONS[action]
    for state in CaseState.values:
        for actor in Actor.values:
            case = submit(world)
            Case.objects.filter(pk=case.pk).update(state=state)
            case.refresh_from_db()
            params = _params(world, action)
            events = CaseEvent.objects.filter(case=case).count()
            allowed = state in transition.sources and actor in transition.actors
            label = f"{action} from {state} by {actor}"
            if allowed:
                case_transition(
                    actor=_actor(world, actor),
                    case=case,
                    action=action,
                    version=case.version,
                    **params,
                )
                event = CaseEvent.objects.filter(case=case, action=action).get()
                assert (event.from_state, event.to_state) == (state, transition.target), label
            else:
                with pytest.raises((ValidationError, PermissionDenied, NotFound)):
                    case_transition(
                        actor=_actor(world, actor),
                        case=case,
                        action=action,
                        version=case.version,
                        **params,
                    )
                fresh = Case.objects.get(pk=case.pk)
                assert (fresh.state, fresh.version) == (state, case.version), label
                assert CaseEvent.objects.filter(case=case).count() == events, label


def test_stale_version_is_a_conflict_and_changes_nothing(world: World) -> None:
    staff = world.user(Role.COMMUNITY_STAFF)
    case = submit(world)
    seen = case.version
    case_transition(actor=staff, case=case, action=Action.ACCEPT, version=seen)
    with pytest.raises(Conflict, match="已被他人更新") as exc:
        case_transition(actor=staff, case=case.pk, action=Action.REJECT, version=seen, note="重复")
    assert exc.value.field == "version"
    fresh = Case.objects.get(pk=case.pk)
    assert (fresh.state, fresh.version) == (CaseState.ACCEPTED, seen + 1)


def test_grid_member_may_not_handle_a_yellow_case(world: World) -> None:
    case = submit(world, code="property")
    with pytest.raises(PermissionDenied, match="无权"):
        step(case, world.user(Role.GRID_MEMBER), Action.ACCEPT)
    step(case, world.user(Role.COMMUNITY_STAFF), Action.ACCEPT)


def test_case_outside_scope_is_not_found(world: World) -> None:
    case = submit(world)
    outsider = make_user("b_staff", Role.COMMUNITY_STAFF, world.b.community)
    with pytest.raises(NotFound):
        step(case, outsider, Action.ACCEPT)


def _resolve(world: World, case: Case) -> Case:
    member = world.user(Role.GRID_MEMBER)
    step(case, member, Action.ACCEPT)
    step(case, member, Action.ASSIGN, assignee=member)
    step(case, member, Action.START)
    return step(case, member, Action.RESOLVE, result="已清理完毕")


def test_the_whole_loop_with_a_satisfied_rating(world: World) -> None:
    case = _resolve(world, submit(world))
    case = step(case, world.user(Role.RESIDENT), Action.RATE, score=5, comment="很快")
    assert case.state == CaseState.CLOSED and case.rating == 5 and not case.closed_unrated
    actions = list(case.events.values_list("action", flat=True))
    assert actions == ["submit", "accept", "assign", "start", "resolve", "rate", "close"]
    assert Rating.objects.get(case=case).comment == "很快"


def test_unsatisfied_rating_reopens_one_level_up(world: World) -> None:
    case = _resolve(world, submit(world))
    case = step(case, world.user(Role.RESIDENT), Action.RATE, score=2, comment="没解决")
    assert (case.state, case.color, case.level) == (
        CaseState.ACCEPTED,
        Color.YELLOW,
        Level.COMMUNITY,
    )
    assert case.assignee_id is None and case.resolved_at is None
    assert case.resolved_on_time is None  # a reopened case is judged when resolved again
    assert case.deadline == case.clock_started_at + dt.timedelta(days=7)
    # The grid member may no longer act; the committees may.
    with pytest.raises(PermissionDenied):
        step(case, world.user(Role.GRID_MEMBER), Action.RESOLVE, result="再看看")
    step(case, world.user(Role.COMMUNITY_STAFF), Action.RESOLVE, result="已协调物业处理")


def test_resolving_records_whether_the_deadline_in_force_was_met(world: World) -> None:
    in_time = _resolve(world, submit(world))
    assert in_time.resolved_on_time is True and in_time.deadline is None
    member = world.user(Role.GRID_MEMBER)
    late = submit(world, text="拖了很久")
    for action, extra in ((Action.ACCEPT, {}), (Action.ASSIGN, {"assignee": member}),
                          (Action.START, {})):  # fmt: skip
        step(late, member, action, **extra)
    Case.objects.filter(pk=late.pk).update(deadline=timezone.now() - dt.timedelta(minutes=1))
    late = step(late, member, Action.RESOLVE, result="终于修好了")
    assert late.resolved_on_time is False


@pytest.mark.parametrize("score", [0, 6, "x", None])
def test_rating_outside_1_to_5_is_refused(world: World, score: Any) -> None:
    case = _resolve(world, submit(world))
    with pytest.raises(ValidationError, match="1到5") as exc:
        step(case, world.user(Role.RESIDENT), Action.RATE, score=score)
    assert exc.value.field == "score"
    assert Case.objects.get(pk=case.pk).state == CaseState.RESOLVED


def test_only_the_reporter_rates(world: World) -> None:
    case = _resolve(world, submit(world))
    with pytest.raises(PermissionDenied):
        step(case, world.user(Role.COMMUNITY_STAFF), Action.RATE, score=5)


def test_merge_moves_followers_to_the_target(world: World) -> None:
    staff = world.user(Role.COMMUNITY_STAFF)
    target = submit(world, text="楼道杂物")
    neighbour = make_user("neighbour", Role.RESIDENT)
    duplicate = submit(world, text="楼道杂物又多了", actor=neighbour)
    watcher = make_user("watcher", Role.RESIDENT)
    Follow.objects.create(case=duplicate, user=watcher)
    merged = step(duplicate, staff, Action.MERGE, target=target, note="重复")
    assert merged.state == CaseState.MERGED and merged.merged_into_id == target.pk
    followers = set(Follow.objects.filter(case=target).values_list("user_id", flat=True))
    assert {neighbour.pk, watcher.pk} <= followers
    with pytest.raises(ValidationError, match="另一件未办结"):
        step(submit(world), staff, Action.MERGE, target=merged)


def test_reject_needs_a_reason(world: World) -> None:
    case = submit(world)
    with pytest.raises(ValidationError, match="不能为空") as exc:
        step(case, world.user(Role.COMMUNITY_STAFF), Action.REJECT, note="")
    assert exc.value.field == "note"


def test_assignee_must_be_able_to_handle_the_case(world: World) -> None:
    case = submit(world)
    step(case, world.user(Role.COMMUNITY_STAFF), Action.ACCEPT)
    with pytest.raises(ValidationError, match="无权办理") as exc:
        step(
            case,
            world.user(Role.COMMUNITY_STAFF),
            Action.ASSIGN,
            assignee=world.user(Role.RESIDENT),
        )
    assert exc.value.field == "assignee"


# --- Joint cases ------------------------------------------------------------------------------


def test_joint_case_tasks_and_replies(world: World) -> None:
    case = submit(world, code="land")
    secretary = world.user(Role.PARTY_SECRETARY)
    task = joint_task_add(
        actor=secretary, case=case, department=world.a.department, is_lead=True, instructions="核实"
    )
    with pytest.raises(ValidationError, match="已在本案会办"):
        joint_task_add(actor=secretary, case=case, department=world.a.department)
    with pytest.raises(PermissionDenied):
        joint_task_add(
            actor=world.user(Role.COMMUNITY_STAFF), case=case, department=world.a.department
        )
    dept_user = world.user(Role.DEPARTMENT_STAFF)
    assert scoped(dept_user, Case).filter(pk=case.pk).exists()
    replied = joint_task_reply(actor=dept_user, task_id=task.pk, reply="已派员核实")
    assert replied.state == "replied" and replied.replied_by_id == dept_user.pk
    with pytest.raises(Conflict):
        joint_task_reply(actor=dept_user, task_id=task.pk, reply="再次答复")
    other_dept = department_create(kind="fisheries", name="甲区海洋渔业局", unit=world.a.district)
    other_user = make_user("fish", Role.DEPARTMENT_STAFF, other_dept)
    assert not scoped(other_user, Case).filter(pk=case.pk).exists()
    with pytest.raises(NotFound):
        joint_task_reply(actor=other_user, task_id=task.pk, reply="不是我的")


def test_green_case_is_not_joint(world: World) -> None:
    with pytest.raises(ValidationError, match="红色"):
        joint_task_add(
            actor=world.user(Role.PARTY_SECRETARY),
            case=submit(world),
            department=world.a.department,
        )


# --- Scope ----------------------------------------------------------------------------------------


def test_who_sees_which_case(world: World) -> None:
    mine = submit(world)
    theirs = submit(world, tree=world.b, actor=make_user("b_resident", Role.RESIDENT))
    for role in (Role.RESIDENT, Role.GRID_MEMBER, Role.COMMUNITY_STAFF, Role.CITY_ADMIN):
        visible = set(scoped(world.user(role), Case).values_list("pk", flat=True))
        assert mine.pk in visible and theirs.pk not in visible, role
    stranger = make_user("stranger", Role.RESIDENT)
    assert not scoped(stranger, Case).exists()
    assert not scoped(world.user(Role.DEPARTMENT_STAFF), Case).exists()
    assert not scoped(world.user(Role.SYSTEM_ADMIN), Case).exists()


def test_follow_a_public_case(world: World) -> None:
    case = submit(world)
    stranger = make_user("stranger", Role.RESIDENT)
    follow = case_follow(actor=stranger, case=case)
    assert follow.user_id == stranger.pk
    Case.objects.filter(pk=case.pk).update(is_public=False)
    other = make_user("other", Role.RESIDENT)
    with pytest.raises(NotFound):
        case_follow(actor=other, case=case)


def test_case_note_by_handler_reporter_or_integration(world: World) -> None:
    from doorstep.appeals.services import case_note

    case = submit(world)
    version = case.version
    note = case_note(actor=None, case=case, note="外部系统转来的补充说明", public=False)
    assert (note.action, note.is_public, note.actor_id) == (Action.NOTE, False, None)
    case_note(actor=world.user(Role.RESIDENT), case=case, note="补充：晚上更严重")
    with pytest.raises(NotFound):  # outside the department's scope altogether
        case_note(actor=world.user(Role.DEPARTMENT_STAFF), case=case, note="x")
    yellow = submit(world, code="property")
    with pytest.raises(PermissionDenied):  # sees the yellow case, does not handle it
        case_note(actor=world.user(Role.GRID_MEMBER), case=yellow, note="x")
    with pytest.raises(ValidationError, match="不能为空"):
        case_note(actor=None, case=case, note=" ")
    assert Case.objects.get(pk=case.pk).version == version
