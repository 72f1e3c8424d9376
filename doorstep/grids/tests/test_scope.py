"""Who sees the grid rows of their own place: registry roles and grid roles do;
departments, outlet clerks and partners see the grids but no household, visit or wish."""

from __future__ import annotations

import datetime as dt

import pytest

from doorstep.accounts import scoping
from doorstep.accounts.roles import Role, available_roles
from doorstep.conftest import World
from doorstep.grids.models import Grid, GridHousehold, Visit, Wish

pytestmark = pytest.mark.django_db

NOT_REGISTRY = [Role.DEPARTMENT_STAFF, Role.OUTLET_CLERK, Role.PARTNER]


@pytest.mark.parametrize("role", NOT_REGISTRY)
def test_non_registry_roles_see_no_household_rows_of_their_place(world: World, role: str) -> None:
    if role not in available_roles():
        pytest.skip(f"{role}: its scope kind is not installed")
    Visit.objects.create(
        household=world.a.household,
        grid=world.a.grid,
        visitor=world.user(Role.GRID_MEMBER),
        visited_on=dt.date(2026, 1, 5),
    )
    Wish.objects.create(household=world.a.household, text="想要一个晾衣架")
    user = world.user(role)
    for model in (GridHousehold, Visit, Wish):
        assert not scoping.scoped(user, model).exists(), f"{role} sees {model.__name__}"


def test_community_staff_and_grid_member_still_see_them(world: World) -> None:
    Wish.objects.create(household=world.a.household, text="想要一个晾衣架")
    for role in (Role.COMMUNITY_STAFF, Role.GRID_MEMBER):
        user = world.user(role)
        assert scoping.scoped(user, Wish).exists()
        assert scoping.scoped(user, GridHousehold).exists()
        assert scoping.scoped(user, Grid).exists()
