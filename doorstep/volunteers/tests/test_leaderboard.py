"""The resident's volunteering page links to the public boards of their community;
the public hours board shows masked names, hours and stars, open to anyone."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client

from doorstep.accounts.roles import Role
from doorstep.conftest import World
from doorstep.people.services import person_link_account
from doorstep.points.choices import ActivityType
from doorstep.points.services import earning_rule_set

from ..services import check_in, check_out, signup_confirm, signup_create, star_thresholds_set
from .scope import START, tree_activity

pytestmark = pytest.mark.django_db


@pytest.fixture
def served(world: World) -> Any:
    earning_rule_set(
        actor=None,
        unit=world.a.community,
        activity_type=ActivityType.SANITATION,
        points_per_time=5,
    )
    staff = world.user(Role.COMMUNITY_STAFF)
    signup = signup_create(actor=staff, activity=tree_activity(world.a), person=world.a.person)
    check_in(actor=staff, signup=signup, at=START)
    check_out(actor=staff, signup=signup, at=START + dt.timedelta(hours=2))
    return signup_confirm(actor=staff, signup=signup)


def test_the_public_hours_board_masks_names_and_shows_stars(world: World, served: Any) -> None:
    star_thresholds_set(
        actor=world.user(Role.COMMUNITY_STAFF), unit=world.a.community, hours=[1, 3, 6, 10, 15]
    )
    page = Client().get(f"/volunteers/leaderboard/{world.a.community.pk}/").content.decode()
    assert "甲*民" in page and "甲居民" not in page
    assert "2.0" in page and "1 星" in page and "1 / 3 / 6 / 10 / 15" in page
    assert f"/points/leaderboard/{world.a.community.pk}/" in page
    # Only communities and villages have a board.
    assert Client().get(f"/volunteers/leaderboard/{world.a.street.pk}/").status_code == 404


def test_my_volunteering_links_to_the_boards_of_my_community(world: World, served: Any) -> None:
    user = world.user(Role.RESIDENT)
    person_link_account(person=world.a.person, user=user)
    client = Client()
    client.force_login(user)
    page = client.get("/me/volunteering/").content.decode()
    community = world.a.community.pk
    assert f"/volunteers/leaderboard/{community}/" in page
    assert f"/points/leaderboard/{community}/" in page
    assert "累计服务 2.0 小时" in page
    points = client.get("/me/points/").content.decode()
    assert f"/points/leaderboard/{community}/" in points
    board = client.get(f"/points/leaderboard/{community}/").content.decode()
    assert "甲*民" in board and "甲居民" not in board
