"""Writes in sites: sites and their hours, the holiday calendar, the road network and
the circle's parameters, rooms and bookings, appointment slots and service requests,
service records, programs, partners and settlements.

Every function is keyword-only, runs in one transaction, checks who may act, and raises
a ``core.errors`` type naming the field when the input is wrong — nothing is changed then.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F, Q, Sum
from django.http import HttpRequest
from django.utils.translation import gettext as _

from doorstep.accounts.audit import audit_record
from doorstep.accounts.models import AuditAction
from doorstep.accounts.scoping import get_scoped_or_404, scoped
from doorstep.core import geo, timeutils
from doorstep.core.errors import Conflict, NotFound, PermissionDenied, ValidationError, full_clean
from doorstep.core.inputs import idempotency_key as check_idempotency_key
from doorstep.core.inputs import is_key
from doorstep.core.timeutils import LOCAL_TZ
from doorstep.orgs.models import PartyOrg, Unit
from doorstep.people.models import Person

from . import calendar_file, hours, network
from .choices import (
    OPEN_STATUSES,
    PARENT_LEVELS,
    TRANSITIONS,
    BookingStatus,
    Datum,
    EnrolmentStatus,
    ManagerKind,
    PartnerKind,
    Pricing,
    ProgramKind,
    RequestMode,
    RequestStatus,
    SiteLevel,
    StationSetting,
)
from .models import (
    Amenity,
    AppointmentSlot,
    Attendance,
    Booking,
    BookingEvent,
    BookingSeries,
    CircleSettings,
    Enrolment,
    HolidayDay,
    OpeningHours,
    Partner,
    PartnerService,
    Program,
    RequestEvent,
    RevenueShare,
    RoadNetwork,
    Room,
    ServiceCategory,
    ServiceRecord,
    ServiceRequest,
    Settlement,
    Site,
    SiteClosure,
    SiteEvent,
    StationType,
)
from .rules import can_configure_sites, can_manage_site, can_manage_unit_sites
from .selectors import household_persons

# Unit kinds a site of each level may belong to.
LEVEL_UNIT_KINDS: dict[str, set[str]] = {
    SiteLevel.AREA_CENTER: {"area", "street", "town"},
    SiteLevel.COMMUNITY_CENTER: {"community"},
    SiteLevel.VILLAGE_CENTER: {"village"},
    SiteLevel.STATION: {"community", "area", "street"},
    SiteLevel.HOME: {"compound", "community", "natural_village", "village"},
}
MAX_OCCURRENCES = 200
MAX_BOOKING_HOURS = 12


def _clean(obj: Any, exclude: Sequence[str] = ()) -> None:
    full_clean(obj, exclude=list(exclude))


def _must_manage(actor: Any, site: Site) -> Site:
    """The site, if the actor may see it (else 404) and run it (else 403)."""
    visible = get_scoped_or_404(actor, Site, pk=site.pk)
    if not can_manage_site(actor, visible):
        raise PermissionDenied(_("只有阵地所在社区及上级的工作人员可以管理该阵地。"))
    return visible


def _active_site(site_id: int) -> Site:
    site = Site.objects.filter(pk=site_id, is_active=True).select_related("unit").first()
    if site is None:
        raise NotFound(_("找不到该阵地。"))
    return site


def _codes(model: Any, codes: Iterable[str], field: str) -> list[Any]:
    wanted = sorted({c for c in codes if c})
    rows = list(model.objects.filter(code__in=wanted, is_active=True))
    missing = sorted(set(wanted) - {r.code for r in rows})
    if missing:
        raise ValidationError(
            _("未知的代码：%(codes)s。") % {"codes": "、".join(missing)}, field=field
        )
    return rows


def _log(
    actor: Any,
    action: str,
    obj: Any,
    *,
    site: Site | None = None,
    unit: Unit | None = None,
    detail: dict[str, Any] | None = None,
) -> SiteEvent:
    """Append one row to the network's history (who, when, what)."""
    return SiteEvent.objects.create(
        unit=unit if unit is not None else site.unit,  # type: ignore[union-attr]
        site=site,
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        action=action,
        object_type=obj._meta.model_name,
        object_id=obj.pk,
        detail=detail or {},
    )


def _jsonable(value: Any) -> Any:
    if isinstance(value, (dt.date, dt.time, dt.datetime)):
        return value.isoformat()
    if hasattr(value, "pk"):
        return value.pk
    return value


def _changes(obj: Any, before: dict[str, Any], fields: Iterable[str]) -> dict[str, Any]:
    return {
        f: [_jsonable(before[f]), _jsonable(getattr(obj, f))]
        for f in fields
        if before[f] != getattr(obj, f)
    }


def location_from_input(lat: Any, lng: Any, datum: str = Datum.WGS84) -> tuple[float, float]:
    """A WGS-84 point from map-app input: validated (inside China, not swapped) in the
    datum it came in, then converted."""
    point = geo.validate_point(lat, lng, field="location")
    wlat, wlng = geo.to_wgs84(point.lat, point.lng, datum or Datum.WGS84)
    final = geo.validate_point(wlat, wlng, field="location")
    return round(final.lat, 7), round(final.lng, 7)


# --- Sites -------------------------------------------------------------------------------


SITE_FIELDS = ("name", "level", "setting", "parent", "unit", "lat", "lng", "address", "phone",
               "manager_kind", "manager_name", "party_org", "description")  # fmt: skip


def _check_site_fields(
    *, actor: Any, level: str, unit: Unit, parent: Site | None, setting: str, manager_kind: str,
    party_org: PartyOrg | None, site: Site | None = None,
) -> None:  # fmt: skip
    """The rules a site's level, unit, parent and manager keep, on creation and on edit."""
    if actor is not None and not can_manage_unit_sites(actor, unit):
        raise PermissionDenied(_("只有该单元及上级的工作人员可以在此设立阵地。"), field="unit")
    if level not in SiteLevel.values:
        raise ValidationError(_("未知的阵地层级。"), field="level")
    if unit.kind not in LEVEL_UNIT_KINDS[level]:
        raise ValidationError(_("该层级的阵地不能设在这一级单元。"), field="unit")
    if parent is not None:
        if parent.level not in PARENT_LEVELS[level]:
            raise ValidationError(_("上级阵地的层级不对。"), field="parent")
        if not parent.is_active:
            raise ValidationError(_("上级阵地已停用。"), field="parent")
        if site is not None and site.pk is not None:
            node: Site | None = parent
            while node is not None:
                if node.pk == site.pk:
                    raise ValidationError(_("上级阵地不能是它自己或它的下级。"), field="parent")
                node = node.parent
    elif level not in (SiteLevel.AREA_CENTER, SiteLevel.COMMUNITY_CENTER, SiteLevel.VILLAGE_CENTER):
        raise ValidationError(_("站和之家必须挂在上级阵地之下。"), field="parent")
    if setting and setting not in StationSetting.values:
        raise ValidationError(_("未知的场景。"), field="setting")
    if manager_kind not in ManagerKind.values:
        raise ValidationError(_("未知的管理主体类型。"), field="manager_kind")
    if party_org is not None and actor is not None:
        get_scoped_or_404(actor, PartyOrg, pk=party_org.pk)


@transaction.atomic
def site_create(
    *,
    actor: Any,
    name: str,
    level: str,
    unit: Unit,
    lat: Any,
    lng: Any,
    address: str,
    manager_kind: str,
    manager_name: str,
    datum: str = Datum.WGS84,
    parent: Site | None = None,
    party_org: PartyOrg | None = None,
    setting: str = "",
    phone: str = "",
    description: str = "",
    categories: Iterable[str] = (),
    station_types: Iterable[str] = (),
    amenities: Iterable[str] = (),
) -> Site:
    _check_site_fields(
        actor=actor, level=level, unit=unit, parent=parent, setting=setting,
        manager_kind=manager_kind, party_org=party_org,
    )  # fmt: skip
    wlat, wlng = location_from_input(lat, lng, datum)
    site = Site(
        name=(name or "").strip(),
        level=level,
        setting=setting or "",
        parent=parent,
        unit=unit,
        lat=wlat,
        lng=wlng,
        address=(address or "").strip(),
        phone=(phone or "").strip(),
        manager_kind=manager_kind,
        manager_name=(manager_name or "").strip(),
        party_org=party_org,
        description=(description or "").strip(),
    )
    _clean(site)
    site.save()
    site.categories.set(_codes(ServiceCategory, categories, "categories"))
    site.station_types.set(_codes(StationType, station_types, "station_types"))
    site.amenities.set(_codes(Amenity, amenities, "amenities"))
    _log(actor, "created", site, site=site, detail={"name": site.name, "level": level})
    return site


