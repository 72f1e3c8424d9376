"""Fixtures of the canteen's page tests."""

from __future__ import annotations

from typing import Any

import pytest

from doorstep.accounts.roles import Role
from doorstep.conftest import make_user
from doorstep.orgs.services import unit_create

from . import factories as f


@pytest.fixture
def place(db: Any) -> dict[str, Any]:
    city = unit_create(kind="city", name="白银市", code="620400", lat=36.5, lng=104.1)
    district = unit_create(kind="district", name="白银区", code="620402", parent=city)
    street = unit_create(kind="street", name="人民路街道", code="620402001000", parent=district)
    community = unit_create(kind="community", name="颐和社区", code="620402001001", parent=street)
    compound = unit_create(kind="compound", name="棉纺厂小区", parent=community)
    canteen = f.canteen(community, "颐和食堂")
    dishes = f.dishes(canteen)
    f.menu(canteen, dishes)
    from doorstep.people.services import person_create

    elder = person_create(
        name="王秀英",
        unit=compound,
        phone="13912345678",
        birth_date=f.born_years_ago(72),
    )
    return {
        "community": community,
        "compound": compound,
        "canteen": canteen,
        "dishes": dishes,
        "elder": elder,
        "clerk": make_user("canteen_clerk", Role.OUTLET_CLERK, canteen.outlet),
        "staff": make_user("yihe_staff", Role.COMMUNITY_STAFF, community),
    }
