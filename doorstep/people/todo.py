"""What waits in the registry for a staff user, for the console's home (``core.todo``):
for the community's and village's own staff who keep the registry, the open households
where nobody is on the register any more (everyone moved away or died), to be closed."""

from __future__ import annotations

import datetime as dt
from functools import reduce
from operator import or_
from typing import Any

from django.urls import reverse
from django.utils.translation import gettext as _

from doorstep.accounts.roles import Role
from doorstep.accounts.scope_rules import anchor_unit
from doorstep.accounts.scoping import grants
from doorstep.core.todo import Todo, counted

from .selectors import empty_households

# A community's or village's own staff close its empty households; a count over a whole
# street or city would read every household on each visit to the home page.
COMMUNITY_ROLES = (Role.COMMUNITY_STAFF, Role.PARTY_SECRETARY)


def todos(user: Any, now: dt.datetime) -> list[Todo]:
    communities = [
        anchor
        for grant in grants(user)
        if grant.role in COMMUNITY_ROLES and (anchor := anchor_unit(grant)) is not None
    ]
    if not communities:
        return []
    empty = empty_households(actor=user).filter(
        reduce(or_, (c.subtree_q(field="unit__path") for c in communities))
    )
    url = reverse("people:empty-households")
    return [counted(_("已无在册成员、待注销的住户"), empty, url, weight=46)]
