"""The partner scope kind, and who sees which sites' rows.

Place roles see the rows of sites in their subtree, and an area center's site, rooms,
slots, programs and partner services wherever the center serves; a partner sees the sites where it
offers services and its own offerings, agreements, settlements and programs; a resident
sees their own bookings, the requests they made or that a desk registered for them or
a member of their household, and the enrolments (with attendance) of themselves
and the members of their household. Sites' public facts (name, place,
hours, services) are read by everyone through ``selectors.public_sites``, not here.
"""

from __future__ import annotations

from django.db.models import Q

from doorstep.accounts import scoping
from doorstep.accounts.roles import Role, ScopeKind, register_scope_kind
from doorstep.accounts.scope_rules import PLACE_ROLES, anchor_unit, everything, within_unit
from doorstep.accounts.scoping import NOTHING, Grant
from doorstep.core.tree import ancestor_paths, subtree_q

from .rules import SITE_MANAGER_ROLES

PLACES = PLACE_ROLES - {Role.PARTNER}
# Rows about people's use of a site (bookings, requests, enrolments, money) are for those
# who run sites, not for every role anchored nearby (grid members, departments, clerks).
MANAGERS = SITE_MANAGER_ROLES


def _partner(field: str) -> scoping.Rule:
    def rule(grant: Grant) -> Q:
        return Q(**{field: grant.scope.pk})

    return rule


def _within_or_served(field: str) -> scoping.Rule:
    """Rows whose unit lies in the grant's subtree, or whose unit is an area (片区) that
    serves a unit in the grant's subtree or above the grant's anchor (``Unit.spans``):
    an area center that spans three communities is seen by the staff of each."""
    inside = within_unit(field)

    def rule(grant: Grant) -> Q:
        unit = anchor_unit(grant)
        if unit is None:
            return NOTHING
        spans = f"{field}__spans__path"
        return (
            inside(grant)
            | subtree_q(unit.path, field=spans)
            | Q(**{f"{spans}__in": ancestor_paths(unit.path)})
        )

    return rule


def _own(field: str) -> scoping.Rule:
    def rule(grant: Grant) -> Q:
        return Q(**{field: grant.user.pk})

    return rule


def _household(field: str) -> scoping.Rule:
    """Rows about the resident themselves or a member of their household (``field``
    names the person): a parent follows the child's class, a daughter her mother's day
    care. The household is matched through a subquery, so no row comes out twice."""

    def rule(grant: Grant) -> Q:
        from doorstep.people.models import Person

        households = Person.objects.filter(
            user_id=grant.user.pk, household__is_active=True, left_on__isnull=True
        ).values("household")
        return Q(**{f"{field}__user": grant.user.pk}) | Q(
            **{f"{field}__household__in": households, f"{field}__pseudonymized_at__isnull": True}
        )

    return rule


def _household_by_key(field: str) -> scoping.Rule:
    """As ``_household``, for a nullable person: the person's key compared with
    subqueries, without a join, so that a row the rule selects can still be locked
    (PostgreSQL refuses FOR UPDATE on the nullable side of an outer join)."""

    def rule(grant: Grant) -> Q:
        from doorstep.people.models import Person

        own = Person.objects.filter(user_id=grant.user.pk)
        households = own.filter(household__is_active=True, left_on__isnull=True).values("household")
        members = Person.objects.filter(household__in=households, pseudonymized_at__isnull=True)
        return Q(**{f"{field}__in": own.values("pk")}) | Q(**{f"{field}__in": members.values("pk")})

    return rule


def _either(first: scoping.Rule, second: scoping.Rule) -> scoping.Rule:
    def rule(grant: Grant) -> Q:
        return first(grant) | second(grant)

    return rule


def register() -> None:
    from .models import (
        AppointmentSlot,
        Attendance,
        Booking,
        BookingSeries,
        Enrolment,
        Partner,
        PartnerService,
        Program,
        RevenueShare,
        Room,
        ServiceRecord,
        ServiceRequest,
        Settlement,
        Site,
        SiteEvent,
    )

    register_scope_kind(ScopeKind("partner", "sites.Partner", anchor_unit=lambda p: p.unit))
    admin = ((Role.SYSTEM_ADMIN,), everything)

    scoping.register(
        Site,
        [
            (PLACES, _within_or_served("unit")),
            ((Role.PARTNER,), _partner("partner_services__partner")),
            admin,
        ],
        distinct=True,
    )
    # What an area center offers (rooms, slots, programs, partners' services) is seen
    # wherever the center is; who booked, asked or paid stays with the area that runs it.
    scoping.register(
        Room,
        [
            (PLACES, _within_or_served("site__unit")),
            ((Role.PARTNER,), _partner("site__partner_services__partner")),
        ],
        distinct=True,
    )
    scoping.register(
        Booking,
        [
            (MANAGERS, within_unit("room__site__unit")),
            ((Role.RESIDENT, Role.PARTNER), _own("booked_by")),
        ],
    )
    scoping.register(
        BookingSeries,
        [
            (MANAGERS, within_unit("room__site__unit")),
            ((Role.RESIDENT, Role.PARTNER), _own("booked_by")),
        ],
    )
    scoping.register(AppointmentSlot, [(PLACES, _within_or_served("site__unit"))], distinct=True)
    scoping.register(
        ServiceRequest,
        [
            (MANAGERS, within_unit("site__unit")),
            ((Role.RESIDENT,), _either(_own("requester"), _household_by_key("person"))),
        ],
    )
    scoping.register(
        ServiceRecord,
        [
            (MANAGERS, within_unit("site__unit")),
            ((Role.PARTNER,), _partner("partner_service__partner")),
        ],
    )
    scoping.register(SiteEvent, [(MANAGERS, within_unit("unit")), admin])
    scoping.register(
        Partner, [(PLACES, within_unit("unit")), ((Role.PARTNER,), _partner("pk")), admin]
    )
    scoping.register(
        PartnerService,
        [(PLACES, _within_or_served("site__unit")), ((Role.PARTNER,), _partner("partner"))],
        distinct=True,
    )
    scoping.register(
        RevenueShare,
        [(MANAGERS, within_unit("site__unit")), ((Role.PARTNER,), _partner("partner"))],
    )
    scoping.register(
        Settlement,
        [
            (MANAGERS, within_unit("agreement__site__unit")),
            ((Role.PARTNER,), _partner("agreement__partner")),
        ],
    )
    scoping.register(
        Program,
        [(PLACES, _within_or_served("site__unit")), ((Role.PARTNER,), _partner("partner"))],
        distinct=True,
    )
    scoping.register(
        Enrolment,
        [
            (MANAGERS, within_unit("program__site__unit")),
            ((Role.PARTNER,), _partner("program__partner")),
            ((Role.RESIDENT,), _household("person")),
        ],
    )
    scoping.register(
        Attendance,
        [
            (MANAGERS, within_unit("enrolment__program__site__unit")),
            ((Role.PARTNER,), _partner("enrolment__program__partner")),
            ((Role.RESIDENT,), _household("enrolment__person")),
        ],
    )
