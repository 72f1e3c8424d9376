"""Writes in appeals: intake and routing, the closed loop's transitions, joint cases,
follows, ratings, merges, wishes, suggestions, mediation and the month-end review.

Every transition is one action (:func:`case_transition`): it checks the transition table
and the actor's right, changes the row with an UPDATE conditional on the version the
actor saw (a stale version is a :class:`Conflict`, never an overwrite), and writes the
event row, in one transaction.
"""

from __future__ import annotations

import datetime as dt
import hmac
import secrets
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils.translation import gettext as _

from doorstep.accounts.roles import Role
from doorstep.accounts.scoping import get_scoped_or_404, grants, scoped
from doorstep.core import crypto, timeutils
from doorstep.core.errors import (
    Conflict,
    DomainError,
    NotFound,
    PermissionDenied,
    ValidationError,
    full_clean,
)
from doorstep.core.geo import Point, haversine_m, validate_point
from doorstep.core.inputs import is_key, key_from_text
from doorstep.core.tree import lineage, rebase_paths, subtree_q
from doorstep.grids.models import Grid, GridHousehold, Wish, WishStatus
from doorstep.grids.services import wish_mark_taken_up
from doorstep.orgs.choices import GRASSROOTS_KINDS, UnitKind
from doorstep.orgs.models import Department, PartyOrg, Unit
from doorstep.people.idnumber import normalize_phone
from doorstep.people.models import ON_REGISTER, Household, Person

from . import notify
from .choices import (
    LEVEL_OF_COLOR,
    PROXY_CHANNELS,
    TRANSITIONS,
    UNSATISFIED_AT_MOST,
    Action,
    Actor,
    CaseKind,
    CaseState,
    CategoryChangeAction,
    Channel,
    ClaimantKind,
    Color,
    Level,
    MediationOutcome,
    TaskState,
    color_above,
)
from .conf import conf, sla
from .models import (
    TEXT_MAX,
    Case,
    CaseEvent,
    Category,
    CategoryChange,
    Follow,
    JointTask,
    Mediation,
    MediationSession,
    MonthlyClassification,
    Rating,
    WishClaim,
)
from .publicity import registry_names
from .rules import actor_kinds, can_supervise_unit, department_ids, handler_level
from .selectors import forget_intake_categories, intake_category

RECEIPT_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O, 1/I
RECEIPT_LENGTH = 8
COMPOUND_KINDS = {UnitKind.COMPOUND, UnitKind.NATURAL_VILLAGE}


def _clean(obj: Any, exclude: list[str] | None = None) -> None:
    full_clean(obj, exclude=exclude, validate_unique=False)


def new_receipt_code() -> str:
    return "".join(secrets.choice(RECEIPT_ALPHABET) for _i in range(RECEIPT_LENGTH))


def clean_text(value: Any, *, field: str, required: bool = True, limit: int = TEXT_MAX) -> str:
    """Stripped text within ``limit`` characters; HTML is kept as text (templates escape it)."""
    text = (value or "").strip() if isinstance(value, str) or value is None else None
    if text is None:
        raise ValidationError(_("应为文字。"), field=field)
    if required and not text:
        raise ValidationError(_("此项不能为空。"), field=field)
    if len(text) > limit:
        raise ValidationError(
            _("不能超过 %(limit)d 个字（现有 %(n)d 个）。") % {"limit": limit, "n": len(text)},
            field=field,
        )
    if "\x00" in text:
        raise ValidationError(_("含有不允许的字符。"), field=field)
    return text


# --- Locating and routing --------------------------------------------------------------


@dataclass(frozen=True)
class Location:
    unit: Unit  # the most specific place known
    community: Unit
    compound: Unit | None
    household: Household | None
    grid_id: int | None
    point: Point | None


def _ancestors(path: str) -> list[str]:
    from doorstep.core.tree import ancestor_paths

    return ancestor_paths(path)


def _point_in_ring(point: Point, ring: list[list[float]]) -> bool:
    inside = False
    x, y = point.lng, point.lat
    for i in range(len(ring)):
        x1, y1 = ring[i][0], ring[i][1]
        x2, y2 = ring[i - 1][0], ring[i - 1][1]
        if (y1 > y) != (y2 > y) and x < (x2 - x1) * (y - y1) / ((y2 - y1) or 1e-12) + x1:
            inside = not inside
    return inside


def _in_boundary(point: Point, boundary: dict | None) -> bool:
    if not boundary:
        return False
    geometry = boundary.get("geometry", boundary)
    kind, coords = geometry.get("type"), geometry.get("coordinates") or []
    polygons = [coords] if kind == "Polygon" else coords if kind == "MultiPolygon" else []
    return any(polygon and _point_in_ring(point, polygon[0]) for polygon in polygons)


def _nearest_place(point: Point) -> Unit | None:
    """The compound or community nearest to a map pick, if within the configured radius
    (a pick farther than that from every place is outside the jurisdiction)."""
    radius = conf("LOCATION_RADIUS_M")
    # A degree of latitude is ~111 km; a box first, then exact distances.
    box = radius / 111_000 * 1.5
    candidates = Unit.objects.filter(
        kind__in=sorted(GRASSROOTS_KINDS | COMPOUND_KINDS),
        is_active=True,
        lat__gte=point.lat - box,
        lat__lte=point.lat + box,
        lng__gte=point.lng - box * 1.3,
        lng__lte=point.lng + box * 1.3,
    )
    for unit in candidates:
        if _in_boundary(point, unit.boundary):
            return unit
    best = min(
        candidates,
        key=lambda u: (haversine_m(point, Point(u.lat, u.lng)), u.kind not in COMPOUND_KINDS),  # type: ignore[arg-type]
        default=None,
    )
    if best is None or haversine_m(point, Point(best.lat, best.lng)) > radius:  # type: ignore[arg-type]
        return None
    return best


# What routing and the case row need of a place and the places above it.
LOCATE_FIELDS = ("kind", "name", "path", "is_active")


def case_locate(
    *,
    household: Household | None = None,
    unit: Unit | int | None = None,
    lat: Any = None,
    lng: Any = None,
) -> Location:
    """Where a case is: from a household, a unit (compound, building or community; an
    active unit's primary key will do), or a map pick; the grid from the household's
    link or the grid boundary holding the point. The place and the places above it are
    read in one statement."""
    point = None
    if lat not in (None, "") or lng not in (None, ""):
        point = validate_point(lat, lng, field="location")
    if household is not None:
        place_pk = household.unit_id
    elif unit is not None:
        place_pk = unit if isinstance(unit, int) else unit.pk
    elif point is not None:
        found = _nearest_place(point)
        if found is None:
            raise ValidationError(_("该位置不在本辖区内。"), field="location")
        place_pk = found.pk
    else:
        raise ValidationError(_("请选择小区或在地图上标出位置。"), field="location")
    line = lineage(Unit, place_pk, fields=LOCATE_FIELDS)
    if not line or (isinstance(unit, int) and household is None and not line[-1].is_active):
        raise ValidationError(_("地点不存在。"), field="unit_id")
    place = line[-1]
    # Deeper places of a kind win over shallower ones (a compound inside a compound).
    above = {u.kind: u for u in line if u.kind in GRASSROOTS_KINDS | COMPOUND_KINDS}
    community = next((above[k] for k in sorted(GRASSROOTS_KINDS) if k in above), None)
    if community is None:
        raise ValidationError(_("该位置不属于任何社区或村。"), field="location")
    compound = next((above[k] for k in sorted(COMPOUND_KINDS) if k in above), None)
    grid_id = None
    if household is not None:
        grid_id = (
            GridHousehold.objects.filter(household=household).values_list("grid_id", flat=True)
        ).first()
    if grid_id is None and point is not None:
        grid_id = next(
            (
                g.pk
                for g in Grid.objects.filter(unit=community, is_active=True).only("id", "boundary")
                if _in_boundary(point, g.boundary)
            ),
            None,
        )
    if grid_id is None and household is None and place.kind not in GRASSROOTS_KINDS:
        # A building or compound all of whose linked households share one grid.
        grids = list(
            GridHousehold.objects.filter(place.subtree_q(field="household__unit__path"))
            .values_list("grid_id", flat=True)
            .distinct()
            .order_by("grid_id")[:2]
        )
        if len(grids) == 1:
            grid_id = grids[0]
    return Location(
        unit=place,
        community=community,
        compound=compound,
        household=household,
        grid_id=grid_id,
        point=point,
    )


