"""The outlet scope kind, and how each role sees the ledger's rows.

Staff see their subtree's books; a resident sees their own account, its transfers and
receipts, and the outlets, goods and rules of their own community; a clerk sees their
outlet, its goods, receipts and account, and a resident's account only through the
counter search (``selectors.counter_find``), never through this checkpoint.
"""

from __future__ import annotations

from django.db.models import Q

from doorstep.accounts import scoping
from doorstep.accounts.roles import Role, ScopeKind, register_scope_kind
from doorstep.accounts.scope_rules import within_unit
from doorstep.accounts.scoping import Grant

from .rules import POINTS_MANAGER_ROLES

# Grid members and building leaders see their community's points world read-only
# (they record volunteer work and tell residents what they can get).
READERS = POINTS_MANAGER_ROLES | {Role.GRID_MEMBER, Role.GRID_LEADER, Role.BUILDING_LEADER}
CLERK = (Role.OUTLET_CLERK,)
RESIDENT = (Role.RESIDENT,)


def _clerk(field: str) -> scoping.Rule:
    def rule(grant: Grant) -> Q:
        return Q(**{field: grant.scope.pk})

    return rule


def _own(field: str) -> scoping.Rule:
    def rule(grant: Grant) -> Q:
        return Q(**{field: grant.user.pk})

    return rule


def _own_community(field: str) -> scoping.Rule:
    """Rows of the community where the resident holds a points account."""

    def rule(grant: Grant) -> Q:
        return Q(
            **{
                f"{field}__point_accounts__person__user_id": grant.user.pk,
                f"{field}__point_accounts__kind": "resident",
            }
        )

    return rule


def register() -> None:
    from .models import Account, EarningRule, Goods, Outlet, Redemption, Transfer

    register_scope_kind(ScopeKind("outlet", "points.Outlet", anchor_unit=lambda o: o.unit))

    scoping.register(
        Outlet,
        [
            (READERS, within_unit("unit")),
            (CLERK, _clerk("pk")),
            (RESIDENT, _own_community("unit")),
        ],
        distinct=True,
    )
    scoping.register(
        Goods,
        [
            (READERS, within_unit("outlet__unit")),
            (CLERK, _clerk("outlet_id")),
            (RESIDENT, _own_community("outlet__unit")),
        ],
        distinct=True,
    )
    scoping.register(
        EarningRule,
        [(READERS, within_unit("unit"))],
    )

    def clerk_accounts(grant: Grant) -> Q:
        # The outlet's own account only. A resident's account is reached one at a time
        # through the counter (``selectors.counter_find`` / ``counter_account``), never
        # by id and never in a list.
        return Q(outlet_id=grant.scope.pk)

    scoping.register(
        Account,
        [
            (READERS, within_unit("unit")),
            (CLERK, clerk_accounts),
            (RESIDENT, _own("person__user_id")),
        ],
    )
    scoping.register(
        Transfer,
        [
            (READERS, within_unit("unit")),
            (CLERK, lambda g: Q(credit__outlet_id=g.scope.pk) | Q(debit__outlet_id=g.scope.pk)),
            (
                RESIDENT,
                lambda g: (
                    Q(credit__person__user_id=g.user.pk) | Q(debit__person__user_id=g.user.pk)
                ),
            ),
        ],
    )
    scoping.register(
        Redemption,
        [
            (READERS, within_unit("outlet__unit")),
            (CLERK, _clerk("outlet_id")),
            (RESIDENT, _own("account__person__user_id")),
        ],
    )
