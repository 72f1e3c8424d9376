"""The demo builders on a small jurisdiction: outlets of the three kinds before the
accounts, a year of confirmed volunteering paid through the ledger, redemptions at
every kind of outlet, the books balanced, and the same result from the same seed."""

from __future__ import annotations

import random

import pytest
from django.db.models import Count, Sum

from doorstep.orgs import demo as orgs_demo
from doorstep.people import demo as people_demo
from doorstep.volunteers import demo as volunteers_demo
from doorstep.volunteers.models import Signup

from .. import demo as points_demo
from ..checking import ledger_check
from ..choices import OutletKind, TransferKind
from ..models import Redemption, Transfer

pytestmark = pytest.mark.django_db


def test_demo_economy_on_a_small_jurisdiction() -> None:
    rng = random.Random(7)
    tree = orgs_demo.build(rng)
    people_demo.build(rng, tree, scale=0.02)
    outlets = points_demo.build_outlets(tree)
    assert {o.kind for o in outlets.values()} == set(OutletKind.values)
    assert outlets["yihe_charity"].unit == tree.units["yihe"]
    volunteering = volunteers_demo.build(rng, tree, scale=0.02)
    assert volunteering.confirmed > 0 and volunteering.points > 0
    # Every confirmed sign-up with points was paid by exactly one earning transfer.
    paid = Signup.objects.filter(transfer__isnull=False)
    assert paid.count() == Transfer.objects.filter(kind=TransferKind.EARN).count()
    assert Signup.objects.filter(party_claim=True).exists()
    result = points_demo.build(rng, tree, outlets, scale=0.02)
    assert result.redemptions > 0 and result.value_fen > 0
    kinds = set(Redemption.objects.values_list("outlet__kind", flat=True))
    assert OutletKind.CHARITY_SHOP in kinds and OutletKind.CANTEEN in kinds
    check = ledger_check()
    assert check.ok and check.total == 0
    dongshan = tree.units["dongshan"]
    figures = Redemption.objects.filter(dongshan.subtree_q(field="outlet__unit__path")).aggregate(
        n=Count("pk"), fen=Sum("value_fen")
    )
    assert figures["n"] > 0 and figures["fen"] / figures["n"] > 1000  # baskets of daily goods