def community_party_org(community: Unit) -> PartyOrg | None:
    return (
        PartyOrg.objects.filter(unit=community, is_active=True)
        .exclude(kind__in=["group", "functional"])
        .order_by("depth", "id")
        .first()
    )


def lead_department(case: Case) -> Department | None:
    """The department of the category's lead kind serving the nearest unit above."""
    kind = case.category.lead_department_kind
    if not kind:
        return None
    return (
        Department.objects.filter(
            kind=kind, is_active=True, unit__path__in=_ancestors(case.unit_path)
        )
        .order_by("-unit__depth", "id")
        .first()
    )


def _route(case: Case, color: str) -> None:
    """Set level, grid/party org and the joint flag for ``color`` (no save)."""
    level = LEVEL_OF_COLOR[Color(color)]
    if level == Level.GRID and case.grid_id is None:
        level = Level.COMMUNITY  # no grid here: the committees take it
    case.color, case.level = color, level
    if level == Level.PARTY_ORG:
        case.party_org = community_party_org(case.community)
        case.is_joint = True


def _open_joint_case(case: Case, *, at: dt.datetime) -> None:
    lead = lead_department(case)
    if lead is not None and not case.tasks.exists():
        JointTask.objects.create(
            case=case, department=lead, is_lead=True, deadline=case.deadline or at + sla("red")
        )


# --- Intake -----------------------------------------------------------------------------


def _category(category: Category | str | None) -> Category:
    code = category.code if isinstance(category, Category) else category
    found = intake_category(code) if isinstance(code, str) and code else None
    if found is None:
        raise ValidationError(_("未知的诉求类别。"), field="category")
    if found.has_children:  # type: ignore[attr-defined]
        raise ValidationError(_("请选择具体的小类。"), field="category")
    return found


def _may_enter_for_others(actor: Any, community: Unit) -> bool:
    staff_roles = {g.role for g in grants(actor)} - {Role.RESIDENT, Role.OUTLET_CLERK}
    return bool(staff_roles) and scoped(actor, Unit).filter(pk=community.pk).exists()


def case_submit(
    *,
    actor: Any,
    kind: str,
    category: Category | str | None,
    channel: str,
    text: Any,
    household: Household | None = None,
    unit: Unit | int | None = None,
    lat: Any = None,
    lng: Any = None,
    reporter_person: Person | None = None,
    idempotency_key: str = "",
    wish: Wish | None = None,
    photos: list[Any] | None = None,
    at: dt.datetime | None = None,
    reporter_phone: str = "",
) -> Case:
    """Take in an appeal and route it. The same idempotency key from the same submitter
    gives back the case the first call made (with ``replayed`` set on it).

    Everything is read and checked first; the writes (case, event, follow, photos,
    notifications) then happen in one short transaction, so that concurrent intakes
    hold their write locks as briefly as possible."""
    key = (idempotency_key or "").strip()
    if len(key) > 64:
        raise ValidationError(_("幂等键不能超过64个字符。"), field="idempotency_key")
    submitter = actor if getattr(actor, "is_authenticated", False) else None
    # A retry with the same key is caught by the unique constraint at insert time (and
    # answered with the first case below): no lookup before every first submission.
    if kind not in CaseKind.values:
        raise ValidationError(_("未知的诉求类型。"), field="kind")
    if channel not in Channel.values:
        raise ValidationError(_("未知的渠道。"), field="channel")
    cat = _category(category)
    body = clean_text(text, field="text")
    from .photos import clean_photo, photo_attach

    cleaned_photos = [clean_photo(upload) for upload in photos or []]
    where = case_locate(household=household, unit=unit, lat=lat, lng=lng)
    reporter_user = None
    if channel == Channel.ONLINE:
        if submitter is None:
            raise PermissionDenied(_("请先登录。"))
        reporter_user = submitter
        reporter_person = (
            Person.objects.filter(user=submitter).only("id", "name", "phone_last4").first()
        )
    elif channel in PROXY_CHANNELS:
        if submitter is None or not _may_enter_for_others(submitter, where.community):
            raise PermissionDenied(_("只有负责该社区/村的工作人员可以代为登记诉求。"))
        if reporter_person is not None:
            reporter_user = reporter_person.user
    last4 = ""
    if channel in PROXY_CHANNELS:
        if reporter_phone and reporter_phone.strip():
            last4 = normalize_phone(reporter_phone, field="reporter_phone")[-4:]
        elif reporter_person is not None:
            last4 = reporter_person.phone_last4
    moment = at or timezone_now()
    receipt_code = new_receipt_code()
    # Every field was validated above (text, coordinates, choices) and every related
    # row was read from the database, so no full_clean(): it would re-query each
    # foreign key and constraint, a dozen round trips per intake.
    case = Case(
        kind=kind,
        category=cat,
        channel=channel,
        text=body,
        lat=where.point.lat if where.point else None,
        lng=where.point.lng if where.point else None,
        unit=where.unit,
        unit_path=where.unit.path,
        community=where.community,
        compound=where.compound,
        household=where.household,
        grid_id=where.grid_id,
        state=CaseState.SUBMITTED,
        clock_started_at=moment,
        deadline=moment + category_deadline(cat),
        receipt_code=receipt_code,
        receipt_check=receipt_check_of(receipt_code, last4) if last4 else "",
        idempotency_key=key if submitter is not None else "",
        submitted_by=submitter,
        reporter_user=reporter_user,
        reporter_person=reporter_person,
        wish=wish,
    )
    _route(case, cat.default_color)
    if cat.default_level == Level.PARTY_ORG and case.level != Level.PARTY_ORG:
        _route(case, Color.RED)
    followers = {reporter_user.pk} if reporter_user else set()
    # Read who is told before the write transaction opens, to keep it short.
    staff = notify.responsible_user_ids(case) - followers
    try:
        with transaction.atomic():
            case.save(force_insert=True)
            CaseEvent.objects.create(
                case=case,
                actor=submitter,
                action=Action.SUBMIT,
                at=moment,
                from_state=CaseState.SUBMITTED,
                to_state=CaseState.SUBMITTED,
                from_color=case.color,
                to_color=case.color,
                data={"channel": channel, "level": case.level},
            )
            if case.is_joint:
                _open_joint_case(case, at=moment)
            for cleaned in cleaned_photos:
                photo_attach(case=case, cleaned=cleaned)
            notify.case_received(case, followers=followers, staff=staff)
    except IntegrityError:
        if key and submitter is not None:
            # A concurrent submission with the same key won the race.
            existing = Case.objects.get(submitted_by=submitter, idempotency_key=key)
            existing.replayed = True  # type: ignore[attr-defined]
            return existing
        raise
    return case


def timezone_now() -> dt.datetime:
    return timeutils.now()


