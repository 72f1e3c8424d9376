"""Helpers that make cases through the real services."""

from __future__ import annotations

from typing import Any

from doorstep.accounts.roles import Role
from doorstep.appeals.choices import CaseKind, Channel
from doorstep.appeals.models import Case, Category
from doorstep.appeals.services import case_submit, case_transition
from doorstep.conftest import Tree, World


def category(code: str) -> Category:
    return Category.objects.get(code=code)


def submit(
    world: World,
    *,
    code: str = "sanitation",
    tree: Tree | None = None,
    text: str = "楼道里堆满了杂物",
    kind: str = CaseKind.PROBLEM,
    **kwargs: Any,
) -> Case:
    """A case reported online by the resident about tree A's (or ``tree``'s) household."""
    t = tree or world.a
    kwargs.setdefault("actor", world.user(Role.RESIDENT))
    kwargs.setdefault("channel", Channel.ONLINE)
    kwargs.setdefault("household", t.household)
    return case_submit(kind=kind, category=category(code), text=text, **kwargs)


def proxy_submit(world: World, tree: Tree, actor: Any, code: str = "sanitation") -> Case:
    return case_submit(
        actor=actor,
        kind=CaseKind.PROBLEM,
        category=category(code),
        channel=Channel.HOTLINE,
        text="热线来电：路灯不亮",
        household=tree.household,
        reporter_person=tree.person,
    )


def step(case: Case, actor: Any, action: str, **kwargs: Any) -> Case:
    case.refresh_from_db()
    return case_transition(actor=actor, case=case, action=action, version=case.version, **kwargs)
