"""Writes of the volunteers app: teams, activities, sign-up, check-in and check-out (by
staff or by the QR code at the place), and the organizer's confirmation that pays
points through the ledger. Each state change checks ``TRANSITIONS`` first."""

from __future__ import annotations

import datetime as dt
import itertools
import secrets
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from doorstep.core import timeutils
from doorstep.core.errors import Conflict, NotFound, PermissionDenied, ValidationError
from doorstep.orgs.choices import GRASSROOTS_KINDS
from doorstep.orgs.models import Unit
from doorstep.people.models import Person
from doorstep.points.choices import ActivityType
from doorstep.points.services import points_earn, rule_for

from .choices import (
    ACTIVE_SIGNUP,
    TRANSITIONS,
    ActivityStatus,
    CheckMethod,
    SignupStatus,
)
from .models import Activity, Signup, StarThresholds, Team, TeamMember
from .rules import can_manage_teams, can_organize

# A volunteer may check in this long before the start; check-out closes this long after
# the end (the hours counted never exceed the activity's own length).
EARLY_CHECK_IN = dt.timedelta(hours=1)
LATE_CHECK_OUT = dt.timedelta(hours=2)
MAX_ACTIVITY = dt.timedelta(hours=24)


def _text(value: Any, field: str, maximum: int) -> str:
    text = str(value or "").strip()
    if not text:
        raise ValidationError(_("此项不能为空。"), field=field)
    if len(text) > maximum:
        raise ValidationError(_("内容过长。"), field=field)
    return text


def _move(signup: Signup, to: str) -> None:
    if to not in TRANSITIONS[signup.status]:
        raise Conflict(
            _("报名当前为“%(status)s”，不能改为“%(to)s”。")
            % {"status": signup.get_status_display(), "to": SignupStatus(to).label},
            field="status",
            code="invalid_transition",
        )
    signup.status = to


# --- Teams ---------------------------------------------------------------------------------


@transaction.atomic
def team_create(
    *,
    actor: Any,
    unit: Unit,
    name: str,
    leader: Person | None = None,
    serves: Unit | None = None,
) -> Team:
    if unit.kind not in GRASSROOTS_KINDS:
        raise ValidationError(_("志愿服务队须属于社区或村。"), field="unit")
    if actor is not None and not can_manage_teams(actor, unit):
        raise PermissionDenied(_("您无权管理该社区的志愿服务队。"), field="unit")
    name = _text(name, "name", 60)
    if Team.objects.filter(unit=unit, name=name).exists():
        raise ValidationError(_("该社区/村已有同名志愿服务队。"), field="name")
    if serves is not None and not serves.path.startswith(unit.path):
        raise ValidationError(_("服务对象须在本社区/村内。"), field="serves")
    team = Team.objects.create(unit=unit, name=name, leader=leader, serves=serves)
    if leader is not None:
        team_add_member(actor=None, team=team, person=leader)
    return team


@transaction.atomic
def team_add_member(
    *, actor: Any, team: Team, person: Person, joined_on: dt.date | None = None
) -> TeamMember:
    if actor is not None and not can_manage_teams(actor, team.unit):
        raise PermissionDenied(_("您无权管理该社区的志愿服务队。"), field="team")
    if TeamMember.objects.filter(team=team, person=person, left_on__isnull=True).exists():
        raise ValidationError(_("该居民已是本队队员。"), field="person")
    return TeamMember.objects.create(
        team=team, person=person, joined_on=joined_on or timeutils.local_today()
    )


# --- Activities ------------------------------------------------------------------------------


