"""What waits in grids for a staff user, for the console's home (``core.todo``): the
households of a grid member (or of a grid leader's grid) overdue for a home visit; for
those who run a community's grids, the registered households in no grid."""

from __future__ import annotations

import datetime as dt
from functools import reduce
from operator import or_
from typing import Any

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from doorstep.accounts.roles import Role
from doorstep.accounts.scope_rules import anchor_unit
from doorstep.accounts.scoping import grants, has_role
from doorstep.core.todo import Todo, counted
from doorstep.orgs.choices import GRASSROOTS_KINDS

from .selectors import households_in_no_grid, my_households, overdue_days

COMMUNITY_ROLES = (Role.COMMUNITY_STAFF, Role.PARTY_SECRETARY)


def todos(user: Any, now: dt.datetime) -> list[Todo]:
    items = []
    if has_role(user, Role.GRID_MEMBER, Role.GRID_LEADER):
        days = overdue_days()
        mine = my_households(actor=user, today=timezone.localdate(now), days=days)
        overdue = mine.filter(overdue=True)  # type: ignore[misc]  # annotated by my_households
        label = _("超过 %(days)d 天未走访的住户") % {"days": days}
        items.append(counted(label, overdue, reverse("grids:my-grid"), weight=13))
    # Those who put households in grids one by one: a community's or village's own staff
    # and party secretary (a street or city administrator balances, and a count over a
    # whole city would read every household on each visit to the home page).
    communities = [
        anchor
        for grant in grants(user)
        if grant.role in COMMUNITY_ROLES and (anchor := anchor_unit(grant)) is not None
    ]
    if communities:
        in_no_grid = households_in_no_grid(actor=user).filter(
            reduce(or_, (c.subtree_q(field="unit__path") for c in communities))
        )
        url = (
            reverse("grids:grid-list", args=[communities[0].pk])
            if len(communities) == 1 and communities[0].kind in GRASSROOTS_KINDS
            else reverse("grids:index")
        )
        items.append(counted(_("未划入网格的住户"), in_no_grid, url, weight=45))
    return items