def category_deadline(category: Category) -> dt.timedelta:
    """The time a new case of ``category`` gets: the category's own, else its color's."""
    if category.deadline_hours:
        return dt.timedelta(hours=category.deadline_hours)
    return sla(category.default_color)


def follow_subtree_move(*, unit: Unit, old_path: str, new_path: str, **_signal: Any) -> int:
    """A unit moved in the tree (``orgs.signals.subtree_moved``): the cases placed in
    its subtree, and their ratings, take the new path in the same transaction, so that
    the staff of the new parent see them and the old parent's no longer do. When the
    moved unit lies below a community (a compound moved to another community, a building
    to another compound), its cases also take the community and compound they would be
    given if reported now, so that they are routed and classified there. Returns the
    rows whose path changed."""
    changed = sum(
        rebase_paths(model.objects.all(), "unit_path", old_path, new_path)
        for model in (Case, Rating)
    )
    if not changed:
        return changed
    *outside, moved = lineage(Unit, unit.pk, fields=LOCATE_FIELDS)
    cases = Case.objects.filter(subtree_q(new_path, field="unit_path"))
    for kinds, field in ((GRASSROOTS_KINDS, "community"), (COMPOUND_KINDS, "compound")):
        if moved.kind in kinds:
            continue  # the cases' place of this kind is the moved unit or inside it
        # As case_locate picks it: the deepest unit of the kind above the moved one.
        above = {u.kind: u for u in outside if u.kind in kinds}
        if not above:
            continue  # none above: every case's is inside the moved subtree
        place = next(above[k] for k in sorted(kinds) if k in above)
        cases.exclude(subtree_q(new_path, field=f"{field}__path")).exclude(
            **{f"{field}_id": place.pk}
        ).update(**{field: place})
        if field == "community":
            # A grid is drawn within one community: the old one's no longer covers the
            # place, and its members no longer see these cases (grids unlinks the
            # households the same way).
            cases.filter(grid__isnull=False).exclude(grid__unit_id=place.pk).update(grid=None)
    return changed


def receipt_check_of(receipt_code: str, last4: str) -> str:
    return crypto.blind_index(f"appeals-receipt:{receipt_code.upper()}:{last4}")


@transaction.atomic
def wishes_to_cases(*, actor: Any, visit: Any) -> list[Case]:
    """Turn the wishes a visit brought back into cases of kind wish (once each)."""
    made = []
    for wish in Wish.objects.filter(visit=visit, case__isnull=True).select_related("household"):
        made.append(wish_to_case(actor=actor, wish=wish))
    return made


@transaction.atomic
def wish_to_case(*, actor: Any, wish: Wish) -> Case:
    existing = Case.objects.filter(wish=wish).first()
    if existing is not None:
        return existing
    if wish.status == WishStatus.WITHDRAWN:
        raise ValidationError(_("这个心愿已撤回，不能再转为诉求。"), field="wish")
    category = Category.objects.filter(code="wish", is_active=True).first()
    head = Person.objects.filter(household=wish.household_id).order_by("id").first()
    case = case_submit(
        actor=actor,
        kind=CaseKind.WISH,
        category=category,
        channel=Channel.VISIT,
        text=wish.text,
        household=wish.household,
        reporter_person=head,
        idempotency_key=f"wish-{wish.pk}",
        wish=wish,
    )
    wish_mark_taken_up(wish=wish)
    return case


# --- Transitions ------------------------------------------------------------------------


def _load_for_action(actor: Any, case: Case | int) -> Case:
    case_id = case.pk if isinstance(case, Case) else case
    if actor is None:
        found = Case.objects.select_related("category", "community").filter(pk=case_id).first()
        if found is None:
            raise NotFound(_("未找到该诉求。"), field="case")
        return found
    try:
        return get_scoped_or_404(
            actor, Case, Case.objects.select_related("category", "community"), pk=case_id
        )
    except Exception as exc:  # Http404
        raise NotFound(_("未找到该诉求。"), field="case") from exc


def _check_version(case: Case, version: Any) -> int:
    try:
        expected = int(version)
    except (TypeError, ValueError):
        raise ValidationError(_("缺少版本号。"), field="version") from None
    if expected != case.version:
        raise Conflict(
            _("该诉求已被他人更新（当前版本 %(current)d，您看到的是 %(seen)d），请刷新后再操作。")
            % {"current": case.version, "seen": expected},
            field="version",
        )
    return expected


def _apply(
    case: Case,
    *,
    actor: Any,
    action: str,
    version: int,
    to_state: str,
    changes: dict[str, Any] | None = None,
    note: str = "",
    at: dt.datetime | None = None,
    is_public: bool = True,
    data: dict[str, Any] | None = None,
) -> Case:
    """Conditional UPDATE on the version, then the event row. Raises Conflict if another
    writer got there first."""
    moment = at or timezone_now()
    values = dict(changes or {})
    values["state"] = to_state
    updated = Case.objects.filter(pk=case.pk, version=version).update(
        version=F("version") + 1, updated_at=timezone_now(), **values
    )
    if updated != 1:
        raise Conflict(_("该诉求已被他人更新，请刷新后再操作。"), field="version")
    from_state, from_color = case.state, case.color
    for name, value in values.items():
        setattr(case, name, value)
    case.version = version + 1
    CaseEvent.objects.create(
        case=case,
        actor=actor,
        action=action,
        at=moment,
        from_state=from_state,
        to_state=to_state,
        from_color=from_color,
        to_color=case.color,
        note=note,
        is_public=is_public,
        data=data or {},
    )
    return case


def _transition(actor: Any, case: Case, action: str) -> str:
    transition = TRANSITIONS[action]
    if case.state not in transition.sources:
        raise ValidationError(
            _("诉求当前状态为“%(state)s”，不能%(action)s。")
            % {"state": CaseState(case.state).label, "action": Action(action).label},
            field="action",
            code="invalid_transition",
        )
    if not actor_kinds(actor, case) & transition.actors:
        raise PermissionDenied(
            _("您无权对该诉求执行“%(action)s”。") % {"action": Action(action).label}
        )
    return transition.target


def _restart_clock(case: Case, color: str, at: dt.datetime) -> dict[str, Any]:
    return {"clock_started_at": at, "deadline": at + sla(color), "reminded_deadline": None}


def on_time(deadline: dt.datetime | None, moment: dt.datetime) -> bool | None:
    """Whether a case resolved at ``moment`` met the deadline then in force; unknown
    when it had none."""
    return None if deadline is None else moment <= deadline


@transaction.atomic
def case_transition(
    *,
    actor: Any,
    case: Case | int,
    action: str,
    version: Any,
    note: str = "",
    assignee: Any = None,
    target: Case | int | None = None,
    result: str = "",
    score: Any = None,
    comment: str = "",
    request: Any = None,
) -> Case:
    """Take one action of the transition table on a case, or refuse it with nothing
    changed."""
    if action not in TRANSITIONS:
        raise ValidationError(_("未知的操作。"), field="action")
    row = _load_for_action(actor, case)
    expected = _check_version(row, version)
    to_state = _transition(actor, row, action)
    note = clean_text(note, field="note", required=action in (Action.REJECT,))
    changes: dict[str, Any] = {}
    moment = timezone_now()
    if action == Action.ASSIGN:
        changes["assignee"] = _valid_assignee(row, assignee)
    elif action == Action.RESOLVE:
        changes.update(_result(row, clean_text(result, field="result")))
        changes["resolved_at"] = moment
        changes["resolved_on_time"] = on_time(row.deadline, moment)
        changes["deadline"] = None
    elif action == Action.REJECT:
        changes["closed_at"] = moment
        changes["deadline"] = None
    elif action == Action.MERGE:
        return _merge(actor, row, expected, target, note)
    elif action == Action.RATE:
        return _rate(actor, row, expected, score, comment)
    elif action == Action.CLOSE:
        changes["closed_at"] = moment
    elif action == Action.EXPIRE:
        changes["closed_at"] = moment
        changes["closed_unrated"] = True
    elif action == Action.REOPEN:
        return _reopen(row, expected, moment)
    case_obj = _apply(
        row,
        actor=actor,
        action=action,
        version=expected,
        to_state=to_state,
        changes=changes,
        note=note,
        at=moment,
    )
    notify.case_changed(case_obj, action)
    return case_obj


