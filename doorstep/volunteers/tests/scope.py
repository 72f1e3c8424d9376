"""The volunteers app's rows in the scope matrix."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from django.db import models

from doorstep.conftest import Tree, World
from doorstep.points.choices import ActivityType

from ..models import Activity, Signup, StarThresholds, Team, TeamMember
from ..services import activity_create, team_create

START = dt.datetime(2030, 5, 1, 1, 0, tzinfo=dt.UTC)  # 09:00 in Shanghai


def tree_team(tree: Tree) -> Team:
    return tree.extra(  # noqa: S610 - Tree.extra, not QuerySet.extra
        "team",
        lambda t: team_create(actor=None, unit=t.community, name="环境志愿服务队", leader=t.person),
    )


def tree_activity(tree: Tree) -> Activity:
    return tree.extra(  # noqa: S610 - Tree.extra, not QuerySet.extra
        "activity",
        lambda t: activity_create(
            actor=None,
            unit=t.community,
            title="小区环境整治",
            activity_type=ActivityType.SANITATION,
            place="小区广场",
            starts_at=START,
            ends_at=START + dt.timedelta(hours=2),
            slots=10,
            team=tree_team(t),
        ),
    )


OUTSIDE_ROW: dict[type[models.Model], Callable[[World], models.Model]] = {
    Team: lambda w: tree_team(w.b),
    TeamMember: lambda w: tree_team(w.b).members.get(),
    Activity: lambda w: tree_activity(w.b),
    Signup: lambda w: Signup.objects.create(activity=tree_activity(w.b), person=w.b.person),
    StarThresholds: lambda w: StarThresholds.objects.create(unit=w.b.community),
}
API_DETAIL: dict[type[models.Model], str] = {
    Activity: "/api/v1/volunteers/activities/{pk}/",
}
CONSOLE_DETAIL: dict[type[models.Model], str] = {
    Activity: "/console/volunteers/activities/{pk}/",
}