@transaction.atomic
def site_update(
    *,
    actor: Any,
    site: Site,
    name: str,
    level: str,
    unit: Unit,
    lat: Any,
    lng: Any,
    address: str,
    manager_kind: str,
    manager_name: str,
    datum: str = Datum.WGS84,
    parent: Site | None = None,
    party_org: PartyOrg | None = None,
    setting: str = "",
    phone: str = "",
    description: str = "",
    categories: Iterable[str] = (),
    station_types: Iterable[str] = (),
    amenities: Iterable[str] = (),
    is_active: bool = True,
) -> Site:
    """Edit every fact of a site. The actor must run the site where it is and where it
    goes (a new unit); a site that still has active sites under it stays active."""
    site = _must_manage(actor, site)
    site = Site.objects.select_for_update().select_related("unit").get(pk=site.pk)
    _check_site_fields(
        actor=actor, level=level, unit=unit, parent=parent, setting=setting,
        manager_kind=manager_kind, party_org=party_org, site=site,
    )  # fmt: skip
    if not is_active and site.children.filter(is_active=True).exists():
        raise ValidationError(_("该阵地下还有启用的站点，不能停用。"), field="is_active")
    if level != site.level and site.children.filter(is_active=True).exists():
        children = {c.level for c in site.children.filter(is_active=True)}
        if any(level not in PARENT_LEVELS[c] for c in children):
            raise ValidationError(_("改变层级后，下级站点将挂不上。"), field="level")
    wlat, wlng = location_from_input(lat, lng, datum)
    before = {f: getattr(site, f) for f in (*SITE_FIELDS, "is_active")}
    old_sets = {
        "categories": sorted(site.categories.values_list("code", flat=True)),
        "station_types": sorted(site.station_types.values_list("code", flat=True)),
        "amenities": sorted(site.amenities.values_list("code", flat=True)),
    }
    site.name = (name or "").strip()
    site.level, site.setting, site.parent, site.unit = level, setting or "", parent, unit
    site.lat, site.lng = wlat, wlng
    site.address, site.phone = (address or "").strip(), (phone or "").strip()
    site.manager_kind, site.manager_name = manager_kind, (manager_name or "").strip()
    site.party_org, site.description = party_org, (description or "").strip()
    site.is_active = is_active
    _clean(site)
    new_sets = {
        "categories": _codes(ServiceCategory, categories, "categories"),
        "station_types": _codes(StationType, station_types, "station_types"),
        "amenities": _codes(Amenity, amenities, "amenities"),
    }
    site.save()
    site.categories.set(new_sets["categories"])
    site.station_types.set(new_sets["station_types"])
    site.amenities.set(new_sets["amenities"])
    changes = _changes(site, before, (*SITE_FIELDS, "is_active"))
    for key, rows in new_sets.items():
        codes = sorted(r.code for r in rows)
        if codes != old_sets[key]:
            changes[key] = [old_sets[key], codes]
    if changes:
        _log(actor, "updated", site, site=site, detail=changes)
    return site


@transaction.atomic
def site_move(*, actor: Any, site: Site, lat: Any, lng: Any, datum: str = Datum.WGS84) -> Site:
    site = _must_manage(actor, site)
    before = [site.lat, site.lng]
    site.lat, site.lng = location_from_input(lat, lng, datum)
    site.save(update_fields=["lat", "lng", "updated_at"])
    _log(actor, "moved", site, site=site, detail={"location": [before, [site.lat, site.lng]]})
    return site


def _parse_time(value: Any, field: str) -> dt.time:
    if isinstance(value, dt.time):
        return value
    text = str(value or "").strip()
    if text in ("24:00", "24:00:00"):
        return dt.time(23, 59, 59)
    try:
        return dt.time.fromisoformat(text)
    except ValueError:
        raise ValidationError(
            _("时间格式无效：%(value)s（应为 HH:MM）。") % {"value": text[:20]}, field=field
        ) from None


@transaction.atomic
def site_hours_set(
    *, actor: Any, site: Site, intervals: Iterable[Sequence[Any]]
) -> list[OpeningHours]:
    """Replace the weekly schedule. Each interval is (day 0–7, opens, closes[, extended]);
    day 7 is public holidays. A bad interval refuses the whole schedule."""
    site = _must_manage(actor, site)
    parsed: list[tuple[int, dt.time, dt.time, bool]] = []
    for item in intervals:
        try:
            day = int(item[0])
        except (TypeError, ValueError, IndexError):
            raise ValidationError(_("星期无效。"), field="hours") from None
        opens = _parse_time(item[1], "hours")
        closes = _parse_time(item[2], "hours")
        extended = bool(item[3]) if len(item) > 3 else False
        parsed.append((day, opens, closes, extended))
    problems = hours.validate_intervals(parsed)
    if problems:
        raise ValidationError(errors={"hours": list(problems)})
    before = [
        [h.day, h.opens.isoformat("minutes"), h.closes.isoformat("minutes"), h.extended]
        for h in OpeningHours.objects.filter(site=site).order_by("day", "opens")
    ]
    OpeningHours.objects.filter(site=site).delete()
    rows = OpeningHours.objects.bulk_create(
        OpeningHours(site=site, day=d, opens=o, closes=c, extended=e) for d, o, c, e in parsed
    )
    after = sorted([d, o.isoformat("minutes"), c.isoformat("minutes"), e] for d, o, c, e in parsed)
    _log(actor, "hours_set", site, site=site, detail={"hours": [before, after]})
    return rows


@transaction.atomic
def site_closure_add(
    *,
    actor: Any,
    site: Site,
    starts_on: dt.date,
    ends_on: dt.date,
    reason: str,
    opens: Any = None,
    closes: Any = None,
) -> SiteClosure:
    """Close a site for some days, or (with hours) open it only at those hours then."""
    site = _must_manage(actor, site)
    if ends_on < starts_on:
        raise ValidationError(_("结束日期不能早于开始日期。"), field="ends_on")
    if (opens is None) != (closes is None):
        raise ValidationError(_("特别开放时间须同时填写开门和关门。"), field="closes")
    o = _parse_time(opens, "opens") if opens is not None else None
    c = _parse_time(closes, "closes") if closes is not None else None
    if o is not None and c is not None and c <= o:
        raise ValidationError(_("关门时间必须晚于开门时间。"), field="closes")
    closure = SiteClosure(
        site=site, starts_on=starts_on, ends_on=ends_on, opens=o, closes=c, reason=reason.strip()
    )
    _clean(closure)
    closure.save()
    _log(actor, "closure_added", closure, site=site, detail={
        "starts_on": starts_on.isoformat(), "ends_on": ends_on.isoformat(),
        "opens": o.isoformat("minutes") if o else None,
        "closes": c.isoformat("minutes") if c else None, "reason": closure.reason,
    })  # fmt: skip
    return closure


# --- Holiday calendar, road network, circle parameters -------------------------------------


def _must_configure(actor: Any) -> None:
    if actor is not None and not can_configure_sites(actor):
        raise PermissionDenied(_("只有系统管理员或市、县管理员可以进行此项设置。"))