def _result(case: Case, text: str) -> dict[str, Any]:
    """A result and the registered residents of the case's community it names (masked
    wherever the result is published)."""
    community = Unit.objects.filter(pk=case.community_id).values_list("path", flat=True).first()
    names = registry_names(text, within_path=community) if community else []
    return {"result": text, "result_names": names}


def result_names_refresh(*, every: bool = False, batch_size: int = 500) -> int:
    """Look the registered residents named in written results up again (``every``), or
    only for the results that have none kept (written before ``result_names`` existed),
    so that the public pages mask them too. A derived column, not an edit: the case's
    version and events stay as they are. Returns the number of cases whose names changed."""
    qs = Case.objects.exclude(result="")
    if not every:
        qs = qs.filter(result_names=[])
    changed = 0
    last = 0
    while True:
        rows = list(
            qs.filter(pk__gt=last)
            .order_by("pk")
            .values_list("pk", "result", "community__path", "result_names")[:batch_size]
        )
        if not rows:
            return changed
        for pk, text, community_path, kept in rows:
            names = registry_names(text, within_path=community_path) if community_path else []
            if names != kept:
                Case.objects.filter(pk=pk).update(result_names=names)
                changed += 1
        last = rows[-1][0]


def _valid_assignee(case: Case, assignee: Any) -> Any:
    from doorstep.accounts.models import User

    if assignee is None or assignee == "":
        raise ValidationError(_("请选择承办人。"), field="assignee")
    user = assignee if isinstance(assignee, User) else User.objects.filter(pk=assignee).first()
    if user is None or not user.is_active:
        raise ValidationError(_("承办人不存在。"), field="assignee")
    if handler_level(user, case) is None:
        raise ValidationError(_("承办人无权办理该诉求。"), field="assignee")
    return user


def _merge(actor: Any, case: Case, version: int, target: Any, note: str) -> Case:
    if target in (None, ""):
        raise ValidationError(_("请选择要合并到的诉求。"), field="target")
    target_id = target.pk if isinstance(target, Case) else target
    key = target_id if isinstance(target_id, int) else key_from_text(str(target_id))
    into = scoped(actor, Case).filter(pk=key).first() if key is not None and is_key(key) else None
    if into is None:
        raise ValidationError(_("要合并到的诉求不存在。"), field="target")
    if into.pk == case.pk or into.state not in (
        CaseState.SUBMITTED,
        CaseState.ACCEPTED,
        CaseState.ASSIGNED,
        CaseState.IN_PROGRESS,
    ):
        raise ValidationError(_("只能合并到另一件未办结的诉求。"), field="target")
    merged = _apply(
        case,
        actor=actor,
        action=Action.MERGE,
        version=version,
        to_state=CaseState.MERGED,
        changes={"merged_into": into, "closed_at": timezone_now(), "deadline": None},
        note=note,
        data={"into": into.pk, "into_receipt": into.receipt_code},
    )
    followers = set(Follow.objects.filter(case=case).values_list("user_id", flat=True))
    if case.reporter_user_id:
        followers.add(case.reporter_user_id)
    known = set(Follow.objects.filter(case=into).values_list("user_id", flat=True))
    Follow.objects.bulk_create([Follow(case=into, user_id=u) for u in sorted(followers - known)])
    CaseEvent.objects.create(
        case=into,
        actor=actor,
        action=Action.NOTE,
        at=timezone_now(),
        from_state=into.state,
        to_state=into.state,
        from_color=into.color,
        to_color=into.color,
        note=_("合并了重复诉求 %(code)s。") % {"code": case.receipt_code},
        data={"merged": case.pk},
    )
    notify.case_changed(merged, Action.MERGE)
    return merged


def _rate(actor: Any, case: Case, version: int, score: Any, comment: Any, via: str = "") -> Case:
    try:
        value = int(score)
    except (TypeError, ValueError):
        raise ValidationError(_("满意度应为1到5分。"), field="score") from None
    if not 1 <= value <= 5:
        raise ValidationError(_("满意度应为1到5分。"), field="score")
    text = clean_text(comment, field="comment", required=False, limit=500)
    moment = timezone_now()
    Rating.objects.create(
        case=case, user=actor, score=value, comment=text, unit_path=case.unit_path
    )
    case = _apply(
        case,
        actor=actor,
        action=Action.RATE,
        version=version,
        to_state=CaseState.RATED,
        changes={"rating": value},
        note=text,
        at=moment,
        data={"score": value, "via": via} if via else {"score": value},
    )
    if value <= UNSATISFIED_AT_MOST:
        case = _reopen(case, case.version, moment)
    else:
        case = _apply(
            case,
            actor=None,
            action=Action.CLOSE,
            version=case.version,
            to_state=CaseState.CLOSED,
            changes={"closed_at": moment},
            at=moment,
        )
    notify.case_changed(case, Action.RATE)
    return case


def _reopen(case: Case, version: int, moment: dt.datetime) -> Case:
    """Send a rated case back one level up (grid → committees → party organization),
    with a new clock for its new color."""
    color = color_above(case.color)
    probe = Case(**{f.attname: getattr(case, f.attname) for f in Case._meta.concrete_fields})
    _route(probe, color)
    if probe.level == case.level and probe.level != Level.PARTY_ORG:
        # The level above even when the color alone would not move it (no grid here).
        _route(probe, Color.RED)
    changes = {
        "color": probe.color,
        "level": probe.level,
        "party_org": probe.party_org,
        "is_joint": probe.is_joint,
        "resolved_at": None,
        "resolved_on_time": None,
        "assignee": None,
        **_restart_clock(case, probe.color, moment),
    }
    case = _apply(
        case,
        actor=None,
        action=Action.REOPEN,
        version=version,
        to_state=CaseState.ACCEPTED,
        changes=changes,
        note=_("居民不满意，转上一级重新办理。"),
        at=moment,
        data={"level": probe.level},
    )
    if case.is_joint:
        _open_joint_case(case, at=moment)
    return case


def case_expire_unrated(*, case: Case, at: dt.datetime) -> bool:
    """Close a resolved case nobody rated (system action); False if it moved meanwhile."""
    try:
        with transaction.atomic():
            _apply(
                case,
                actor=None,
                action=Action.EXPIRE,
                version=case.version,
                to_state=CaseState.CLOSED,
                changes={"closed_at": at, "closed_unrated": True},
                at=at,
                note=_("超过评价期限未评价，自动关闭。"),
            )
    except Conflict:
        return False
    return True


