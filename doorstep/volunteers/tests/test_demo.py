"""The volunteering demo: a year past, and something to join in the weeks ahead."""

from __future__ import annotations

import datetime as dt
import random

import pytest
from django.db.models import Count, Q

from doorstep.accounts.roles import Role
from doorstep.conftest import make_user
from doorstep.core import timeutils
from doorstep.orgs import demo as orgs_demo
from doorstep.people import demo as people_demo
from doorstep.people.services import person_link_account

from .. import demo
from ..choices import ActivityStatus, SignupStatus
from ..models import Activity
from ..selectors import activities_to_join
from ..services import signup_create

pytestmark = pytest.mark.django_db


def test_every_team_has_open_activities_ahead_that_a_resident_can_join() -> None:
    rng = random.Random(7)
    tree = orgs_demo.build(rng)
    people = people_demo.build(rng, tree, scale=0.02)
    result = demo.build(rng, tree, scale=0.02)
    now = timeutils.now()
    ahead = Activity.objects.filter(starts_at__gt=now)
    assert result.upcoming == ahead.count() == demo.UPCOMING * len(result.teams)
    assert set(ahead.values_list("status", flat=True)) == {ActivityStatus.OPEN}
    assert not ahead.filter(starts_at__gt=now + dt.timedelta(days=demo.UPCOMING_DAYS + 2)).exists()
    # Partly filled by the team's regulars, never full, nothing checked in yet.
    filled = ahead.annotate(
        n=Count("signups", filter=Q(signups__status=SignupStatus.SIGNED_UP))
    ).values_list("n", "slots")
    assert all(0 < n < slots for n, slots in filled)
    assert not ahead.filter(signups__checked_in_at__isnull=False).exists()
    # The past is unchanged: every earlier activity is closed.
    past = Activity.objects.filter(starts_at__lte=now)
    assert past.exists() and not past.exclude(status=ActivityStatus.CLOSED).exists()

    yihe = tree.units["yihe"]
    person = next(
        p for p in people.persons if p.unit.path.startswith(yihe.path) and p.user_id is None
        and not p.volunteer_signups.filter(activity__in=ahead).exists()
        and p.birth_date is not None and p.birth_date.year < 2000
    )  # fmt: skip
    resident = make_user("demo_joiner", Role.RESIDENT)
    person_link_account(person=person, user=resident)
    offered = activities_to_join(actor=resident)
    assert offered and all(a.unit == yihe for a in offered)
    signup = signup_create(actor=resident, activity=offered[0], person=person)
    assert signup.status == SignupStatus.SIGNED_UP
