"""The appeals rows for the scope matrix: each made in tree B, outside every role."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from django.db import models

from doorstep.accounts.models import User
from doorstep.appeals.choices import CaseKind, Channel, ClaimantKind
from doorstep.appeals.models import (
    Case,
    CaseEvent,
    CasePhoto,
    Category,
    Follow,
    JointTask,
    Mediation,
    MediationSession,
    MonthlyClassification,
    Notification,
    Rating,
    WishClaim,
)
from doorstep.appeals.services import case_submit
from doorstep.conftest import World
from doorstep.conftest import outsider as _make_outsider


def outsider(world: World) -> User:
    return world.b.extra("appeals_outsider", lambda tree: _make_outsider(world))  # noqa: S610


def _case(world: World) -> Case:
    return world.b.extra(  # noqa: S610
        "appeals_case",
        lambda tree: case_submit(
            actor=outsider(world),
            kind=CaseKind.WISH,
            category=Category.objects.get(code="land"),
            channel=Channel.HOTLINE,
            text="乙社区的诉求",
            household=tree.household,
            reporter_person=tree.person,
        ),
    )


def _mediation(world: World) -> Mediation:
    return world.b.extra(  # noqa: S610
        "appeals_mediation",
        lambda tree: Mediation.objects.create(
            case=_case(world), mediator=outsider(world), parties="甲方、乙方"
        ),
    )


def _task(world: World) -> JointTask:
    case = _case(world)
    return JointTask.objects.filter(case=case).first() or JointTask.objects.create(
        case=case, department=world.b.department, deadline=case.clock_started_at
    )


OUTSIDE_ROW: dict[type[models.Model], Callable[[World], models.Model]] = {
    Case: _case,
    CaseEvent: lambda w: _case(w).events.get(action="submit"),
    JointTask: _task,
    Follow: lambda w: Follow.objects.get_or_create(case=_case(w), user=outsider(w))[0],
    Rating: lambda w: Rating.objects.create(
        case=_case(w), user=outsider(w), score=5, unit_path=_case(w).unit_path
    ),
    MonthlyClassification: lambda w: MonthlyClassification.objects.create(
        community=w.b.community,
        month=dt.date(2026, 1, 1),
        classified_by=outsider(w),
        classified_at=_case(w).created_at,
    ),
    WishClaim: lambda w: WishClaim.objects.create(
        case=_case(w),
        claimant=outsider(w),
        claimant_kind=ClaimantKind.VOLUNTEER,
        claimant_label="乙志愿者",
    ),
    Mediation: _mediation,
    MediationSession: lambda w: MediationSession.objects.create(
        mediation=_mediation(w), held_at=_case(w).created_at
    ),
    CasePhoto: lambda w: CasePhoto.objects.create(
        case=_case(w), image="appeals/x.png", width=1, height=1
    ),
    Notification: lambda w: Notification.objects.create(user=outsider(w), text="乙通知"),
}

API_DETAIL: dict[type[models.Model], str] = {Case: "/api/v1/appeals/{pk}/"}
CONSOLE_DETAIL: dict[type[models.Model], str] = {Case: "/console/appeals/{pk}/"}