def case_escalate(*, case: Case, at: dt.datetime) -> bool:
    """Raise an overdue case one color (green → yellow → red) with the clock restarted
    at the deadline it missed; False if another writer moved it first. A red case that
    is overdue stays red and is reported."""
    color = color_above(case.color)
    probe = Case(**{f.attname: getattr(case, f.attname) for f in Case._meta.concrete_fields})
    _route(probe, color)
    changes = {
        "color": probe.color,
        "level": probe.level,
        "party_org": probe.party_org,
        "is_joint": probe.is_joint,
        "escalations": case.escalations + 1,
        **_restart_clock(case, probe.color, at),
    }
    try:
        with transaction.atomic():
            _apply(
                case,
                actor=None,
                action=Action.ESCALATE,
                version=case.version,
                to_state=case.state,
                changes=changes,
                at=at,
                note=_("超过办理期限，自动升级。"),
                data={"missed_deadline": at.isoformat(), "level": probe.level},
            )
            if case.is_joint:
                _open_joint_case(case, at=at)
    except Conflict:
        return False
    notify.case_changed(case, Action.ESCALATE)
    return True


def case_remind(*, case: Case, at: dt.datetime) -> bool:
    """Remind the responsible staff once per deadline (conditional on the deadline)."""
    with transaction.atomic():
        updated = (
            Case.objects.filter(pk=case.pk, version=case.version, deadline=case.deadline)
            .filter(Q(reminded_deadline__isnull=True) | ~Q(reminded_deadline=F("deadline")))
            .update(reminded_deadline=F("deadline"))
        )
        if not updated:
            return False
        CaseEvent.objects.create(
            case=case,
            action=Action.REMIND,
            at=at,
            from_state=case.state,
            to_state=case.state,
            from_color=case.color,
            to_color=case.color,
            is_public=False,
            data={"deadline": case.deadline.isoformat() if case.deadline else None},
        )
    notify.case_reminder(case)
    return True


@transaction.atomic
def case_note(
    *,
    actor: Any,
    case: Case | int,
    note: Any,
    public: bool = True,
    data: dict[str, Any] | None = None,
) -> CaseEvent:
    """Add a note to a case's history without moving it: by its handlers or its reporter,
    or by an integration (``actor=None``, e.g. an update relayed through Open311)."""
    row = _load_for_action(actor, case)
    if actor is not None and not actor_kinds(actor, row) & {Actor.HANDLER, Actor.REPORTER}:
        raise PermissionDenied(_("您无权为该诉求添加记录。"))
    text = clean_text(note, field="note")
    return CaseEvent.objects.create(
        case=row,
        actor=actor,
        action=Action.NOTE,
        at=timezone_now(),
        from_state=row.state,
        to_state=row.state,
        from_color=row.color,
        to_color=row.color,
        note=text,
        is_public=public,
        data=data or {},
    )


# --- Joint cases ---------------------------------------------------------------------------


@transaction.atomic
def joint_task_add(
    *,
    actor: Any,
    case: Case | int,
    department: Department,
    is_lead: bool = False,
    instructions: str = "",
    deadline: dt.datetime | None = None,
) -> JointTask:
    """The party organization (or the levels above) brings a department into a red case."""
    row = _load_for_action(actor, case)
    if row.level != Level.PARTY_ORG or row.state not in (
        CaseState.SUBMITTED,
        CaseState.ACCEPTED,
        CaseState.ASSIGNED,
        CaseState.IN_PROGRESS,
    ):
        raise ValidationError(_("只有办理中的红色诉求可以会办。"), field="case")
    level = handler_level(actor, row)
    if level is None or level < 2:
        raise PermissionDenied(_("只有党组织书记及以上可以组织会办。"))
    if not scoped(actor, Department).filter(pk=department.pk).exists():
        raise ValidationError(_("该部门不在您可以交办的范围内。"), field="department")
    if row.tasks.filter(department=department).exists():
        raise ValidationError(_("该部门已在本案会办中。"), field="department")
    if is_lead and row.tasks.filter(is_lead=True).exists():
        raise ValidationError(_("一个会办案件只能有一个牵头部门。"), field="is_lead")
    moment = timezone_now()
    due = deadline or row.deadline or moment + sla("red")
    if due <= moment:
        raise ValidationError(_("答复期限应晚于现在。"), field="deadline")
    task = JointTask(
        case=row,
        department=department,
        is_lead=is_lead,
        instructions=clean_text(instructions, field="instructions", required=False, limit=500),
        deadline=due,
    )
    _clean(task)
    task.save()
    if not row.is_joint:
        Case.objects.filter(pk=row.pk).update(is_joint=True)
    CaseEvent.objects.create(
        case=row,
        actor=actor,
        action=Action.TASK,
        at=moment,
        from_state=row.state,
        to_state=row.state,
        from_color=row.color,
        to_color=row.color,
        note=_("交%(role)s部门：%(name)s")
        % {"role": _("牵头") if is_lead else _("协办"), "name": department.name},
        data={"department": department.pk, "lead": is_lead},
    )
    notify.task_assigned(task)
    return task


@transaction.atomic
def joint_task_reply(*, actor: Any, task_id: int, reply: Any) -> JointTask:
    """A department answers its task. Only its own staff may."""
    task = scoped(actor, JointTask).select_related("case", "department").filter(pk=task_id).first()
    if task is None:
        raise NotFound(_("未找到该会办任务。"), field="task")
    if task.department_id not in department_ids(actor):
        raise PermissionDenied(_("只有该部门的工作人员可以答复。"))
    text = clean_text(reply, field="reply")
    moment = timezone_now()
    updated = JointTask.objects.filter(pk=task.pk, state=TaskState.OPEN).update(
        state=TaskState.REPLIED, reply=text, replied_at=moment, replied_by=actor, updated_at=moment
    )
    if not updated:
        raise Conflict(_("该任务已答复。"), field="task")
    case = task.case
    CaseEvent.objects.create(
        case=case,
        actor=actor,
        action=Action.TASK,
        at=moment,
        from_state=case.state,
        to_state=case.state,
        from_color=case.color,
        to_color=case.color,
        note=_("%(name)s 已答复：%(reply)s") % {"name": task.department.name, "reply": text},
        data={"department": task.department_id, "reply": True},
    )
    task.refresh_from_db()
    return task


# --- Follows ---------------------------------------------------------------------------------


def case_follow(*, actor: Any, case: Case) -> Follow:
    """Follow a case one may see or that is on the public board."""
    from .selectors import public_cases

    if not getattr(actor, "is_authenticated", False):
        raise PermissionDenied(_("请先登录。"))
    visible = (
        scoped(actor, Case).filter(pk=case.pk).exists()
        or public_cases().filter(pk=case.pk).exists()
    )
    if not visible:
        raise NotFound(_("未找到该诉求。"), field="case")
    follow, _created = Follow.objects.get_or_create(case=case, user=actor)
    return follow


def case_unfollow(*, actor: Any, case: Case) -> None:
    Follow.objects.filter(case=case, user=actor).delete()


def notifications_mark_read(*, actor: Any) -> int:
    from .models import Notification

    return scoped(actor, Notification).filter(read_at__isnull=True).update(read_at=timezone_now())


# --- Wishes, suggestions, disputes -------------------------------------------------------


def _claimant_kind(actor: Any, kind: str) -> str:
    if kind not in ClaimantKind.values:
        raise ValidationError(_("未知的认领人身份。"), field="claimant_kind")
    if kind == ClaimantKind.PARTNER and Role.PARTNER not in {g.role for g in grants(actor)}:
        raise PermissionDenied(_("只有社区合伙人可以以合伙人身份认领。"))
    if kind == ClaimantKind.PARTY_MEMBER:
        person = Person.objects.filter(user=actor).first()
        if person is None or not hasattr(person, "party_member"):
            raise PermissionDenied(_("只有登记在册的党员可以以党员身份认领。"))
    return kind