@transaction.atomic
def holiday_calendar_load(
    *,
    actor: Any,
    year: int,
    content: bytes | str,
    filename: str = "",
    request: HttpRequest | None = None,
) -> int:
    """Replace the year's holidays and adjusted working days with the file's (all or
    nothing). Returns the number of days loaded."""
    _must_configure(actor)
    if not 2000 <= int(year) <= 2100:
        raise ValidationError(_("年份无效。"), field="year")
    days = calendar_file.parse(content, year=int(year), filename=filename)
    HolidayDay.objects.filter(date__year=year).delete()
    HolidayDay.objects.bulk_create(HolidayDay(date=d.date, kind=d.kind, name=d.name) for d in days)
    audit_record(
        action=AuditAction.IMPORT,
        actor=actor,
        object_type="sites.HolidayDay",
        object_id=str(year),
        request=request,
        detail={"what": "holiday_calendar", "year": year, "days": len(days)},
    )
    return len(days)


@transaction.atomic
def road_network_load(
    *,
    actor: Any,
    name: str,
    filename: str,
    content: bytes | None = None,
    path: str | Path | None = None,
    request: HttpRequest | None = None,
) -> RoadNetwork:
    """Load a walking network from an OSM ``.pbf`` (by path, since pyrosm reads files) or
    GeoJSON lines (content or path) and make it the active one."""
    _must_configure(actor)
    lower = filename.lower()
    if lower.endswith(".pbf"):
        if path is None:
            raise ValidationError(_("请提供 .pbf 文件。"), field="file")
        net = network.from_pbf(path)
    elif lower.endswith((".geojson", ".json")):
        raw = content if content is not None else Path(path or "").read_bytes()
        net = network.from_geojson(raw)
    else:
        raise ValidationError(_("路网文件须为 .pbf 或 .geojson。"), field="file")
    RoadNetwork.objects.filter(is_active=True).update(is_active=False)
    row = RoadNetwork.objects.create(
        name=(name or filename)[:100],
        source=Path(filename).name[:200],
        nodes=net.size,
        edges=len(net.u),
        min_lat=float(net.lat.min()),
        min_lng=float(net.lng.min()),
        max_lat=float(net.lat.max()),
        max_lng=float(net.lng.max()),
        data=network.to_bytes(net),
        loaded_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    audit_record(
        action=AuditAction.IMPORT,
        actor=actor,
        obj=row,
        request=request,
        detail={"what": "road_network", "nodes": net.size, "edges": len(net.u)},
    )
    return row


@transaction.atomic
def circle_settings_update(
    *, actor: Any, walking_speed_m_per_min: float, detour_factor: float, minutes: int
) -> CircleSettings:
    _must_configure(actor)
    row = CircleSettings.objects.select_for_update().first() or CircleSettings()
    row.walking_speed_m_per_min = float(walking_speed_m_per_min)
    row.detour_factor = float(detour_factor)
    row.minutes = int(minutes)
    if not 5 <= row.minutes <= 60:
        raise ValidationError(_("分钟数应在 5 到 60 之间。"), field="minutes")
    _clean(row)
    row.save()
    return row


# --- Rooms and bookings --------------------------------------------------------------------


@transaction.atomic
def room_create(
    *, actor: Any, site: Site, name: str, capacity: int, functions: Iterable[str] = (),
    bookable_by_residents: bool = True,
) -> Room:  # fmt: skip
    site = _must_manage(actor, site)
    room = Room(
        site=site, name=(name or "").strip(), capacity=capacity,
        bookable_by_residents=bookable_by_residents,
    )  # fmt: skip
    _clean(room)
    functions_ = _codes(ServiceCategory, functions, "functions")
    room.save()
    room.functions.set(functions_)
    _log(actor, "created", room, site=site, detail={"name": room.name, "capacity": capacity})
    return room


@transaction.atomic
def room_update(
    *, actor: Any, room_id: int, name: str, capacity: int, functions: Iterable[str] = (),
    bookable_by_residents: bool = True, is_active: bool = True,
) -> Room:  # fmt: skip
    """Edit a room. Its capacity may not fall below the attendees of a confirmed booking
    still to come."""
    # Room's scope may follow a to-many relation (DISTINCT), which PostgreSQL refuses to
    # combine with FOR UPDATE: check the scope first, then lock the row by its key.
    visible = get_scoped_or_404(actor, Room, Room.objects.select_related("site__unit"), pk=room_id)
    _must_manage(actor, visible.site)
    room = Room.objects.select_for_update().select_related("site__unit").get(pk=visible.pk)
    fields = ("name", "capacity", "bookable_by_residents", "is_active")
    before = {f: getattr(room, f) for f in fields}
    room.name, room.capacity = (name or "").strip(), capacity
    room.bookable_by_residents, room.is_active = bookable_by_residents, is_active
    _clean(room)
    biggest = (
        Booking.objects.filter(
            room=room, status=BookingStatus.CONFIRMED, ends_at__gt=timeutils.now()
        )
        .order_by("-attendees")
        .values_list("attendees", flat=True)
        .first()
    )
    if biggest is not None and capacity < biggest:
        raise ValidationError(
            _("已有 %(n)d 人的预订，容纳人数不能更少。") % {"n": biggest}, field="capacity"
        )
    functions_ = _codes(ServiceCategory, functions, "functions")
    old_functions = sorted(room.functions.values_list("code", flat=True))
    room.save()
    room.functions.set(functions_)
    changes = _changes(room, before, fields)
    if sorted(f.code for f in functions_) != old_functions:
        changes["functions"] = [old_functions, sorted(f.code for f in functions_)]
    if changes:
        _log(actor, "updated", room, site=room.site, detail=changes)
    return room


def _booking_room(actor: Any, room_id: int) -> tuple[Room, bool]:
    """The room and whether the actor books it as staff of its site."""
    room = Room.objects.select_related("site__unit").filter(pk=room_id, is_active=True).first()
    if room is None or not room.site.is_active:
        raise NotFound(_("找不到该功能室。"))
    staff = can_manage_site(actor, room.site)
    if not staff and not room.bookable_by_residents:
        raise NotFound(_("找不到该功能室。"))
    return room, staff


def _check_slot_in_hours(room: Room, starts_at: dt.datetime, ends_at: dt.datetime) -> None:
    local_start, local_end = starts_at.astimezone(LOCAL_TZ), ends_at.astimezone(LOCAL_TZ)
    if local_start.date() != local_end.date() and local_end.time() != dt.time(0):
        raise ValidationError(_("预订不能跨天。"), field="ends_at")
    day = local_start.date()
    intervals = hours.intervals_on(
        room.site.hours.all(), room.site.closures.all(), day, hours.holidays_between(day, day)
    )
    s, e = local_start.time(), local_end.time()
    if not any(o <= s and e <= c for o, c, _x in intervals):
        raise ValidationError(_("所选时间不在阵地开放时间内。"), field="starts_at")


def _overlapping(room: Room, starts_at: dt.datetime, ends_at: dt.datetime) -> Booking | None:
    return (
        Booking.objects.filter(
            room=room, status=BookingStatus.CONFIRMED, starts_at__lt=ends_at, ends_at__gt=starts_at
        )
        .order_by("starts_at")
        .first()
    )


def _insert_booking(booking: Booking) -> Booking:
    """Insert one booking after checking it overlaps none. On SQLite the surrounding
    transaction is IMMEDIATE (the write lock is held from BEGIN), so the check and the
    insert are serialized; on PostgreSQL the exclusion constraint is the final word."""
    clash = _overlapping(booking.room, booking.starts_at, booking.ends_at)
    if clash is not None:
        local = clash.starts_at.astimezone(LOCAL_TZ)
        raise Conflict(
            _("该功能室在 %(when)s 已有预订。") % {"when": local.strftime("%Y-%m-%d %H:%M")},
            field="starts_at",
        )
    try:
        with transaction.atomic():
            booking.save()
    except IntegrityError:
        raise Conflict(_("该功能室在所选时间已有预订。"), field="starts_at") from None
    return booking


def _validate_booking_times(
    room: Room, starts_at: dt.datetime, ends_at: dt.datetime, attendees: int
) -> None:
    if starts_at.tzinfo is None or ends_at.tzinfo is None:
        raise ValidationError(_("时间必须带时区。"), field="starts_at")
    if ends_at <= starts_at:
        raise ValidationError(_("结束时间必须晚于开始时间。"), field="ends_at")
    if ends_at - starts_at > dt.timedelta(hours=MAX_BOOKING_HOURS):
        raise ValidationError(_("单次预订不能超过 12 小时。"), field="ends_at")
    if starts_at < timeutils.now() - dt.timedelta(minutes=5):
        raise ValidationError(_("不能预订过去的时间。"), field="starts_at")
    if attendees < 1 or attendees > room.capacity:
        raise ValidationError(
            _("人数应在 1 到 %(capacity)d 之间。") % {"capacity": room.capacity}, field="attendees"
        )


@transaction.atomic
def booking_create(
    *,
    actor: Any,
    room_id: int,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    purpose: str,
    attendees: int = 1,
) -> Booking:
    room, staff = _booking_room(actor, room_id)
    _validate_booking_times(room, starts_at, ends_at, attendees)
    if not staff:
        _check_slot_in_hours(room, starts_at, ends_at)
    booking = Booking(
        room=room, booked_by=actor, purpose=(purpose or "").strip(), attendees=attendees,
        starts_at=starts_at, ends_at=ends_at,
    )  # fmt: skip
    _clean(booking, exclude=["room", "booked_by"])
    _insert_booking(booking)
    BookingEvent.objects.create(booking=booking, actor=actor, action="booked")
    return booking


def occurrences(
    *, first_date: dt.date, last_date: dt.date, weekdays: Iterable[int], interval_weeks: int = 1
) -> list[dt.date]:
    days = sorted(set(weekdays))
    if not days or any(not 0 <= d <= 6 for d in days):
        raise ValidationError(_("请选择周一到周日中的至少一天。"), field="weekdays")
    if last_date < first_date:
        raise ValidationError(_("末次日期不能早于首次日期。"), field="last_date")
    if not 1 <= interval_weeks <= 8:
        raise ValidationError(_("间隔周数应在 1 到 8 之间。"), field="interval_weeks")
    week0 = first_date - dt.timedelta(days=first_date.weekday())
    out = []
    day = first_date
    while day <= last_date:
        if day.weekday() in days and ((day - week0).days // 7) % interval_weeks == 0:
            out.append(day)
            if len(out) > MAX_OCCURRENCES:
                raise ValidationError(
                    _("周期预订最多 %(n)d 次。") % {"n": MAX_OCCURRENCES}, field="last_date"
                )
        day += dt.timedelta(days=1)
    if not out:
        raise ValidationError(_("所选日期范围内没有符合的日子。"), field="weekdays")
    return out


@transaction.atomic
def booking_series_create(
    *,
    actor: Any,
    room_id: int,
    purpose: str,
    weekdays: Iterable[int],
    first_date: dt.date,
    last_date: dt.date,
    starts: Any,
    ends: Any,
    attendees: int = 1,
    interval_weeks: int = 1,
) -> BookingSeries:
    """Book a room on a weekly rule. Every occurrence is checked first; one clash (or
    one occurrence outside opening hours, for a resident) books none and names it."""
    room, staff = _booking_room(actor, room_id)
    starts_t, ends_t = _parse_time(starts, "starts"), _parse_time(ends, "ends")
    if ends_t <= starts_t:
        raise ValidationError(_("结束时间必须晚于开始时间。"), field="ends")
    dates = occurrences(
        first_date=first_date, last_date=last_date, weekdays=weekdays, interval_weeks=interval_weeks
    )
    series = BookingSeries(
        room=room, booked_by=actor, purpose=(purpose or "").strip(), weekdays=sorted(set(weekdays)),
        interval_weeks=interval_weeks, first_date=first_date, last_date=last_date,
        starts=starts_t, ends=ends_t,
    )  # fmt: skip
    _clean(series, exclude=["room", "booked_by"])
    series.save()
    for day in dates:
        start = dt.datetime.combine(day, starts_t, tzinfo=LOCAL_TZ)
        end = dt.datetime.combine(day, ends_t, tzinfo=LOCAL_TZ)
        _validate_booking_times(room, start, end, attendees)
        if not staff:
            _check_slot_in_hours(room, start, end)
        booking = Booking(
            room=room, booked_by=actor, series=series, purpose=series.purpose,
            attendees=attendees, starts_at=start, ends_at=end,
        )  # fmt: skip
        _insert_booking(booking)
        BookingEvent.objects.create(booking=booking, actor=actor, action="booked")
    return series


@transaction.atomic
def booking_cancel(*, actor: Any, booking_id: int, note: str = "") -> Booking:
    booking = get_scoped_or_404(
        actor, Booking, Booking.objects.select_related("room__site__unit").select_for_update(),
        pk=booking_id,
    )  # fmt: skip
    if booking.booked_by_id != getattr(actor, "pk", None) and not can_manage_site(
        actor, booking.room.site
    ):
        raise PermissionDenied(_("只有预订人或阵地工作人员可以取消预订。"))
    if booking.status != BookingStatus.CONFIRMED:
        raise Conflict(_("该预订已取消。"), field="status")
    if booking.ends_at <= timeutils.now():
        raise Conflict(_("已结束的预订不能取消。"), field="status")
    booking.status = BookingStatus.CANCELLED
    booking.save(update_fields=["status", "updated_at"])
    BookingEvent.objects.create(booking=booking, actor=actor, action="cancelled", note=note[:200])
    return booking


# --- Appointment slots and service requests ------------------------------------------------


@transaction.atomic
def slot_create(
    *,
    actor: Any,
    site: Site,
    category: str,
    service: str,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    capacity: int,
) -> AppointmentSlot:
    site = _must_manage(actor, site)
    cat = _codes(ServiceCategory, [category], "category")
    if not cat:
        raise ValidationError(_("请选择服务类别。"), field="category")
    if ends_at <= starts_at:
        raise ValidationError(_("结束时间必须晚于开始时间。"), field="ends_at")
    if capacity < 1:
        raise ValidationError(_("名额至少为 1。"), field="capacity")
    slot = AppointmentSlot(
        site=site, category=cat[0], service=(service or "").strip(), starts_at=starts_at,
        ends_at=ends_at, capacity=capacity,
    )  # fmt: skip
    _clean(slot)
    slot.save()
    _log(actor, "created", slot, site=site, detail={
        "service": slot.service, "starts_at": starts_at.isoformat(), "capacity": capacity,
    })  # fmt: skip
    return slot


def _event(req: ServiceRequest, actor: Any, before: str, note: str = "") -> None:
    RequestEvent.objects.create(
        request=req,
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        from_status=before,
        to_status=req.status,
        note=note[:200],
    )


def _record_for(req: ServiceRequest, actor: Any) -> ServiceRecord:
    return ServiceRecord.objects.create(
        site=req.site,
        category=req.category,
        delivered_at=req.done_at or timeutils.now(),
        person_times=1,
        request=req,
        recorded_by=actor if getattr(actor, "is_authenticated", False) else None,
    )


def _same_request(
    existing: ServiceRequest,
    *,
    site_id: int,
    category: str,
    mode: str,
    matter: str,
    slot_id: int | None,
) -> ServiceRequest:
    """A request sent again with its key: the first one, when it asked for the same
    thing; refused when the key was already used for something else."""
    asked = (int(site_id), mode, int(slot_id) if slot_id is not None else None)
    first = (existing.site_id, existing.mode, existing.slot_id)
    same_text = existing.matter == (matter or "").strip()[:100] or existing.slot_id is not None
    if asked != first or existing.category.code != category or not same_text:
        raise Conflict(_("这个幂等键已用于另一项申请。"), field="idempotency_key")
    existing.replayed = True  # type: ignore[attr-defined]
    return existing


def _sent_before(submitter: Any, key: str) -> ServiceRequest | None:
    return (
        ServiceRequest.objects.select_related("category")
        .filter(submitted_by=submitter, idempotency_key=key)
        .first()
    )


def request_submit(
    *,
    actor: Any,
    site_id: int,
    category: str,
    mode: str,
    matter: str,
    slot_id: int | None = None,
    person: Person | None = None,
    documents: Iterable[str] = (),
    note: str = "",
    idempotency_key: str = "",
) -> ServiceRequest:
    """A resident (or staff on their behalf) brings a matter to a site.

    * on receipt — staff only; recorded done at once with its service record;
    * appointment — a place in a slot of the site, refused when the slot is full;
    * proxy — staff will handle it; the documents needed become a checklist.

    The same ``idempotency_key`` from the same user again (a double tap, a retry on a
    bad network) gives back the first request, marked ``replayed``, and takes no second
    place in the slot; the key used for a different request is refused."""
    key = (idempotency_key or "").strip()
    if key:
        key = check_idempotency_key(key, max_length=64)
    submitter = actor if getattr(actor, "is_authenticated", False) else None
    if key and submitter is not None:
        existing = _sent_before(submitter, key)
        if existing is not None:
            return _same_request(
                existing, site_id=site_id, category=category, mode=mode, matter=matter,
                slot_id=slot_id,
            )  # fmt: skip
    site = _active_site(site_id)
    staff = can_manage_site(actor, site)
    if mode not in RequestMode.values:
        raise ValidationError(_("未知的办理方式。"), field="mode")
    cats = _codes(ServiceCategory, [category], "category")
    if not cats:
        raise ValidationError(_("请选择服务类别。"), field="category")
    matter = (matter or "").strip()
    if not matter:
        raise ValidationError(_("请填写办理事项。"), field="matter")
    if person is not None and not staff:
        raise PermissionDenied(_("只有工作人员可以代他人登记。"), field="person")
    req = ServiceRequest(
        site=site, category=cats[0], mode=mode, matter=matter[:100],
        requester=actor if not staff else None, person=person, note=(note or "").strip(),
        submitted_by=submitter, idempotency_key=key if submitter is not None else "",
    )  # fmt: skip
    slot = None
    if mode == RequestMode.ON_RECEIPT:
        if not staff:
            raise PermissionDenied(_("接件即办由阵地工作人员登记。"), field="mode")
        req.status = RequestStatus.DONE
        req.done_at = timeutils.now()
    elif mode == RequestMode.APPOINTMENT:
        if slot_id is None:
            raise ValidationError(_("请选择预约时段。"), field="slot")
        slot = AppointmentSlot.objects.filter(pk=slot_id, site=site).first()
        if slot is None:
            raise ValidationError(_("该阵地没有这个预约时段。"), field="slot")
        if slot.starts_at <= timeutils.now():
            raise ValidationError(_("该时段已开始，不能再预约。"), field="slot")
        req.slot = slot
        req.status = RequestStatus.BOOKED
    else:
        names = [d.strip()[:60] for d in documents if d and d.strip()]
        if len(names) > 30:
            raise ValidationError(_("材料清单最多 30 项。"), field="documents")
        req.documents = [{"name": n, "received": False} for n in dict.fromkeys(names)]
        req.status = RequestStatus.SUBMITTED
    _clean(req, exclude=["site", "category", "requester", "person", "slot", "submitted_by"])
    try:
        with transaction.atomic():
            if slot is not None:
                taken = AppointmentSlot.objects.filter(pk=slot.pk, booked__lt=F("capacity")).update(
                    booked=F("booked") + 1
                )
                if not taken:
                    raise Conflict(_("该时段已约满。"), field="slot")
            req.save()
            _event(req, actor, "")
            if req.status == RequestStatus.DONE:
                _record_for(req, actor)
    except IntegrityError:
        if not key or submitter is None:
            raise
        # A concurrent send with the same key won: its place in the slot stands, ours
        # was rolled back with the rest of this attempt.
        existing = ServiceRequest.objects.select_related("category").get(
            submitted_by=submitter, idempotency_key=key
        )
        return _same_request(
            existing, site_id=site_id, category=category, mode=mode, matter=matter,
            slot_id=slot_id,
        )  # fmt: skip
    return req


@transaction.atomic
def request_documents_mark(
    *, actor: Any, request_id: int, received: Iterable[str]
) -> ServiceRequest:
    req = get_scoped_or_404(
        actor, ServiceRequest, ServiceRequest.objects.select_for_update(), pk=request_id
    )
    if not can_manage_site(actor, req.site):
        raise PermissionDenied(_("只有阵地工作人员可以登记材料。"))
    if req.mode != RequestMode.PROXY or req.status not in OPEN_STATUSES:
        raise Conflict(_("只有办理中的代办事项可以登记材料。"), field="documents")
    names = set(received)
    unknown = names - {d["name"] for d in req.documents}
    if unknown:
        raise ValidationError(
            _("清单中没有这些材料：%(names)s。") % {"names": "、".join(sorted(unknown))},
            field="documents",
        )
    req.documents = [{**d, "received": d["received"] or d["name"] in names} for d in req.documents]
    req.save(update_fields=["documents", "updated_at"])
    return req


@transaction.atomic
def request_transition(
    *, actor: Any, request_id: int, to_status: str, note: str = ""
) -> ServiceRequest:
    """Move a request along its mode's transitions. Staff of the site move it; the
    resident may only cancel their own open request."""
    req = get_scoped_or_404(
        actor, ServiceRequest, ServiceRequest.objects.select_for_update().select_related("site__unit"),
        pk=request_id,
    )  # fmt: skip
    staff = can_manage_site(actor, req.site)
    own = req.requester_id is not None and req.requester_id == getattr(actor, "pk", None)
    if not staff and not (own and to_status == RequestStatus.CANCELLED):
        raise PermissionDenied(_("只有阵地工作人员可以办理此事项。"))
    allowed = TRANSITIONS.get(req.mode, {}).get(req.status, set())
    if to_status not in allowed:
        raise Conflict(
            _("不能从“%(from)s”变为“%(to)s”。")
            % {
                "from": RequestStatus(req.status).label,
                "to": RequestStatus(to_status).label
                if to_status in RequestStatus.values
                else to_status,
            },
            field="status",
        )
    if (
        req.mode == RequestMode.PROXY
        and to_status == RequestStatus.IN_PROGRESS
        and not all(d["received"] for d in req.documents)
    ):
        missing = [d["name"] for d in req.documents if not d["received"]]
        raise ValidationError(
            _("材料未齐：%(names)s。") % {"names": "、".join(missing)}, field="documents"
        )
    if to_status == RequestStatus.RETURNED and not note.strip():
        raise ValidationError(_("退回须说明原因。"), field="note")
    before = req.status
    req.status = to_status
    if to_status == RequestStatus.DONE:
        req.done_at = timeutils.now()
    req.save(update_fields=["status", "done_at", "updated_at"])
    if req.slot_id and to_status in (RequestStatus.CANCELLED, RequestStatus.NO_SHOW):
        AppointmentSlot.objects.filter(pk=req.slot_id, booked__gt=0).update(booked=F("booked") - 1)
    _event(req, actor, before, note)
    if to_status == RequestStatus.DONE:
        _record_for(req, actor)
    return req


def _registered_today(req: ServiceRequest) -> bool:
    return req.created_at.astimezone(LOCAL_TZ).date() == timeutils.now().astimezone(LOCAL_TZ).date()


def request_voidable(actor: Any, req: ServiceRequest) -> bool:
    """Whether ``request_void`` would take this request back: registered today, not yet
    taken up, at a site the actor runs."""
    if req.mode == RequestMode.ON_RECEIPT:
        open_to_void = req.status == RequestStatus.DONE
    else:
        open_to_void = req.status == RequestStatus.SUBMITTED and req.slot_id is None
    return open_to_void and _registered_today(req) and can_manage_site(actor, req.site)


@transaction.atomic
def request_void(
    *, actor: Any, request_id: int, reason: str, request: HttpRequest | None = None
) -> ServiceRequest:
    """Take back a matter registered at the desk by mistake, on the day it was registered:
    one handled on receipt goes from done to cancelled and its person-time leaves the
    site's figures; a proxy matter nobody has accepted yet is cancelled. The request, an
    event with the reason and an audit row keep what happened. Later days, and matters
    already under way, are changed in the site's queue instead."""
    req = get_scoped_or_404(
        actor, ServiceRequest, ServiceRequest.objects.select_for_update().select_related("site__unit"),
        pk=request_id,
    )  # fmt: skip
    if not can_manage_site(actor, req.site):
        raise PermissionDenied(_("只有阵地工作人员可以撤销登记。"))
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError(_("撤销须说明原因。"), field="reason")
    if len(reason) > 200:
        raise ValidationError(_("原因不能超过 200 字。"), field="reason")
    if not request_voidable(actor, req):
        if not _registered_today(req):
            raise Conflict(_("只能撤销当天的登记；以前的事项请在办事队列中处理。"), field="status")
        raise Conflict(
            _("“%(status)s”的事项不能撤销登记。") % {"status": req.get_status_display()},
            field="status",
        )
    before = req.status
    taken_back = ServiceRecord.objects.filter(request=req).aggregate(n=Sum("person_times"))["n"]
    ServiceRecord.objects.filter(request=req).delete()
    req.status = RequestStatus.CANCELLED
    req.save(update_fields=["status", "updated_at"])
    _event(req, actor, before, reason)
    audit_record(
        action=AuditAction.REQUEST_VOIDED,
        actor=actor,
        obj=req,
        request=request,
        detail={"site": req.site_id, "from": before, "person_times": taken_back or 0},
    )
    return req


@transaction.atomic
def record_create(
    *,
    actor: Any,
    site: Site,
    category: str,
    person_times: int,
    delivered_at: dt.datetime | None = None,
    partner_service: PartnerService | None = None,
    amount_fen: int = 0,
) -> ServiceRecord:
    """Record services delivered without a request (an activity, a walk-in group)."""
    site = _must_manage(actor, site)
    cats = _codes(ServiceCategory, [category], "category")
    if not cats:
        raise ValidationError(_("请选择服务类别。"), field="category")
    if person_times < 1:
        raise ValidationError(_("人次至少为 1。"), field="person_times")
    if partner_service is not None and partner_service.site_id != site.pk:
        raise ValidationError(_("该合伙人服务不在此阵地。"), field="partner_service")
    if amount_fen < 0:
        raise ValidationError(_("金额不能为负。"), field="amount_fen")
    if amount_fen and (partner_service is None or partner_service.pricing == Pricing.FREE):
        raise ValidationError(_("只有低偿或有偿的合伙人服务可以收费。"), field="amount_fen")
    moment = delivered_at or timeutils.now()
    if moment > timeutils.now() + dt.timedelta(minutes=5):
        raise ValidationError(_("服务时间不能晚于现在。"), field="delivered_at")
    return ServiceRecord.objects.create(
        site=site, category=cats[0], delivered_at=moment, person_times=person_times,
        partner_service=partner_service, amount_fen=amount_fen,
        recorded_by=actor if getattr(actor, "is_authenticated", False) else None,
    )  # fmt: skip


# --- Programs ----------------------------------------------------------------------------


@transaction.atomic
def program_create(
    *,
    actor: Any,
    site: Site,
    kind: str,
    name: str,
    category: str,
    capacity: int,
    starts_on: dt.date,
    ends_on: dt.date,
    partner: Partner | None = None,
    open_to_residents: bool = False,
) -> Program:
    site = _must_manage(actor, site)
    if kind not in ProgramKind.values:
        raise ValidationError(_("未知的项目类型。"), field="kind")
    cats = _codes(ServiceCategory, [category], "category")
    if not cats:
        raise ValidationError(_("请选择服务类别。"), field="category")
    if ends_on < starts_on:
        raise ValidationError(_("结束日期不能早于开始日期。"), field="ends_on")
    if capacity < 1:
        raise ValidationError(_("名额至少为 1。"), field="capacity")
    program = Program(
        site=site, kind=kind, name=(name or "").strip(), category=cats[0], capacity=capacity,
        starts_on=starts_on, ends_on=ends_on, partner=partner,
        open_to_residents=bool(open_to_residents),
    )  # fmt: skip
    _clean(program)
    program.save()
    _log(actor, "created", program, site=site, detail={
        "name": program.name, "kind": kind, "capacity": capacity,
        "open_to_residents": program.open_to_residents,
    })  # fmt: skip
    return program


# What program_update may change; the site, and the places taken, are not edited here.
PROGRAM_FIELDS = ("name", "kind", "category", "partner", "capacity", "starts_on", "ends_on",
                  "open_to_residents")  # fmt: skip


def _program_facts(program: Program) -> dict[str, Any]:
    """The editable facts of a program as its history records them (the category by its
    code, the partner by its id)."""
    return {
        "name": program.name, "kind": program.kind, "category": program.category.code,
        "partner": program.partner_id, "capacity": program.capacity,
        "starts_on": program.starts_on, "ends_on": program.ends_on,
        "open_to_residents": program.open_to_residents,
    }  # fmt: skip


def _below_enrolled(enrolled: int) -> ValidationError:
    return ValidationError(
        _("名额不能少于已报名人数（%(n)d）。") % {"n": enrolled}, field="capacity"
    )


def _program_partner(actor: Any, partner: Partner) -> Partner:
    """A partner newly given to a program, checked as the create forms check it: one the
    actor sees, still working with the sites (a stopped partner takes no new programs)."""
    if not scoped(actor, Partner).filter(pk=partner.pk).exists():
        raise ValidationError(_("找不到该对象，或不在您的管理范围内。"), field="partner")
    if not partner.is_active:
        raise ValidationError(_("该合伙人已停用。"), field="partner")
    return partner


@transaction.atomic
def program_update(*, actor: Any, program_id: int, **changes: Any) -> Program:
    """Edit a program: its name, kind, category, partner, capacity, dates, and whether
    residents may sign up online. Fields not given keep their value. The capacity may not
    fall below the places taken: the row is locked first, so that no enrolment slips in
    between the check and the save, and ``sites_program_within_capacity`` stands behind
    both. The history records each changed field as ``[from, to]``; a submit that changes
    nothing writes nothing."""
    unknown = sorted(set(changes) - set(PROGRAM_FIELDS))
    if unknown:
        raise TypeError(f"program_update() cannot change {unknown}")
    # Program's scope may follow a to-many relation (DISTINCT), which PostgreSQL refuses to
    # combine with FOR UPDATE: check the scope first, then lock the row by its key.
    visible = get_scoped_or_404(
        actor, Program, Program.objects.select_related("site__unit"), pk=program_id
    )
    site = _must_manage(actor, visible.site)
    program = Program.objects.select_for_update().get(pk=visible.pk)
    program.site = site
    before = _program_facts(program)
    if "name" in changes:
        program.name = (changes["name"] or "").strip()
    if "kind" in changes:
        if changes["kind"] not in ProgramKind.values:
            raise ValidationError(_("未知的项目类型。"), field="kind")
        program.kind = changes["kind"]
    if "category" in changes and changes["category"] != before["category"]:
        # An unchanged category is kept even if it has been retired since.
        cats = _codes(ServiceCategory, [changes["category"]], "category")
        if not cats:
            raise ValidationError(_("请选择服务类别。"), field="category")
        program.category = cats[0]
    if "partner" in changes:
        partner = changes["partner"]
        if partner is not None and partner.pk != program.partner_id:
            partner = _program_partner(actor, partner)
        program.partner = partner
    if "capacity" in changes:
        capacity = changes["capacity"]
        if capacity < 1:
            raise ValidationError(_("名额至少为 1。"), field="capacity")
        if capacity < program.enrolled:
            raise _below_enrolled(program.enrolled)
        program.capacity = capacity
    program.starts_on = changes.get("starts_on", program.starts_on)
    program.ends_on = changes.get("ends_on", program.ends_on)
    if program.ends_on < program.starts_on:
        field = "ends_on" if "ends_on" in changes else "starts_on"
        raise ValidationError(_("结束日期不能早于开始日期。"), field=field)
    if "open_to_residents" in changes:
        program.open_to_residents = bool(changes["open_to_residents"])
    _clean(program)
    after = _program_facts(program)
    diff = {
        f: [_jsonable(before[f]), _jsonable(after[f])] for f in PROGRAM_FIELDS
        if before[f] != after[f]
    }  # fmt: skip
    if not diff:
        return program
    try:
        with transaction.atomic():
            # ``enrolled`` is never written here: sign-ups change it by UPDATE alone.
            program.save(update_fields=[*diff, "updated_at"])
    except IntegrityError as exc:
        if "sites_program_within_capacity" not in str(exc):
            raise
        raise _below_enrolled(
            Program.objects.values_list("enrolled", flat=True).get(pk=program.pk)
        ) from None
    _log(actor, "updated", program, site=site, detail=diff)
    return program


def _local_today() -> dt.date:
    return timeutils.now().astimezone(LOCAL_TZ).date()


def _enrol(program: Program, person: Person, on: dt.date | None = None) -> Enrolment:
    """Take a place in ``program`` for ``person`` and record the enrolment. The place is
    taken by a conditional UPDATE (``enrolled < capacity``), so that sign-ups at the same
    moment never overfill it, on SQLite as on PostgreSQL."""
    if person.left_on is not None:
        raise ValidationError(_("该居民已迁出或去世，不在册。"), field="person")
    if Enrolment.objects.filter(
        program=program, person=person, status=EnrolmentStatus.ACTIVE
    ).exists():
        raise Conflict(_("此人已报名该项目。"), field="person")
    taken = Program.objects.filter(pk=program.pk, enrolled__lt=F("capacity")).update(
        enrolled=F("enrolled") + 1
    )
    if not taken:
        raise Conflict(_("名额已满。"), field="program")
    try:
        with transaction.atomic():
            return Enrolment.objects.create(
                program=program, person=person, enrolled_on=on or _local_today()
            )
    except IntegrityError:
        # Another sign-up for the same person won the race (sites_enrolment_once_active).
        raise Conflict(_("此人已报名该项目。"), field="person") from None


def _withdraw(enrolment: Enrolment) -> Enrolment:
    """Mark an active enrolment withdrawn and give its place back."""
    updated = Enrolment.objects.filter(pk=enrolment.pk, status=EnrolmentStatus.ACTIVE).update(
        status=EnrolmentStatus.WITHDRAWN
    )
    if not updated:
        raise Conflict(_("该报名已退出。"), field="status")
    Program.objects.filter(pk=enrolment.program_id, enrolled__gt=0).update(
        enrolled=F("enrolled") - 1
    )
    enrolment.refresh_from_db()
    return enrolment


def leave_programs(sender: Any, *, person: Person, actor: Any, **kwargs: Any) -> str:
    """A person who moved away or died leaves the programs they were enrolled in: each
    place goes back, recorded in the network's history (``people.signals.person_left``,
    inside the registry's transaction)."""
    left = 0
    for enrolment in Enrolment.objects.select_related("program__site__unit").filter(
        person=person, status=EnrolmentStatus.ACTIVE
    ):
        _withdraw(enrolment)
        _log(actor, "withdrawn", enrolment, site=enrolment.program.site, detail={
            "program": enrolment.program_id, "person": person.pk, "cause": "person_left",
        })  # fmt: skip
        left += 1
    if not left:
        return ""
    return _("已退出%(n)d个阵地服务项目，名额已释放。") % {"n": left}


@transaction.atomic
def program_enrol(
    *, actor: Any, program_id: int, person: Person, on: dt.date | None = None
) -> Enrolment:
    program = get_scoped_or_404(
        actor, Program, Program.objects.select_related("site__unit"), pk=program_id
    )
    if not can_manage_site(actor, program.site):
        raise PermissionDenied(_("只有阵地工作人员可以报名。"))
    get_scoped_or_404(actor, Person, pk=person.pk)
    return _enrol(program, person, on)


@transaction.atomic
def program_withdraw(*, actor: Any, enrolment_id: int) -> Enrolment:
    enrolment = get_scoped_or_404(
        actor, Enrolment, Enrolment.objects.select_related("program__site__unit"), pk=enrolment_id
    )
    if not can_manage_site(actor, enrolment.program.site):
        raise PermissionDenied(_("只有阵地工作人员可以办理退出。"))
    return _withdraw(enrolment)


def _own_person(actor: Any) -> Person:
    if not getattr(actor, "is_authenticated", False):
        raise PermissionDenied(_("请先登录。"), field="person")
    person = Person.objects.filter(user_id=actor.pk, pseudonymized_at__isnull=True).first()
    if person is None:
        raise PermissionDenied(
            _("您的账号还没有关联居民信息，请联系所在社区为您关联后再报名。"), field="person"
        )
    return person


@transaction.atomic
def program_self_enrol(*, actor: Any, program_id: int, person_id: int) -> Enrolment:
    """A resident enrols themselves or a member of their household in a public program
    that is open to residents and has not ended. Whether someone outside the household
    exists is never told: any other person is "not found"."""
    _own_person(actor)
    person = household_persons(actor).filter(pk=person_id).first() if is_key(person_id) else None
    if person is None:
        raise ValidationError(_("找不到该人员，只能为本人或同户家庭成员报名。"), field="person")
    program = (
        Program.objects.select_related("site__unit")
        .filter(pk=program_id, site__is_active=True)
        .first()
        if is_key(program_id)
        else None
    )
    if program is None:
        raise NotFound(_("找不到该项目。"), field="program")
    if not program.open_to_residents:
        raise ValidationError(_("该项目不接受在线报名，请到阵地报名。"), field="program")
    if program.ends_on < _local_today():
        raise ValidationError(_("该项目已结束。"), field="program")
    enrolment = _enrol(program, person)
    _log(actor, "enrolled", enrolment, site=program.site, detail={
        "program": program.pk, "person": person.pk,
    })  # fmt: skip
    return enrolment


@transaction.atomic
def program_self_withdraw(*, actor: Any, enrolment_id: int) -> Enrolment:
    """A resident withdraws an enrolment of themselves or of their household; the
    place is given back. Anyone else's enrolment is "not found"."""
    _own_person(actor)
    enrolment = (
        Enrolment.objects.select_related("program__site__unit")
        .filter(pk=enrolment_id, person__in=household_persons(actor).values("pk"))
        .first()
        if is_key(enrolment_id)
        else None
    )
    if enrolment is None:
        raise NotFound(_("找不到该报名。"))
    enrolment = _withdraw(enrolment)
    _log(actor, "withdrawn", enrolment, site=enrolment.program.site, detail={
        "program": enrolment.program_id, "person": enrolment.person_id,
    })  # fmt: skip
    return enrolment


@transaction.atomic
def attendance_mark(
    *, actor: Any, program_id: int, date: dt.date, enrolment_ids: Iterable[int]
) -> int:
    """Mark who came to a session; new marks become one service record of that many
    person-times. Marking someone twice for a day counts them once."""
    program = get_scoped_or_404(
        actor, Program, Program.objects.select_related("site__unit"), pk=program_id
    )
    if not can_manage_site(actor, program.site):
        raise PermissionDenied(_("只有阵地工作人员可以记出勤。"))
    if not program.starts_on <= date <= program.ends_on:
        raise ValidationError(_("日期不在项目期间内。"), field="date")
    if date > timeutils.now().astimezone(LOCAL_TZ).date():
        raise ValidationError(_("不能为将来的日期记出勤。"), field="date")
    ids = set(enrolment_ids)
    valid = set(
        Enrolment.objects.filter(
            program=program, pk__in=ids, status=EnrolmentStatus.ACTIVE
        ).values_list("pk", flat=True)
    )
    if ids - valid:
        raise ValidationError(_("名单中有人未报名该项目。"), field="enrolments")
    already = set(
        Attendance.objects.filter(enrolment_id__in=valid, date=date).values_list(
            "enrolment_id", flat=True
        )
    )
    new = sorted(valid - already)
    Attendance.objects.bulk_create(Attendance(enrolment_id=e, date=date) for e in new)
    if new:
        moment = dt.datetime.combine(date, dt.time(12), tzinfo=LOCAL_TZ)
        ServiceRecord.objects.create(
            site=program.site, category=program.category, delivered_at=moment,
            person_times=len(new), program=program,
            recorded_by=actor if getattr(actor, "is_authenticated", False) else None,
        )  # fmt: skip
    return len(new)


# --- Partners ------------------------------------------------------------------------------


@transaction.atomic
def partner_create(*, actor: Any, name: str, kind: str, unit: Unit, contact: str = "") -> Partner:
    if actor is not None and not can_manage_unit_sites(actor, unit):
        raise PermissionDenied(_("只有该社区及上级的工作人员可以登记合伙人。"), field="unit")
    if kind not in PartnerKind.values:
        raise ValidationError(_("未知的合伙人类型。"), field="kind")
    partner = Partner(
        name=(name or "").strip(), kind=kind, unit=unit, contact=(contact or "").strip()
    )
    _clean(partner)
    partner.save()
    _log(actor, "created", partner, unit=unit, detail={"name": partner.name, "kind": kind})
    return partner


@transaction.atomic
def partner_update(
    *,
    actor: Any,
    partner: Partner,
    name: str | None = None,
    contact: str | None = None,
    is_active: bool | None = None,
) -> Partner:
    """Rename a partner, change its contact, or stop / resume working with it. A
    stopped partner keeps its services, agreements and settlements (they are history)
    but takes no new ones. The change is an event with the old and new values."""
    if actor is not None and not can_manage_unit_sites(actor, partner.unit):
        raise PermissionDenied(_("只有该社区及上级的工作人员可以修改合伙人。"), field="partner")
    locked = Partner.objects.select_for_update().get(pk=partner.pk)
    changes: dict[str, list[Any]] = {}
    if name is not None and name.strip() != locked.name:
        changes["name"] = [locked.name, name.strip()]
        locked.name = name.strip()
    if contact is not None and contact.strip() != locked.contact:
        changes["contact"] = [locked.contact, contact.strip()]
        locked.contact = contact.strip()
    if is_active is not None and bool(is_active) != locked.is_active:
        changes["is_active"] = [locked.is_active, bool(is_active)]
        locked.is_active = bool(is_active)
    if not changes:
        return locked
    _clean(locked)
    locked.save()
    _log(actor, "updated", locked, unit=locked.unit, detail=changes)
    return locked


@transaction.atomic
def partner_service_create(
    *,
    actor: Any,
    partner: Partner,
    site: Site,
    category: str,
    name: str,
    pricing: str,
    price_fen: int = 0,
) -> PartnerService:
    site = _must_manage(actor, site) if actor is not None else site
    if pricing not in Pricing.values:
        raise ValidationError(_("未知的收费方式。"), field="pricing")
    if pricing == Pricing.FREE and price_fen:
        raise ValidationError(_("无偿服务不收费。"), field="price_fen")
    if pricing != Pricing.FREE and price_fen <= 0:
        raise ValidationError(_("低偿和有偿服务须填写单价。"), field="price_fen")
    cats = _codes(ServiceCategory, [category], "category")
    if not cats:
        raise ValidationError(_("请选择服务类别。"), field="category")
    service = PartnerService(
        partner=partner, site=site, category=cats[0], name=(name or "").strip(), pricing=pricing,
        price_fen=price_fen,
    )  # fmt: skip
    _clean(service)
    service.save()
    _log(actor, "created", service, site=site, detail={
        "partner": partner.pk, "name": service.name, "pricing": pricing, "price_fen": price_fen,
    })  # fmt: skip
    return service


@transaction.atomic
def revenue_share_create(
    *,
    actor: Any,
    partner: Partner,
    site: Site,
    partner_share_bp: int,
    valid_from: dt.date,
    valid_to: dt.date | None = None,
    terms: str = "",
) -> RevenueShare:
    site = _must_manage(actor, site) if actor is not None else site
    if not 0 <= partner_share_bp <= 10000:
        raise ValidationError(_("分成比例应在 0 到 100% 之间。"), field="partner_share_bp")
    if valid_to is not None and valid_to < valid_from:
        raise ValidationError(_("截止日期不能早于生效日期。"), field="valid_to")
    overlapping = RevenueShare.objects.filter(partner=partner, site=site).filter(
        Q(valid_to__isnull=True) | Q(valid_to__gte=valid_from)
    )
    if valid_to is not None:
        overlapping = overlapping.filter(valid_from__lte=valid_to)
    if overlapping.exists():
        raise Conflict(_("该合伙人在此阵地已有同期协议。"), field="valid_from")
    agreement = RevenueShare(
        partner=partner, site=site, partner_share_bp=partner_share_bp, valid_from=valid_from,
        valid_to=valid_to, terms=(terms or "").strip(),
    )  # fmt: skip
    _clean(agreement)
    agreement.save()
    _log(actor, "created", agreement, site=site, detail={
        "partner": partner.pk, "partner_share_bp": partner_share_bp,
        "valid_from": valid_from.isoformat(),
        "valid_to": valid_to.isoformat() if valid_to else None,
    })  # fmt: skip
    return agreement


@transaction.atomic
def settlement_issue(
    *, actor: Any, agreement_id: int, period_start: dt.date, period_end: dt.date
) -> Settlement:
    """The statement of one agreement for one period: what the partner's services at the
    site took in (from service records) and each side's share. The partner's share is
    rounded down to the fen; the remainder stays with the community."""
    agreements = RevenueShare.objects.select_related("site__unit", "partner")
    if actor is None:  # set-up commands and the demo
        agreement = agreements.filter(pk=agreement_id).first()
        if agreement is None:
            raise NotFound(_("找不到该协议。"))
    else:
        agreement = get_scoped_or_404(actor, RevenueShare, agreements, pk=agreement_id)
    if actor is not None and not can_manage_site(actor, agreement.site):
        raise PermissionDenied(_("只有阵地工作人员可以出具结算单。"))
    if period_end < period_start:
        raise ValidationError(_("期间结束不能早于开始。"), field="period_end")
    if period_start < agreement.valid_from or (
        agreement.valid_to is not None and period_end > agreement.valid_to
    ):
        raise ValidationError(_("结算期间超出协议有效期。"), field="period_start")
    if period_end >= timeutils.now().astimezone(LOCAL_TZ).date():
        raise ValidationError(_("期间尚未结束，不能结算。"), field="period_end")
    start = dt.datetime.combine(period_start, dt.time(0), tzinfo=LOCAL_TZ)
    end = dt.datetime.combine(period_end + dt.timedelta(days=1), dt.time(0), tzinfo=LOCAL_TZ)
    totals = ServiceRecord.objects.filter(
        site=agreement.site,
        partner_service__partner=agreement.partner,
        delivered_at__gte=start,
        delivered_at__lt=end,
    ).aggregate(gross=Sum("amount_fen"), n=Sum("person_times"))
    gross = int(totals["gross"] or 0)
    partner_fen = gross * agreement.partner_share_bp // 10000
    settlement = Settlement(
        agreement=agreement, period_start=period_start, period_end=period_end,
        records=int(totals["n"] or 0), gross_fen=gross, partner_fen=partner_fen,
        community_fen=gross - partner_fen,
        issued_by=actor if getattr(actor, "is_authenticated", False) else None,
    )  # fmt: skip
    if Settlement.objects.filter(agreement=agreement, period_start=period_start).exists():
        raise Conflict(_("该期间已出具结算单。"), field="period_start")
    try:
        with transaction.atomic():
            settlement.save()
    except IntegrityError:
        raise Conflict(_("该期间已出具结算单。"), field="period_start") from None
    _log(actor, "issued", settlement, site=agreement.site, detail={
        "period": [period_start.isoformat(), period_end.isoformat()], "gross_fen": gross,
        "partner_fen": partner_fen,
    })  # fmt: skip
    return settlement