@transaction.atomic
def activity_create(
    *,
    actor: Any,
    unit: Unit,
    title: str,
    activity_type: str,
    place: str,
    starts_at: dt.datetime | None,
    ends_at: dt.datetime | None,
    slots: Any,
    team: Team | None = None,
    is_party_post: bool = False,
) -> Activity:
    """Announce an activity or post with the points rule in force for its type."""
    if unit.kind not in GRASSROOTS_KINDS:
        raise ValidationError(_("活动须属于社区或村。"), field="unit")
    if actor is not None and not can_organize(actor, unit):
        raise PermissionDenied(_("您无权在该社区组织志愿活动。"), field="unit")
    title = _text(title, "title", 80)
    place = _text(place, "place", 120)
    if activity_type not in ActivityType.values:
        raise ValidationError(_("未知的活动类型。"), field="activity_type")
    if starts_at is None:
        raise ValidationError(_("请填写开始时间。"), field="starts_at")
    if ends_at is None or ends_at <= starts_at:
        raise ValidationError(_("结束时间须晚于开始时间。"), field="ends_at")
    if ends_at - starts_at > MAX_ACTIVITY:
        raise ValidationError(_("一次活动不能超过24小时。"), field="ends_at")
    try:
        count = int(str(slots).strip())
    except (TypeError, ValueError):
        raise ValidationError(_("名额须为正整数。"), field="slots") from None
    if not 0 < count <= 1000:
        raise ValidationError(_("名额须为1到1000之间的整数。"), field="slots")
    if team is not None and team.unit_id != unit.pk:
        raise ValidationError(_("志愿服务队不属于该社区/村。"), field="team")
    return Activity.objects.create(
        unit=unit,
        team=team,
        title=title,
        activity_type=activity_type,
        place=place,
        starts_at=starts_at,
        ends_at=ends_at,
        slots=count,
        is_party_post=is_party_post,
        points_rule=rule_for(unit=unit, activity_type=activity_type),
        organizer=actor if getattr(actor, "is_authenticated", False) else None,
        checkin_token=secrets.token_urlsafe(16)[:22],
    )


@transaction.atomic
def activity_cancel(*, actor: Any, activity: Activity) -> Activity:
    if not can_organize(actor, activity.unit):
        raise PermissionDenied(_("您无权管理该活动。"), field="activity")
    if activity.signups.filter(status=SignupStatus.CONFIRMED).exists():
        raise Conflict(_("已有确认的服务时长，活动不能取消。"), field="activity")
    activity.status = ActivityStatus.CANCELLED
    activity.save(update_fields=["status", "updated_at"])
    activity.signups.filter(status__in=ACTIVE_SIGNUP).update(status=SignupStatus.CANCELLED)
    return activity


# --- Sign-up ---------------------------------------------------------------------------------


def _lock_activity(activity: Activity) -> Activity:
    """The activity row, locked on PostgreSQL so that slots are counted once at a time."""
    return Activity.objects.select_for_update().get(pk=activity.pk)


def signup_create(*, actor: Any, activity: Activity, person: Person) -> Signup:
    """Sign a person up: themselves (a resident), or anyone by an organizer. A party
    post takes party members only, and their sign-up is flagged as a claim."""
    own = person.user_id is not None and person.user_id == getattr(actor, "pk", None)
    if not own and not can_organize(actor, activity.unit):
        raise PermissionDenied(_("您不能为他人报名。"), field="person")
    if person.pseudonymized_at is not None:
        raise ValidationError(_("该人员信息已删除。"), field="person")
    if person.left_on is not None:
        raise ValidationError(_("该人员已迁出或去世，不在册。"), field="person")
    with transaction.atomic():
        locked = _lock_activity(activity)
        if locked.status != ActivityStatus.OPEN:
            raise ValidationError(_("该活动已停止报名。"), field="activity")
        if locked.ends_at <= timeutils.now():
            raise ValidationError(_("该活动已结束。"), field="activity")
        if Signup.objects.filter(activity=locked, person=person, status__in=ACTIVE_SIGNUP).exists():
            raise ValidationError(_("已报名该活动。"), field="person", code="duplicate")
        taken = Signup.objects.filter(activity=locked, status__in=ACTIVE_SIGNUP).count()
        if taken >= locked.slots:
            raise ValidationError(_("名额已满。"), field="activity", code="full")
        party_member = hasattr(person, "party_member")
        if locked.is_party_post and not party_member:
            raise ValidationError(_("党员认领岗位只接受党员报名。"), field="person")
        try:
            with transaction.atomic():
                return Signup.objects.create(
                    activity=locked, person=person, party_claim=locked.is_party_post
                )
        except IntegrityError:
            raise ValidationError(_("已报名该活动。"), field="person", code="duplicate") from None