@transaction.atomic
def wish_claim(*, actor: Any, case: Case, claimant_kind: str, label: str = "") -> WishClaim:
    """Claim (认领) an open wish from the wish wall."""
    from .selectors import wish_wall

    if not getattr(actor, "is_authenticated", False):
        raise PermissionDenied(_("请先登录。"))
    row = wish_wall().select_for_update().filter(pk=case.pk).first()
    if row is None or row.state in (CaseState.RESOLVED, CaseState.RATED, CaseState.CLOSED):
        raise ValidationError(_("该心愿不在心愿墙上或已实现。"), field="case")
    kind = _claimant_kind(actor, claimant_kind)
    if WishClaim.objects.filter(case=row, withdrawn_at__isnull=True).exists():
        raise Conflict(_("该心愿已被认领。"), field="case")
    shown = clean_text(label or str(actor), field="label", limit=50)
    claim = WishClaim(case=row, claimant=actor, claimant_kind=kind, claimant_label=shown)
    try:
        with transaction.atomic():
            claim.save()
    except IntegrityError:
        raise Conflict(_("该心愿已被认领。"), field="case") from None
    CaseEvent.objects.create(
        case=row,
        actor=actor,
        action=Action.NOTE,
        at=timezone_now(),
        from_state=row.state,
        to_state=row.state,
        from_color=row.color,
        to_color=row.color,
        note=_("心愿已被%(who)s认领。") % {"who": shown},
        data={"claim": claim.pk},
    )
    return claim


@transaction.atomic
def wish_fulfil(*, actor: Any, claim_id: int, note: str = "") -> WishClaim:
    """The claimant reports the wish fulfilled; the wish case is resolved with it."""
    claim = WishClaim.objects.select_related("case").filter(pk=claim_id).first()
    if claim is None or claim.claimant_id != getattr(actor, "pk", None):
        raise NotFound(_("未找到该认领。"), field="claim")
    if claim.fulfilled_at or claim.withdrawn_at:
        raise ValidationError(_("该认领已结束。"), field="claim")
    text = clean_text(note, field="note", required=False, limit=500)
    moment = timezone_now()
    claim.fulfilled_at, claim.note = moment, text
    claim.save(update_fields=["fulfilled_at", "note", "updated_at"])
    case = claim.case
    if case.state in (
        CaseState.SUBMITTED,
        CaseState.ACCEPTED,
        CaseState.ASSIGNED,
        CaseState.IN_PROGRESS,
    ):
        _apply(
            case,
            actor=actor,
            action=Action.RESOLVE,
            version=case.version,
            to_state=CaseState.RESOLVED,
            changes={
                **_result(
                    case,
                    _("心愿已由%(who)s帮助实现。%(note)s")
                    % {"who": claim.claimant_label, "note": text},
                ),
                "resolved_at": moment,
                "resolved_on_time": on_time(case.deadline, moment),
                "deadline": None,
            },
            at=moment,
        )
        notify.case_changed(case, Action.RESOLVE)
    return claim


@transaction.atomic
def suggestion_mark(
    *,
    actor: Any,
    case: Case | int,
    version: Any,
    adopted: bool,
    problem_solved: bool = False,
    note: str = "",
) -> Case:
    """Mark a suggestion (金点子) adopted or not and whether it solved the problem it
    named; ``note`` says which problem, and goes into the case's history."""
    row = _load_for_action(actor, case)
    if row.kind != CaseKind.SUGGESTION:
        raise ValidationError(_("只有金点子可以标记采纳。"), field="case")
    expected = _check_version(row, version)
    if handler_level(actor, row) is None or handler_level(actor, row) < 1:  # type: ignore[operator]
        raise PermissionDenied(_("只有社区/村工作人员及以上可以标记金点子。"))
    if problem_solved and not adopted:
        raise ValidationError(_("未采纳的金点子不能标记为解决了问题。"), field="problem_solved")
    detail = clean_text(note, field="note", required=False, limit=500)
    summary = _("金点子已采纳。") if adopted else _("金点子未采纳。")
    if problem_solved:
        summary = _("金点子已采纳，解决了问题。")
    return _apply(
        row,
        actor=actor,
        action=Action.NOTE,
        version=expected,
        to_state=row.state,
        changes={"adopted": bool(adopted), "problem_solved": bool(problem_solved)},
        note=f"{summary}{detail}",
        data={"adopted": bool(adopted), "problem_solved": bool(problem_solved)},
    )


def _case_note_event(case: Case, *, actor: Any, note: str, public: bool, data: dict) -> None:
    CaseEvent.objects.create(
        case=case,
        actor=actor,
        action=Action.NOTE,
        at=timezone_now(),
        from_state=case.state,
        to_state=case.state,
        from_color=case.color,
        to_color=case.color,
        note=note,
        is_public=public,
        data=data,
    )


@transaction.atomic
def mediation_assign(
    *,
    actor: Any,
    case: Case | int,
    mediator: Any = None,
    mediator_person: Person | None = None,
    parties: str,
) -> Mediation:
    """Assign the mediator (和事佬) of a dispute and name the parties; a mediation that
    has concluded keeps its mediator. The mediator is a user, or a resident of the
    registry the actor may see (``mediator_person``) who has no account: the staff then
    record that mediator's sessions and outcome."""
    row = _load_for_action(actor, case)
    if row.kind != CaseKind.DISPUTE:
        raise ValidationError(_("只有矛盾纠纷可以安排调解。"), field="case")
    if not can_supervise_unit(actor, row.community) and handler_level(actor, row) is None:
        raise PermissionDenied(_("您无权为该纠纷安排调解员。"))
    if mediator is not None and mediator_person is not None:
        raise ValidationError(_("调解员只能选一位：账号或居民，不能两者都填。"), field="mediator")
    if mediator_person is not None:
        visible = scoped(actor, Person).filter(ON_REGISTER, pk=mediator_person.pk)
        if not visible.exists():
            raise ValidationError(_("找不到这位居民。"), field="mediator_person")
    elif mediator is None or not getattr(mediator, "is_active", False):
        raise ValidationError(_("请选择调解员。"), field="mediator")
    text = clean_text(parties, field="parties", limit=300)
    chosen = {"mediator": mediator, "mediator_person": mediator_person, "parties": text}
    mediation, created = Mediation.objects.select_for_update().get_or_create(
        case=row, defaults=chosen
    )
    if not created:
        if mediation.outcome != MediationOutcome.PENDING:
            raise Conflict(_("调解已结束，不能再更换调解员。"), field="mediator")
        mediation.mediator, mediation.mediator_person = mediator, mediator_person
        mediation.parties = text
        mediation.save(update_fields=["mediator", "mediator_person", "parties", "updated_at"])
    _case_note_event(
        row,
        actor=actor,
        note=_("已安排调解员。"),
        public=True,
        data={"mediator": mediator.pk}
        if mediator is not None
        else {"mediator_person": mediator_person.pk if mediator_person else None},
    )
    return mediation


def _may_mediate(actor: Any, mediation: Mediation) -> bool:
    return mediation.mediator_id == getattr(actor, "pk", None) or can_supervise_unit(
        actor, mediation.case.community
    )


