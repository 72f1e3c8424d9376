"""The sites app's rows for the scope matrix, and the partner scope for the partner role."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import models

from doorstep.accounts.roles import Role
from doorstep.conftest import Tree, World, outsider
from doorstep.sites.models import (
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

from . import factories as f


def _own_partner(tree: Tree) -> Any:
    return f.partner(tree.community, f"{tree.community.name}合伙人")


def scope_for(tree: Tree, role: str) -> Any:
    if role == Role.PARTNER:
        return tree.extra("partner", _own_partner)  # noqa: S610
    return None


def _site(world: World) -> Site:
    return world.b.extra("site", lambda t: f.site(t.community))  # noqa: S610


def _room(world: World) -> Room:
    return world.b.extra("room", lambda t: f.room(_site(world)))  # noqa: S610


def _partner(world: World) -> Partner:
    return world.b.extra("partner", lambda t: f.partner(t.community, "乙合伙人"))  # noqa: S610


def _service(world: World) -> PartnerService:
    def make(tree: Tree) -> PartnerService:
        return f.partner_service(_partner(world), _site(world))

    return world.b.extra("partner_service", make)  # noqa: S610


def _agreement(world: World) -> RevenueShare:
    return world.b.extra("agreement", lambda t: f.agreement(_partner(world), _site(world)))  # noqa: S610


def _program(world: World) -> Program:
    return world.b.extra("program", lambda t: f.program(_site(world), p=_partner(world)))  # noqa: S610


def _enrolment(world: World) -> Enrolment:
    return world.b.extra("enrolment", lambda t: f.enrolment(_program(world), t.person))  # noqa: S610


def _event(world: World) -> SiteEvent:
    site = _site(world)
    return SiteEvent.objects.create(
        unit=site.unit, site=site, action="created", object_type="site", object_id=site.pk
    )


OUTSIDE_ROW: dict[type[models.Model], Callable[[World], models.Model]] = {
    Site: _site,
    Room: _room,
    Booking: lambda w: f.booking(_room(w), outsider(w)),
    BookingSeries: lambda w: f.series(_room(w), outsider(w)),
    AppointmentSlot: lambda w: f.slot(_site(w)),
    ServiceRequest: lambda w: f.request(_site(w), outsider(w)),
    ServiceRecord: lambda w: f.record(_site(w), _service(w)),
    Partner: _partner,
    PartnerService: _service,
    RevenueShare: _agreement,
    Settlement: lambda w: f.settlement(_agreement(w)),
    Program: _program,
    Enrolment: _enrolment,
    Attendance: lambda w: f.attendance(_enrolment(w)),
    SiteEvent: _event,
}

API_DETAIL: dict[type[models.Model], str] = {
    Site: "/api/v1/site-directory/{pk}/",
    Booking: "/api/v1/site-bookings/{pk}/",
    ServiceRequest: "/api/v1/site-requests/{pk}/",
    Program: "/api/v1/site-programs/{pk}/",
    Partner: "/api/v1/site-partners/{pk}/",
}
CONSOLE_DETAIL: dict[type[models.Model], str] = {
    Site: "/console/sites/{pk}/",
    Program: "/console/sites/programs/{pk}/",
}