@transaction.atomic
def signup_cancel(*, actor: Any, signup: Signup) -> Signup:
    own = signup.person.user_id is not None and signup.person.user_id == getattr(actor, "pk", None)
    if not own and not can_organize(actor, signup.activity.unit):
        raise PermissionDenied(_("您不能取消他人的报名。"), field="signup")
    _move(signup, SignupStatus.CANCELLED)
    signup.save(update_fields=["status", "updated_at"])
    return signup


def cancel_upcoming(sender: Any, *, person: Person, actor: Any, **kwargs: Any) -> str:
    """A person who moved away or died will not come: their sign-ups to activities that
    have not started are cancelled, freeing the places (``people.signals.person_left``,
    inside the registry's transaction). Past participation stays as it was."""
    upcoming = list(
        Signup.objects.select_related("activity").filter(
            person=person,
            status=SignupStatus.SIGNED_UP,
            activity__starts_at__gt=timeutils.now(),
        )
    )
    for signup in upcoming:
        _move(signup, SignupStatus.CANCELLED)
        signup.save(update_fields=["status", "updated_at"])
    if not upcoming:
        return ""
    return _("已取消%(n)d个尚未开始的志愿活动报名。") % {"n": len(upcoming)}


# --- Check-in and check-out ------------------------------------------------------------------


def _check_window(activity: Activity, at: dt.datetime) -> None:
    if activity.status == ActivityStatus.CANCELLED:
        raise ValidationError(_("该活动已取消。"), field="activity")
    if at < activity.starts_at - EARLY_CHECK_IN:
        raise ValidationError(_("活动还没有开始，请在开始前一小时内签到。"), field="at")
    if at > activity.ends_at + LATE_CHECK_OUT:
        raise ValidationError(_("活动已结束，不能再签到或签退。"), field="at")