@transaction.atomic
def mediation_session_log(
    *,
    actor: Any,
    mediation: Mediation,
    held_at: dt.datetime,
    place: str = "",
    attendees: str = "",
    notes: str = "",
) -> MediationSession:
    """Log one mediation session with the parties (its record stays internal)."""
    if not _may_mediate(actor, mediation):
        raise PermissionDenied(_("只有调解员可以登记调解会。"))
    if mediation.outcome != MediationOutcome.PENDING:
        raise ValidationError(_("调解已结束，不能再登记调解会。"), field="held_at")
    if not isinstance(held_at, dt.datetime):
        raise ValidationError(_("请填写调解时间。"), field="held_at")
    if held_at > timezone_now():
        raise ValidationError(_("调解时间不能晚于现在。"), field="held_at")
    if held_at < mediation.case.created_at - dt.timedelta(days=1):
        raise ValidationError(_("调解时间不能早于纠纷登记时间。"), field="held_at")
    session = MediationSession(
        mediation=mediation,
        held_at=held_at,
        place=clean_text(place, field="place", required=False, limit=100),
        attendees=clean_text(attendees, field="attendees", required=False, limit=300),
        notes=clean_text(notes, field="notes", required=False),
    )
    session.save()
    _case_note_event(
        mediation.case,
        actor=actor,
        note=_("召开调解会。"),
        public=False,
        data={"mediation_session": session.pk},
    )
    return session


@transaction.atomic
def mediation_conclude(
    *, actor: Any, mediation: Mediation, outcome: str, agreement: str = ""
) -> Mediation:
    """Record the outcome of a mediation (agreement or not) and the agreement text,
    once. The case's public history says only whether they agreed."""
    if not _may_mediate(actor, mediation):
        raise PermissionDenied(_("只有调解员可以登记调解结果。"))
    if outcome not in (MediationOutcome.AGREEMENT, MediationOutcome.NO_AGREEMENT):
        raise ValidationError(_("请选择调解结果。"), field="outcome")
    text = clean_text(agreement, field="agreement", required=outcome == MediationOutcome.AGREEMENT)
    if not mediation.sessions.exists():
        raise ValidationError(_("请先登记至少一次调解会。"), field="outcome")
    moment = timezone_now()
    updated = Mediation.objects.filter(pk=mediation.pk, outcome=MediationOutcome.PENDING).update(
        outcome=outcome, agreement=text, concluded_at=moment, updated_at=moment
    )
    if not updated:
        raise Conflict(_("调解结果已登记。"), field="outcome")
    mediation.refresh_from_db()
    _case_note_event(
        mediation.case,
        actor=actor,
        note=_("调解达成协议。")
        if outcome == MediationOutcome.AGREEMENT
        else _("调解未达成协议。"),
        public=True,
        data={"mediation_outcome": outcome},
    )
    return mediation


# --- Categories ------------------------------------------------------------------------

# Codes the code itself relies on: wishes logged on visits become cases of this one.
REQUIRED_CATEGORY_CODES = frozenset({"wish"})
CATEGORY_FIELDS = (
    "name",
    "description",
    "default_color",
    "default_level",
    "deadline_hours",
    "lead_department_kind",
    "order",
    "is_active",
)


def _category_values(
    values: dict[str, Any], *, parent: Category | None, current: Category | None
) -> dict[str, Any]:
    from doorstep.orgs.choices import DepartmentKind

    out: dict[str, Any] = {}
    if "name" in values:
        name = clean_text(values["name"], field="name", limit=50)
        siblings = Category.objects.filter(parent=parent, name=name)
        if current is not None:
            siblings = siblings.exclude(pk=current.pk)
        if siblings.exists():
            raise ValidationError(_("同一上级下已有同名类别。"), field="name")
        out["name"] = name
    if "description" in values:
        out["description"] = clean_text(
            values["description"], field="description", required=False, limit=300
        )
    if "default_color" in values:
        if values["default_color"] not in Color.values:
            raise ValidationError(_("未知的颜色。"), field="default_color")
        out["default_color"] = values["default_color"]
    if "default_level" in values:
        if values["default_level"] not in Level.values:
            raise ValidationError(_("未知的责任层级。"), field="default_level")
        out["default_level"] = values["default_level"]
    if "deadline_hours" in values:
        hours = values["deadline_hours"]
        if hours in (None, ""):
            out["deadline_hours"] = None
        else:
            try:
                number = int(hours)
            except (TypeError, ValueError):
                raise ValidationError(_("办理时限应为整数小时。"), field="deadline_hours") from None
            if not 1 <= number <= 24 * 366:
                raise ValidationError(_("办理时限应在1小时到366天之间。"), field="deadline_hours")
            out["deadline_hours"] = number
    if "lead_department_kind" in values:
        kind = values["lead_department_kind"] or ""
        if kind and kind not in DepartmentKind.values:
            raise ValidationError(_("未知的部门类型。"), field="lead_department_kind")
        out["lead_department_kind"] = kind
    if "order" in values:
        try:
            order = int(values["order"] or 0)
        except (TypeError, ValueError):
            raise ValidationError(_("排序应为整数。"), field="order") from None
        if not 0 <= order <= 32767:
            raise ValidationError(_("排序应在0到32767之间。"), field="order")
        out["order"] = order
    if "is_active" in values:
        out["is_active"] = bool(values["is_active"])
    return out


def _require_category_editor(actor: Any) -> None:
    from .rules import can_edit_categories

    if not can_edit_categories(actor):
        raise PermissionDenied(_("只有市、县管理员或系统管理员可以维护诉求类别。"))


def _plain(value: Any) -> Any:
    return value if value is None or isinstance(value, (bool, int, str)) else str(value)


@transaction.atomic
def category_create(
    *,
    actor: Any,
    code: Any,
    name: Any,
    parent: Category | None = None,
    description: str = "",
    default_color: str = Color.GREEN,
    default_level: str = Level.GRID,
    deadline_hours: Any = None,
    lead_department_kind: str = "",
    order: Any = 0,
) -> Category:
    """Add a category to the tree (a top category, or a sub-category of one)."""
    from django.utils.text import slugify

    _require_category_editor(actor)
    slug = (code or "").strip() if isinstance(code, str) else ""
    if not slug or slugify(slug) != slug or len(slug) > 40:
        raise ValidationError(
            _("代码只能包含小写字母、数字、连字符和下划线，最多40个字符。"), field="code"
        )
    if Category.objects.filter(code=slug).exists():
        raise ValidationError(_("代码已被使用。"), field="code")
    if parent is not None and (parent.parent_id is not None or not parent.is_active):
        raise ValidationError(_("上级类别应是启用中的大类。"), field="parent")
    values = _category_values(
        {
            "name": name,
            "description": description,
            "default_color": default_color,
            "default_level": default_level,
            "deadline_hours": deadline_hours,
            "lead_department_kind": lead_department_kind,
            "order": order,
        },
        parent=parent,
        current=None,
    )
    category = Category(code=slug, parent=parent, **values)
    _clean(category)
    category.save()
    forget_intake_categories()
    CategoryChange.objects.create(
        category=category,
        actor=actor,
        at=timezone_now(),
        action=CategoryChangeAction.CREATE,
        changes={
            "code": [None, slug],
            "parent": [None, parent.code if parent else None],
            **{k: [None, _plain(v)] for k, v in values.items()},
        },
    )
    return category


