"""The one scoping checkpoint: which rows of a model may this user see?

Every list, detail, export, dashboard and API read of protected rows calls
:func:`scoped` (or :func:`get_scoped_or_404`), never ``Model.objects`` directly. A model
takes part by registering, per role, a function that turns one of the user's role
assignments into a ``Q`` over the model's rows; a role with no rule for a model sees
none of its rows. The union over the user's active assignments is what the user sees.

Apps register their models in ``AppConfig.ready``. The scope matrix test
(``accounts/tests/test_scope_matrix.py``) walks every role × every registered model.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

from django.db import models
from django.db.models import Q, QuerySet
from django.http import Http404

from .models import RoleAssignment, User
from .roles import Role, scope_kind

M = TypeVar("M", bound=models.Model)

ALL = Q()  # marker returned by a rule that grants every row
NOTHING = Q(pk__in=[])


@dataclass(frozen=True)
class Grant:
    """One active role assignment with its scope object loaded."""

    role: str
    assignment: RoleAssignment
    scope: Any  # the scope model instance, or None for self/system scopes
    user: User


Rule = Callable[[Grant], Q]


@dataclass
class ScopedModel:
    model: type[models.Model]
    rules: dict[str, Rule]
    public: Callable[[], Q] | None = None  # rows anyone may see, e.g. a public board
    distinct: bool = False


_REGISTRY: dict[type[models.Model], ScopedModel] = {}


def register(
    model: type[models.Model],
    rules: dict[str, Rule] | Iterable[tuple[Iterable[str], Rule]],
    *,
    public: Callable[[], Q] | None = None,
    distinct: bool = False,
) -> None:
    """Declare how each role sees ``model``. ``rules`` maps a role (or, as pairs, several
    roles) to a function of the grant returning the visible rows."""
    flat: dict[str, Rule] = {}
    items = rules.items() if isinstance(rules, dict) else rules
    for roles, rule in items:
        for role in [roles] if isinstance(roles, str) else roles:
            if role not in Role.values:
                raise ValueError(f"unknown role {role!r} in scope rules for {model.__name__}")
            flat[role] = rule
    _REGISTRY[model] = ScopedModel(model=model, rules=flat, public=public, distinct=distinct)


def extend(model: type[models.Model], rules: Iterable[tuple[Iterable[str], Rule]]) -> None:
    """Add rules for more roles to a registered model: an app higher up (grids) tells
    how its roles see a lower app's rows (people) without the lower app knowing it."""
    entry = _REGISTRY[model]
    for roles, rule in rules:
        for role in roles:
            if role in entry.rules:
                raise ValueError(f"{model.__name__} already has a rule for {role!r}")
            entry.rules[role] = rule


def registered_models() -> list[type[models.Model]]:
    return list(_REGISTRY)


def rule_for(model: type[models.Model], role: str) -> Rule | None:
    return _REGISTRY[model].rules.get(role)


def grants(user: User | Any) -> list[Grant]:
    """The user's active role assignments with their scope objects, loaded once per user
    object (one query per scope kind) and cached on it for the request."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return []
    cached = getattr(user, "_doorstep_grants", None)
    if cached is not None:
        return cached
    assignments = list(
        RoleAssignment.objects.filter(user=user, revoked_at__isnull=True).order_by("id")
    )
    by_kind: dict[str, set[int]] = {}
    for assignment in assignments:
        if assignment.scope_id is not None:
            by_kind.setdefault(assignment.scope_kind, set()).add(assignment.scope_id)
    objects: dict[tuple[str, int], Any] = {}
    for kind_name, ids in by_kind.items():
        kind = scope_kind(kind_name)
        model = kind.model if kind else None
        if model is None:
            continue  # the app owning this scope kind is not installed: the grant is inert
        for obj in model._default_manager.filter(pk__in=ids):
            objects[(kind_name, obj.pk)] = obj
    result = []
    for assignment in assignments:
        scope = (
            objects.get((assignment.scope_kind, assignment.scope_id))
            if assignment.scope_id
            else None
        )
        if assignment.scope_id is not None and scope is None:
            continue
        result.append(Grant(role=assignment.role, assignment=assignment, scope=scope, user=user))
    user._doorstep_grants = result  # type: ignore[union-attr]
    return result


def forget_grants(user: User) -> None:
    if hasattr(user, "_doorstep_grants"):
        del user._doorstep_grants


def roles_of(user: User | Any) -> set[str]:
    return {grant.role for grant in grants(user)}


def has_role(user: User | Any, *roles: str) -> bool:
    return bool(roles_of(user) & set(roles))


def scope_q(user: User | Any, model: type[models.Model]) -> Q:
    """The filter of rows the user may see; ``NOTHING`` when none."""
    entry = _REGISTRY.get(model)
    if entry is None:
        raise LookupError(f"{model.__name__} is not registered with the scoping checkpoint")
    clauses: list[Q] = []
    for grant in grants(user):
        rule = entry.rules.get(grant.role)
        if rule is None:
            continue
        clause = rule(grant)
        if clause == ALL:
            return ALL
        clauses.append(clause)
    if entry.public is not None:
        clauses.append(entry.public())
    if not clauses:
        return NOTHING
    combined = clauses[0]
    for clause in clauses[1:]:
        combined |= clause
    return combined


def scoped(user: User | Any, model: type[M], queryset: QuerySet[M] | None = None) -> QuerySet[M]:
    """The rows of ``model`` (or of ``queryset``) that ``user`` may see."""
    qs = queryset if queryset is not None else model._default_manager.all()
    q = scope_q(user, model)
    if q == ALL:
        return qs
    if q == NOTHING:
        return qs.none()
    qs = qs.filter(q)
    # Rules that follow a to-many relation may match a row more than once.
    return qs.distinct() if _REGISTRY[model].distinct else qs


def get_scoped_or_404(
    user: User | Any, model: type[M], queryset: QuerySet[M] | None = None, **lookup: Any
) -> M:
    """One row the user may see, or 404 — the same answer whether it is missing or out of
    scope, so that scope cannot be probed."""
    try:
        return scoped(user, model, queryset).get(**lookup)
    except (model.DoesNotExist, ValueError, TypeError):  # type: ignore[attr-defined]
        raise Http404 from None