def _served_minutes(activity: Activity, checked_in: dt.datetime, checked_out: dt.datetime) -> int:
    """Minutes within the activity's own time: arriving early or leaving late adds none."""
    start = max(checked_in, activity.starts_at)
    end = min(checked_out, activity.ends_at)
    return max(0, int((end - start).total_seconds() // 60))


@transaction.atomic
def check_in(
    *, actor: Any, signup: Signup, at: dt.datetime | None = None, method: str = CheckMethod.STAFF
) -> Signup:
    if method == CheckMethod.STAFF and not can_organize(actor, signup.activity.unit):
        raise PermissionDenied(_("您无权为该活动签到。"), field="signup")
    moment = at or timeutils.now()
    _check_window(signup.activity, moment)
    _move(signup, SignupStatus.CHECKED_IN)
    signup.checked_in_at = moment
    signup.check_method = method
    signup.save(update_fields=["status", "checked_in_at", "check_method", "updated_at"])
    return signup


@transaction.atomic
def check_out(
    *, actor: Any, signup: Signup, at: dt.datetime | None = None, method: str = CheckMethod.STAFF
) -> Signup:
    if method == CheckMethod.STAFF and not can_organize(actor, signup.activity.unit):
        raise PermissionDenied(_("您无权为该活动签退。"), field="signup")
    moment = at or timeutils.now()
    _check_window(signup.activity, moment)
    if signup.checked_in_at is not None and moment < signup.checked_in_at:
        raise ValidationError(_("签退时间不能早于签到时间。"), field="at")
    _move(signup, SignupStatus.CHECKED_OUT)
    signup.checked_out_at = moment
    signup.minutes = _served_minutes(signup.activity, signup.checked_in_at or moment, moment)
    signup.save(update_fields=["status", "checked_out_at", "minutes", "updated_at"])
    return signup


def scan(*, actor: Any, token: str, at: dt.datetime | None = None) -> Signup:
    """A volunteer scanned the code at the place: the first scan checks in, the second
    checks out. Only the volunteer's own sign-up is touched."""
    activity = Activity.objects.filter(checkin_token=str(token or "")[:32]).first()
    if activity is None:
        raise NotFound(_("签到码无效。"), field="token")
    signup = (
        Signup.objects.select_related("activity", "person")
        .filter(
            activity=activity,
            person__user_id=getattr(actor, "pk", 0) or 0,
            status__in=[SignupStatus.SIGNED_UP, SignupStatus.CHECKED_IN],
        )
        .first()
    )
    if signup is None:
        raise ValidationError(_("您没有报名该活动，或已经签退。"), field="token")
    if signup.status == SignupStatus.SIGNED_UP:
        return check_in(actor=actor, signup=signup, at=at, method=CheckMethod.QR)
    return check_out(actor=actor, signup=signup, at=at, method=CheckMethod.QR)


# --- Confirmation: the only way hours become points -------------------------------------------


def signup_confirm(
    *, actor: Any, signup: Signup, minutes: Any = None, at: dt.datetime | None = None
) -> Signup:
    """The organizer confirms the hours (may lower them, never above the activity's
    length); the ledger then pays the points of the activity's rule, within its caps,
    in the same transaction. ``actor`` None is the system loading past records (the
    demo, an import), which may also give the confirmation time ``at``."""
    if actor is not None:
        at = None
    activity = signup.activity
    if actor is not None and not can_organize(actor, activity.unit):
        raise PermissionDenied(_("您无权确认该活动的服务时长。"), field="signup")
    if signup.status != SignupStatus.CHECKED_OUT:
        raise ValidationError(
            _("只有已签退的报名才能确认服务时长。"), field="signup", code="not_checked_out"
        )
    confirmed = signup.minutes
    if minutes not in (None, ""):
        try:
            confirmed = int(str(minutes).strip())
        except ValueError:
            raise ValidationError(_("服务时长须为整数分钟。"), field="minutes") from None
        if not 0 <= confirmed <= activity.scheduled_minutes:
            raise ValidationError(
                _("服务时长须在0到%(max)d分钟之间。") % {"max": activity.scheduled_minutes},
                field="minutes",
            )
    with transaction.atomic():
        locked = Signup.objects.select_for_update().get(pk=signup.pk)
        if locked.status != SignupStatus.CHECKED_OUT:
            raise Conflict(_("该报名已被处理。"), field="signup")
        _move(locked, SignupStatus.CONFIRMED)
        locked.minutes = confirmed
        locked.confirmed_by = actor
        locked.confirmed_at = at or timeutils.now()
        locked.transfer = points_earn(
            person=signup.person,
            activity_type=activity.activity_type,
            minutes=confirmed,
            occurred_on=timeutils.local(activity.starts_at).date(),
            source_type="volunteers.signup",
            source_id=locked.pk,
            actor=actor,
            reason=activity.title,
            unit=activity.unit,
            rule=activity.points_rule,
            at=at,
        )
        locked.save(
            update_fields=[
                "status",
                "minutes",
                "confirmed_by",
                "confirmed_at",
                "transfer",
                "updated_at",
            ]
        )
    return locked


@transaction.atomic
def signup_reject(*, actor: Any, signup: Signup, note: str) -> Signup:
    if not can_organize(actor, signup.activity.unit):
        raise PermissionDenied(_("您无权确认该活动的服务时长。"), field="signup")
    note = _text(note, "note", 200)
    _move(signup, SignupStatus.REJECTED)
    signup.note = note
    signup.minutes = 0
    signup.save(update_fields=["status", "note", "minutes", "updated_at"])
    return signup


# A lifetime of volunteering is far below this; a larger number is a typing slip.
MAX_STAR_HOURS = 100_000


@transaction.atomic
def star_thresholds_set(*, actor: Any, unit: Unit, hours: list[Any]) -> StarThresholds:
    if not can_manage_teams(actor, unit):
        raise PermissionDenied(_("您无权设置该单元的星级标准。"), field="unit")
    if len(hours) != 5:
        raise ValidationError(_("须填写五个星级的时长。"), field="hours")
    try:
        values = [int(str(h).strip()) for h in hours]
    except ValueError:
        raise ValidationError(_("星级时长须为整数小时。"), field="hours") from None
    if values[0] <= 0 or any(b <= a for a, b in itertools.pairwise(values)):
        raise ValidationError(_("星级时长须逐级递增。"), field="hours")
    if values[-1] > MAX_STAR_HOURS:
        raise ValidationError(
            _("星级时长不能超过 %(n)d 小时。") % {"n": MAX_STAR_HOURS}, field="hours"
        )
    row, _created = StarThresholds.objects.update_or_create(
        unit=unit,
        defaults=dict(zip(("one", "two", "three", "four", "five"), values, strict=True)),
    )
    return row