@transaction.atomic
def category_update(*, actor: Any, category: Category, **fields: Any) -> Category:
    """Rename a category, set its color, responsible level, deadline, lead department
    kind or order, or deactivate / reactivate it. Categories are never deleted: cases
    keep theirs. Each change is recorded with the old and new values."""
    _require_category_editor(actor)
    unknown = set(fields) - set(CATEGORY_FIELDS)
    if unknown:
        raise ValidationError(_("不能修改该项。"), field=sorted(unknown)[0])
    row = Category.objects.select_for_update().filter(pk=category.pk).first()
    if row is None:
        raise NotFound(_("未找到该类别。"), field="category")
    values = _category_values(fields, parent=row.parent, current=row)
    if values.get("is_active") is False and row.is_active:
        if row.code in REQUIRED_CATEGORY_CODES:
            raise ValidationError(_("该类别用于走访心愿登记，不能停用。"), field="is_active")
        if Category.objects.filter(parent=row, is_active=True).exists():
            raise ValidationError(_("请先停用其下的小类。"), field="is_active")
    reactivating = values.get("is_active") is True and not row.is_active
    if reactivating and row.parent is not None and not row.parent.is_active:
        raise ValidationError(_("请先启用上级类别。"), field="is_active")
    changes = {
        k: [_plain(getattr(row, k)), _plain(v)] for k, v in values.items() if getattr(row, k) != v
    }
    if not changes:
        return row
    for key, value in values.items():
        setattr(row, key, value)
    _clean(row)
    row.save(update_fields=[*changes, "updated_at"])
    forget_intake_categories()
    action = CategoryChangeAction.UPDATE
    if set(changes) == {"is_active"}:
        action = CategoryChangeAction.ACTIVATE if row.is_active else CategoryChangeAction.DEACTIVATE
    CategoryChange.objects.create(
        category=row, actor=actor, at=timezone_now(), action=action, changes=changes
    )
    return row


# --- Rating with the receipt code ---------------------------------------------------------

RECEIPT_MAX_FAILURES = 5
RECEIPT_LOCK = dt.timedelta(hours=1)


class TooManyAttempts(DomainError):
    """Too many wrong answers to a check; try again later."""

    status_code = 429


def case_rate_by_receipt(
    *, code: Any, phone_last4: Any, score: Any, comment: Any = "", request: Any = None
) -> Case:
    """A resident whose case staff entered for them (hotline, visit, suggestion box)
    rates it without an account: the receipt code and the last four digits of the phone
    given at intake. Five wrong answers lock the case's check for an hour (counted in
    the database, so every app server sees them) and each is written to the audit log;
    a resolved case takes one rating, through the same rating action as in the app."""
    from doorstep.accounts.audit import AuditAction, AuditOutcome, audit_record

    cleaned = (code or "").strip().upper() if isinstance(code, str) else ""
    row = (
        Case.objects.select_related("category", "community").filter(receipt_code=cleaned).first()
        if cleaned and len(cleaned) <= 12
        else None
    )
    if row is None:
        raise NotFound(_("没有找到该回执码对应的诉求。"), field="code")
    if not row.receipt_check:
        raise ValidationError(
            _("该诉求登记时没有留下电话，不能凭回执码评价，请联系社区工作人员。"),
            field="phone_last4",
        )
    moment = timezone_now()
    if row.receipt_locked_until and row.receipt_locked_until > moment:
        raise TooManyAttempts(_("尝试次数过多，请一小时后再试。"), field="phone_last4")
    digits = (phone_last4 or "").strip() if isinstance(phone_last4, str) else ""
    if len(digits) != 4 or not digits.isdigit():
        raise ValidationError(_("请输入登记电话的后四位数字。"), field="phone_last4")
    if not hmac.compare_digest(receipt_check_of(row.receipt_code, digits), row.receipt_check):
        with transaction.atomic():
            Case.objects.filter(pk=row.pk).update(receipt_failures=F("receipt_failures") + 1)
            Case.objects.filter(pk=row.pk, receipt_failures__gte=RECEIPT_MAX_FAILURES).update(
                receipt_failures=0, receipt_locked_until=moment + RECEIPT_LOCK
            )
            audit_record(
                action=AuditAction.ACCESS_DENIED,
                outcome=AuditOutcome.FAILURE,
                obj=row,
                request=request,
                detail={"what": "appeal rating by receipt code: wrong phone digits"},
            )
        raise PermissionDenied(_("电话后四位与登记时不一致。"), field="phone_last4")
    if row.state != CaseState.RESOLVED:
        raise ValidationError(_("只有已办结、尚未评价的诉求可以评价。"), field="score")
    with transaction.atomic():
        if row.receipt_failures:
            Case.objects.filter(pk=row.pk).update(receipt_failures=0)
        case = _rate(None, row, row.version, score, comment, via="receipt")
    return case


__all__ = [
    "case_escalate",
    "case_expire_unrated",
    "case_follow",
    "case_rate_by_receipt",
    "case_submit",
    "case_transition",
    "category_create",
    "category_update",
    "joint_task_add",
    "joint_task_reply",
    "month_classify",
    "month_publish",
]


# --- Month end ---------------------------------------------------------------------------


def _first_of_month(year: int, month: int) -> dt.date:
    try:
        return dt.date(int(year), int(month), 1)
    except (TypeError, ValueError):
        raise ValidationError(_("月份无效。"), field="month") from None


@transaction.atomic
def month_classify(
    *,
    actor: Any,
    community: Unit,
    year: int,
    month: int,
    colors: dict[int, str] | None = None,
) -> MonthlyClassification:
    """Confirm the month's cases' colors, changing those in ``colors`` (case id → color),
    and record the review. Reclassified open cases are rerouted to their new level."""
    from .selectors import month_cases

    if not can_supervise_unit(actor, community):
        raise PermissionDenied(_("只有社区/村工作人员及以上可以进行月末分类。"))
    first = _first_of_month(year, month)
    if first > timeutils.local_today().replace(day=1):
        raise ValidationError(_("不能对未来的月份分类。"), field="month")
    if MonthlyClassification.objects.filter(community=community, month=first).exists():
        raise Conflict(_("该月已完成分类。"), field="month")
    cases = {c.pk: c for c in month_cases(community=community, year=first.year, month=first.month)}
    changes = colors or {}
    for case_id, color in changes.items():
        if case_id not in cases:
            raise ValidationError(_("诉求 %(id)s 不属于该月。") % {"id": case_id}, field="colors")
        if color not in Color.values:
            raise ValidationError(_("未知的颜色：%(c)s。") % {"c": color}, field="colors")
    moment = timezone_now()
    changed = 0
    for case_id, color in changes.items():
        case = cases[case_id]
        if case.color == color:
            continue
        values: dict[str, Any] = {"color": color}
        if case.state in (
            CaseState.SUBMITTED,
            CaseState.ACCEPTED,
            CaseState.ASSIGNED,
            CaseState.IN_PROGRESS,
        ):
            probe = Case(
                **{f.attname: getattr(case, f.attname) for f in Case._meta.concrete_fields}
            )
            _route(probe, color)
            values.update(
                level=probe.level,
                party_org=probe.party_org,
                is_joint=probe.is_joint,
                **_restart_clock(case, color, moment),
            )
        _apply(
            case,
            actor=actor,
            action=Action.CLASSIFY,
            version=case.version,
            to_state=case.state,
            changes=values,
            at=moment,
            note=_("%(month)s 月末分类调整颜色。") % {"month": f"{first:%Y-%m}"},
            data={"month": f"{first:%Y-%m}"},
        )
        if values.get("is_joint"):
            _open_joint_case(case, at=moment)
        changed += 1
    counts = {c: 0 for c in Color.values}
    for case in cases.values():
        counts[case.color] += 1
    record = MonthlyClassification.objects.create(
        community=community,
        month=first,
        classified_by=actor,
        classified_at=moment,
        counts=counts,
        changed=changed,
    )
    return record


@transaction.atomic
def month_publish(*, actor: Any, classification: MonthlyClassification) -> MonthlyClassification:
    if not can_supervise_unit(actor, classification.community):
        raise PermissionDenied(_("只有社区/村工作人员及以上可以公示。"))
    updated = MonthlyClassification.objects.filter(
        pk=classification.pk, published_at__isnull=True
    ).update(published_at=timezone_now(), published_by=actor)
    if not updated:
        raise Conflict(_("该月已公示。"), field="month")
    classification.refresh_from_db()
    return classification
