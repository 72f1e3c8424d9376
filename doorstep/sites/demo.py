"""The demo's service network, after Luzhou's (DIGEST §1): the 大山坪片区 area center of
江阳区, a community center in each of 上平, 江悦 and 莲花池 — 上平's with its day-care and
elderly center (日间照料, 短期托养, 康复护理) —, Red Cube stations in the 佳乐广场 shopping
area (nine stations in one, open late to 22:00 and on holidays) and in an office
building, a Red Cube home in every compound; partners at 江悦社区 (a state-owned
enterprise, a supermarket, a social-work organization, volunteers) with a revenue-share
agreement; and 颐和社区's center with its love classroom (爱心课堂). A year of bookings,
requests, service records and programs ends on the people demo's fixed day; appointment
slots and bookings for the next two weeks are placed after the day the demo is built.

Everything is deterministic given the ``rng``; names of partners are synthetic.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.db.models import F

from doorstep.core import timeutils
from doorstep.core.timeutils import LOCAL_TZ
from doorstep.orgs.demo import DemoTree
from doorstep.people.models import Person
from doorstep.people.selectors import years_before

from .choices import (
    PROGRAM_AUDIENCE,
    BookingStatus,
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
    AppointmentSlot,
    Attendance,
    Booking,
    Enrolment,
    OpeningHours,
    Partner,
    PartnerService,
    Program,
    RequestEvent,
    Room,
    ServiceCategory,
    ServiceRecord,
    ServiceRequest,
    Site,
    StationType,
)
from .services import holiday_calendar_load, revenue_share_create, settlement_issue

# The demo's year ends on the day it is built (``build(today=...)`` pins it), so that
# this month's figures are there whenever the demo is shown.
YEAR = dt.timedelta(days=365)
ALL_CATEGORIES = ["general", "elderly", "education", "health", "childcare", "employment",
                  "culture_sports", "legal"]  # fmt: skip


@dataclass
class DemoSites:
    sites: dict[str, Site] = field(default_factory=dict)
    partners: dict[str, Partner] = field(default_factory=dict)
    bookings: int = 0
    requests: int = 0
    records: int = 0
    holidays: int = 0
    end: dt.date = field(default_factory=timeutils.local_today)  # the demo's "today"

    @property
    def start(self) -> dt.date:
        return self.end - YEAR


def build_partners(tree: DemoTree) -> dict[str, Partner]:
    """江悦社区's partners. Built before the demo accounts: the partner role is scoped to
    one of them."""
    jiangyue = tree.units["jiangyue"]
    rows = [
        ("state_enterprise", "江阳区某国有企业便民服务公司（示例）", PartnerKind.STATE_ENTERPRISE),
        ("supermarket", "江悦便民超市（示例）", PartnerKind.MERCHANT),
        ("social_work", "绿益行社会工作服务中心（示例）", PartnerKind.SOCIAL_ORG),
        ("volunteers", "江悦社区志愿者协会（示例）", PartnerKind.VOLUNTEER),
    ]
    return {
        key: Partner.objects.create(name=name, kind=kind, unit=jiangyue, contact="0830-0000000")
        for key, name, kind in rows
    }


def _site(out: DemoSites, key: str, **kwargs: Any) -> Site:
    categories = kwargs.pop("categories", ["general"])
    stations = kwargs.pop("station_types", [])
    amenities = kwargs.pop("amenities", [])
    site = Site.objects.create(**kwargs)
    site.categories.set(ServiceCategory.objects.filter(code__in=categories))
    site.station_types.set(StationType.objects.filter(code__in=stations))
    from .models import Amenity

    site.amenities.set(Amenity.objects.filter(code__in=amenities))
    out.sites[key] = site
    return site


def _hours(site: Site, spans: Sequence[tuple[Sequence[int], str, str, bool]]) -> None:
    OpeningHours.objects.bulk_create(
        OpeningHours(
            site=site,
            day=day,
            opens=dt.time.fromisoformat(opens),
            closes=dt.time.fromisoformat(closes),
            extended=extended,
        )
        for days, opens, closes, extended in spans
        for day in days
    )


WEEKDAYS = range(5)
OFFICE = [(WEEKDAYS, "08:30", "12:00", False), (WEEKDAYS, "14:00", "17:30", False),
          ([5], "09:00", "12:00", False)]  # fmt: skip
STATION = [(range(8), "09:00", "18:00", False), (range(8), "18:00", "22:00", True)]
HOME = [(range(7), "09:00", "11:30", False), (range(7), "15:00", "18:00", False),
        (range(7), "18:00", "20:00", True)]  # fmt: skip
EVERYDAY = ["drinking_water", "phone_charging", "rest", "first_aid", "wifi", "toilet"]


def _network(tree: DemoTree, rng: random.Random, out: DemoSites) -> None:
    units = tree.units
    area = units["jiangyang_area"]
    center = _site(
        out, "area_center", name="大山坪片区党群服务中心", level=SiteLevel.AREA_CENTER, unit=area,
        lat=28.8862, lng=105.4461, address="江阳区大山坪街道片区综合服务中心",
        manager_kind=ManagerKind.STREET, manager_name="大山坪街道党工委",
        categories=ALL_CATEGORIES, amenities=[*EVERYDAY, "meal_heating", "microwave", "repair_tools"],
        description="片区综合服务中心：八类服务，聚焦“一老一小”，辐射上平、江悦、莲花池三个社区。",
    )  # fmt: skip
    _hours(center, OFFICE)
    for key, name in (
        ("shangping", "上平社区"),
        ("jiangyue", "江悦社区"),
        ("lianhua", "莲花池社区"),
    ):
        community = units[key]
        site = _site(
            out, key, name=f"{name}党群服务中心", level=SiteLevel.COMMUNITY_CENTER, unit=community,
            parent=center, lat=community.lat, lng=community.lng, address=f"江阳区大山坪街道{name}",
            manager_kind=ManagerKind.COMMUNITY, manager_name=f"{name}党委",
            party_org=tree.party_orgs[key],
            categories=["general", "elderly", "culture_sports", "legal"]
            + (["health", "childcare"] if key == "shangping" else []),
            amenities=[*EVERYDAY, "microwave", "repair_tools"],
            description=(
                "日间照料中心：日间照料、短期托养、康复护理。" if key == "shangping" else ""
            ),
        )  # fmt: skip
        _hours(site, OFFICE + ([(range(7), "07:30", "08:30", True)] if key == "shangping" else []))
        for c in range(1, 4):
            compound = units[f"{key}_compound_{c}"]
            home = _site(
                out, f"{key}_home_{c}", name=f"{compound.name}“红立方”之家",
                level=SiteLevel.HOME, unit=compound, parent=site, lat=compound.lat,
                lng=compound.lng, address=f"{compound.name}物业楼一层",
                manager_kind=ManagerKind.PROPERTY_COMPANY if c != 2 else ManagerKind.COMMUNITY,
                manager_name=f"{compound.name}物业服务中心（示例）" if c != 2 else f"{name}党委",
                categories=["general", "elderly", "childcare"], amenities=["drinking_water", "rest", "wifi"],
            )  # fmt: skip
            _hours(home, HOME)
    jiale = _site(
        out, "jiale_station", name="佳乐广场“红立方”党群服务站", level=SiteLevel.STATION,
        setting=StationSetting.SHOPPING_AREA, unit=area, parent=center, lat=28.8871,
        lng=105.4432, address="佳乐广场一层", manager_kind=ManagerKind.STREET,
        manager_name="大山坪街道党工委", party_org=tree.party_orgs["red_cube"],
        categories=["general", "employment", "legal", "health"],
        station_types=[s.code for s in StationType.objects.all()],
        amenities=[*EVERYDAY, "meal_heating", "microwave", "repair_tools"],
        description="九站合一；延时服务至 22:00，节假日照常开放，为快递员、外卖骑手等新就业群体服务。",
    )  # fmt: skip
    _hours(jiale, STATION)
    tower = _site(
        out, "tower_station", name="江悦商务楼宇“红立方”党群服务站", level=SiteLevel.STATION,
        setting=StationSetting.OFFICE_BUILDING, unit=units["jiangyue"], parent=out.sites["jiangyue"],
        lat=round((units["jiangyue"].lat or 28.885) + 0.0015, 6),
        lng=round((units["jiangyue"].lng or 105.445) - 0.001, 6),
        address="江悦商务楼三层", manager_kind=ManagerKind.ENTERPRISE, manager_name="楼宇联合党委（示例）",
        categories=["general", "employment"],
        station_types=["party_guidance", "government", "employment", "rider_energy"],
        amenities=EVERYDAY,
    )  # fmt: skip
    _hours(tower, [(WEEKDAYS, "09:00", "18:00", False), (WEEKDAYS, "18:00", "20:00", True)])
    yihe = units["yihe"]
    yihe_site = _site(
        out, "yihe", name="颐和社区党群服务中心", level=SiteLevel.COMMUNITY_CENTER, unit=yihe,
        lat=yihe.lat, lng=yihe.lng, address="白银区人民路街道颐和社区",
        manager_kind=ManagerKind.COMMUNITY, manager_name="颐和社区党委", party_org=tree.party_orgs["yihe"],
        categories=["general", "elderly", "education", "culture_sports"],
        amenities=[*EVERYDAY, "microwave"],
    )  # fmt: skip
    _hours(yihe_site, OFFICE)
    mianfang = units["mianfang"]
    home = _site(
        out, "mianfang_home", name="棉纺厂小区“红立方”之家", level=SiteLevel.HOME, unit=mianfang,
        parent=yihe_site, lat=mianfang.lat, lng=mianfang.lng, address="棉纺厂小区 8 号楼旁",
        manager_kind=ManagerKind.COMMUNITY, manager_name="棉纺厂小区物业管理委员会",
        categories=["general", "elderly"], amenities=["drinking_water", "rest"],
    )  # fmt: skip
    _hours(home, HOME)
    for index in range(1, 4):
        village = units.get(f"village_5_{index}")
        if village is None:
            continue
        vs = _site(
            out, f"village_{index}", name=f"{village.name}党群服务中心", level=SiteLevel.VILLAGE_CENTER,
            unit=village, lat=village.lat, lng=village.lng, address=f"东山县陈城镇{village.name}",
            manager_kind=ManagerKind.COMMUNITY, manager_name=f"{village.name}党支部",
            categories=["general", "elderly", "legal"], amenities=["drinking_water", "rest"],
        )  # fmt: skip
        _hours(vs, OFFICE)


ROOMS = {
    "area_center": [("多功能厅", 80), ("议事厅", 20), ("老年活动室", 30), ("儿童游乐区", 15)],
    "shangping": [("日间照料室", 30), ("康复护理室", 10), ("议事室", 15)],
    "jiangyue": [("党员活动室", 40), ("文体活动室", 30), ("议事室", 15)],
    "lianhua": [("阅览室", 20), ("议事室", 15)],
    "jiale_station": [("小哥能量站休息区", 12)],
    "yihe": [("爱心课堂", 40), ("议事厅", 20)],
}
# The demo resident's own community's center: where they book a room and ask online.
RESIDENT_SITE = "yihe"
PURPOSES = ["议事协商", "党员活动", "合唱排练", "书法班", "健康讲座", "亲子活动", "读书会",
            "法律咨询会", "太极拳", "邻里茶话会"]  # fmt: skip


def _rooms_and_bookings(rng: random.Random, out: DemoSites, users: list[Any], scale: float) -> None:
    """A year of bookings and two weeks ahead. The staff book for their groups; the demo
    resident (``users[0]``) now and then books a room at their own community's center,
    and has at least one booking coming up there."""
    resident, staff = users[0], users[-1]
    now = timeutils.now()
    first_future = now.astimezone(LOCAL_TZ).date() + dt.timedelta(days=1)
    bookings: list[Booking] = []
    for key, rooms in ROOMS.items():
        for name, capacity in rooms:
            room = Room.objects.create(site=out.sites[key], name=name, capacity=capacity,
                                       bookable_by_residents=name != "党员活动室")  # fmt: skip
            per_week = max(1, round(3 * scale))
            days = [out.start + dt.timedelta(days=d) for d in range(365)]
            days += [first_future + dt.timedelta(days=d) for d in range(14)]
            for day in days:
                if day.weekday() >= 5 or rng.random() > per_week / 5:
                    continue
                hour = rng.choice([9, 10, 15, 16])
                start = dt.datetime.combine(day, dt.time(hour), tzinfo=LOCAL_TZ)
                by_resident = key == RESIDENT_SITE and room.bookable_by_residents
                bookings.append(Booking(
                    room=room, booked_by=resident if by_resident and rng.random() < 0.1 else staff,
                    purpose=rng.choice(PURPOSES),
                    attendees=rng.randint(3, capacity), starts_at=start,
                    ends_at=start + dt.timedelta(hours=1),
                    status=BookingStatus.CANCELLED if rng.random() < 0.05 else BookingStatus.CONFIRMED,
                ))  # fmt: skip
    ahead = [b for b in bookings if b.room.site_id == out.sites[RESIDENT_SITE].pk
             and b.room.bookable_by_residents and b.starts_at > now
             and b.status == BookingStatus.CONFIRMED]  # fmt: skip
    if ahead and not any(b.booked_by is resident for b in ahead):
        ahead[0].booked_by = resident
    Booking.objects.bulk_create(bookings, batch_size=1000)
    out.bookings = len(bookings)


MATTERS = {
    "general": ["开具居住证明", "社保卡办理", "老年优待证", "居住证代办"],
    "employment": ["就业登记", "灵活就业社保参保", "招聘信息咨询"],
    "legal": ["法律咨询", "矛盾纠纷调解咨询"],
    "elderly": ["高龄津贴申请", "养老服务补贴申请"],
    "health": ["慢病随访预约", "健康体检预约"],
}


def _served(site: Site) -> list[int]:
    """Persons living in the unit a site stands in, whom its desk serves in the demo."""
    return list(
        Person.objects.filter(
            site.unit.subtree_q(field="unit__path"), pseudonymized_at__isnull=True
        ).values_list("pk", flat=True)[:2000]
    )


def _requests(rng: random.Random, out: DemoSites, users: list[Any], scale: float) -> None:
    """A year of matters at six sites. Most are registered at the desk for a resident of
    the site's area (or a passer-by, unnamed); the demo resident (``users[0]``) asks
    online now and then at their own community's center."""
    resident = users[0]
    requests: list[ServiceRequest] = []
    now = timeutils.now()
    keys = ["area_center", "shangping", "jiangyue", "lianhua", "jiale_station", "yihe"]
    for key in keys:
        site = out.sites[key]
        served = _served(site)
        count = max(5, round(300 * scale))
        for _i in range(count):
            day = out.start + dt.timedelta(days=rng.randrange(365))
            at = dt.datetime.combine(
                day, dt.time(rng.randint(9, 17), rng.choice([0, 15, 30, 45])), tzinfo=LOCAL_TZ
            )
            category = rng.choice(list(MATTERS))
            mode = rng.choices([RequestMode.ON_RECEIPT, RequestMode.APPOINTMENT, RequestMode.PROXY],
                               weights=[6, 2, 2])[0]  # fmt: skip
            status = RequestStatus.DONE
            if mode == RequestMode.PROXY and (out.end - day).days < 20:
                status = rng.choice(
                    [RequestStatus.SUBMITTED, RequestStatus.ACCEPTED, RequestStatus.IN_PROGRESS]
                )
            elif mode != RequestMode.ON_RECEIPT and rng.random() < 0.05:
                status = RequestStatus.CANCELLED
            documents = (
                [{"name": n, "received": status != RequestStatus.SUBMITTED} for n in ("身份证复印件", "户口簿")]
                if mode == RequestMode.PROXY else []
            )  # fmt: skip
            online = mode != RequestMode.ON_RECEIPT and key == RESIDENT_SITE and rng.random() < 0.08
            requester = resident if online else None
            person = None if online or not served or rng.random() < 0.2 else rng.choice(served)
            requests.append(ServiceRequest(
                site=site, category_id=_category_id(category), mode=mode, status=status,
                matter=rng.choice(MATTERS[category]), requester=requester, person_id=person,
                documents=documents, done_at=at + dt.timedelta(days=rng.randint(0, 5) if mode == RequestMode.PROXY else 0)
                if status == RequestStatus.DONE else None,
            ))  # fmt: skip
            requests[-1]._demo_at = at  # type: ignore[attr-defined]
    created = ServiceRequest.objects.bulk_create(requests, batch_size=1000)
    # Keep the demo's history honest: created_at is when the resident came.
    for req in created:
        req.created_at = req._demo_at  # type: ignore[attr-defined]
    ServiceRequest.objects.bulk_update(created, ["created_at"], batch_size=1000)
    RequestEvent.objects.bulk_create(
        [RequestEvent(request=r, from_status="", to_status=r.status) for r in created],
        batch_size=1000,
    )
    ServiceRecord.objects.bulk_create(
        [ServiceRecord(site=r.site, category_id=r.category_id, delivered_at=r.done_at, request=r)
         for r in created if r.status == RequestStatus.DONE and r.done_at],
        batch_size=1000,
    )  # fmt: skip
    out.requests = len(created)
    # Appointment slots for the coming two weeks at the station and the area center.
    first = now.astimezone(LOCAL_TZ).date() + dt.timedelta(days=1)
    slots = []
    for key, service, category in (("jiale_station", "就业登记", "employment"),
                                   ("area_center", "老年优待证", "general")):  # fmt: skip
        for d in range(14):
            day = first + dt.timedelta(days=d)
            if day.weekday() >= 5:
                continue
            for hour in (9, 10, 15):
                start = dt.datetime.combine(day, dt.time(hour), tzinfo=LOCAL_TZ)
                slots.append(AppointmentSlot(
                    site=out.sites[key], category_id=_category_id(category), service=service,
                    starts_at=start, ends_at=start + dt.timedelta(minutes=30), capacity=4,
                ))  # fmt: skip
    AppointmentSlot.objects.bulk_create(slots)


_CATEGORY_IDS: dict[str, int] = {}


def _category_id(code: str) -> int:
    if not _CATEGORY_IDS:
        _CATEGORY_IDS.update(dict(ServiceCategory.objects.values_list("code", "id")))
    return _CATEGORY_IDS[code]


def _daily_records(rng: random.Random, out: DemoSites, scale: float) -> None:
    """Walk-in services and activities as daily person-times per site and category."""
    busy = {"jiale_station": 120, "area_center": 80, "shangping": 40, "jiangyue": 35, "lianhua": 25,
            "yihe": 30, "tower_station": 30}  # fmt: skip
    rows = []
    for key, site in out.sites.items():
        base = busy.get(key, 8)
        cats = list(site.categories.values_list("id", flat=True))
        for d in range(365):
            day = out.start + dt.timedelta(days=d)
            if day.weekday() >= 5 and site.level not in (SiteLevel.STATION, SiteLevel.HOME):
                continue
            n = max(1, round(base * scale * rng.uniform(0.5, 1.5)))
            rows.append(ServiceRecord(
                site=site, category_id=rng.choice(cats), person_times=n,
                delivered_at=dt.datetime.combine(day, dt.time(rng.randint(9, 20)), tzinfo=LOCAL_TZ),
            ))  # fmt: skip
    ServiceRecord.objects.bulk_create(rows, batch_size=2000)
    out.records += len(rows)


def _people_under(unit: Any, *, elderly: bool, limit: int, on: dt.date) -> list[Person]:
    cutoff = years_before(on, 60)
    qs = Person.objects.filter(household__unit__path__startswith=unit.path)
    qs = (
        qs.filter(birth_date__lte=cutoff)
        if elderly
        else qs.filter(birth_date__gte=years_before(on, 14))
    )
    return list(qs.order_by("id")[:limit])


# Programs residents may sign up for online; the care programs need an assessment first.
OPEN_TO_RESIDENTS = {
    ProgramKind.SENIOR_UNIVERSITY,
    ProgramKind.AFTER_SCHOOL,
    ProgramKind.SUMMER_CARE,
}
# Places an open program keeps free in the demo, for the demo residents to sign up.
PLACES_KEPT = 5
OPEN_TERM = dt.timedelta(days=2 * 365)


def _programs(rng: random.Random, tree: DemoTree, out: DemoSites, users: list[Any]) -> None:
    units = tree.units
    specs = [
        ("shangping", ProgramKind.DAY_CARE, "上平日间照料", "elderly", 30, units["shangping"], True, None),
        ("shangping", ProgramKind.SHORT_STAY, "上平短期托养", "elderly", 10, units["shangping"], True, None),
        ("shangping", ProgramKind.REHABILITATION, "上平康复护理", "health", 15, units["shangping"], True, None),
        ("jiangyue", ProgramKind.SENIOR_UNIVERSITY, "江悦老年大学", "education", 60, units["jiangyue"], True,
         out.partners.get("social_work")),
        ("shangping", ProgramKind.SUMMER_CARE, "上平暑期托管班", "childcare", 40, units["shangping"], False, None),
        ("yihe", ProgramKind.AFTER_SCHOOL, "颐和爱心课堂", "education", 40, units["yihe"], False, None),
    ]  # fmt: skip
    for key, kind, name, category, capacity, unit, elderly, partner in specs:
        summer = kind == ProgramKind.SUMMER_CARE
        is_open = kind in OPEN_TO_RESIDENTS
        # The last summer holidays before the demo's day.
        summer_year = out.end.year if out.end > dt.date(out.end.year, 8, 28) else out.end.year - 1
        starts = dt.date(summer_year, 7, 6) if summer else out.start
        # The classes open to residents run on past the demo's day, so that the site
        # pages offer them to sign up for whenever the demo is served.
        ends = (
            dt.date(summer_year, 8, 28) if summer else (out.end + OPEN_TERM if is_open else out.end)
        )
        people = _people_under(
            unit, elderly=elderly, limit=capacity - (PLACES_KEPT if is_open else 0), on=out.end
        )
        program = Program.objects.create(
            site=out.sites[key], kind=kind, name=name, category_id=_category_id(category),
            partner=partner, capacity=capacity, enrolled=len(people), starts_on=starts, ends_on=ends,
            open_to_residents=is_open,
        )  # fmt: skip
        enrolments = Enrolment.objects.bulk_create(
            Enrolment(program=program, person=p, enrolled_on=starts, status=EnrolmentStatus.ACTIVE)
            for p in people
        )
        if not enrolments:
            continue
        attendance, records = [], []
        day = starts
        weekly = {ProgramKind.SENIOR_UNIVERSITY: {1, 3}, ProgramKind.AFTER_SCHOOL: {0, 2, 4}}.get(
            kind, set(WEEKDAYS)
        )
        while day < min(ends + dt.timedelta(days=1), out.end):  # up to the day before
            if day.weekday() in weekly:
                present = [e for e in enrolments if rng.random() < 0.7]
                attendance += [Attendance(enrolment=e, date=day) for e in present]
                if present:
                    records.append(ServiceRecord(
                        site=program.site, category_id=program.category_id, program=program,
                        person_times=len(present),
                        delivered_at=dt.datetime.combine(day, dt.time(12), tzinfo=LOCAL_TZ),
                    ))  # fmt: skip
            day += dt.timedelta(days=1)
        Attendance.objects.bulk_create(attendance, batch_size=2000)
        ServiceRecord.objects.bulk_create(records, batch_size=2000)
        out.records += len(records)
    _household_enrolments(users, on=out.end)


def _household_enrolments(users: list[Any], *, on: dt.date) -> None:
    """The demo residents' households signed up online: each member of the household of
    a demo account linked to a person joins the first open program for their age (the
    senior university for the old, a class for the young) that still has a place."""
    households = Person.objects.filter(
        user__in=[u.pk for u in users], household__isnull=False
    ).values("household")
    members = Person.objects.filter(household__in=households, pseudonymized_at__isnull=True)
    programs = list(Program.objects.filter(open_to_residents=True, ends_on__gte=on).order_by("id"))
    for person in members.order_by("household_id", "id"):
        for program in programs:
            old = PROGRAM_AUDIENCE.get(ProgramKind(program.kind)) == "old"
            joined = Enrolment.objects.filter(
                program=program, person=person, status=EnrolmentStatus.ACTIVE
            ).exists()
            if joined:
                break
            if (person.is_elderly(on) if old else person.is_child(on)) and (
                program.enrolled < program.capacity
            ):
                Enrolment.objects.create(
                    program=program, person=person, enrolled_on=on - dt.timedelta(days=30)
                )
                Program.objects.filter(pk=program.pk).update(enrolled=F("enrolled") + 1)
                program.enrolled += 1
                break


def _partner_services(rng: random.Random, out: DemoSites) -> None:
    site = out.sites["jiangyue"]
    partners = out.partners
    offers = [
        ("state_enterprise", "助餐服务", "elderly", Pricing.LOW_COST, 1000),
        ("state_enterprise", "家电维修", "general", Pricing.PAID, 3000),
        ("supermarket", "送菜上门", "elderly", Pricing.LOW_COST, 200),
        ("social_work", "老年大学课程", "education", Pricing.FREE, 0),
        ("volunteers", "义诊和理发", "health", Pricing.FREE, 0),
    ]
    services = [
        PartnerService.objects.create(
            partner=partners[p],
            site=site,
            category_id=_category_id(c),
            name=n,
            pricing=pr,
            price_fen=price,
        )
        for p, n, c, pr, price in offers
    ]
    PartnerService.objects.create(
        partner=partners["volunteers"], site=out.sites["shangping"], category_id=_category_id("elderly"),
        name="陪伴聊天", pricing=Pricing.FREE, price_fen=0,
    )  # fmt: skip
    records = []
    for d in range(365):
        day = out.start + dt.timedelta(days=d)
        for service in services:
            if rng.random() < 0.4:
                n = rng.randint(1, 12)
                records.append(ServiceRecord(
                    site=site, category_id=service.category_id, partner_service=service, person_times=n,
                    amount_fen=service.price_fen * n,
                    delivered_at=dt.datetime.combine(day, dt.time(rng.randint(9, 19)), tzinfo=LOCAL_TZ),
                ))  # fmt: skip
    ServiceRecord.objects.bulk_create(records, batch_size=2000)
    out.records += len(records)
    for key, bp in (("state_enterprise", 7000), ("supermarket", 8500)):
        agreement = revenue_share_create(
            actor=None, partner=partners[key], site=site, partner_share_bp=bp, valid_from=out.start,
            terms="场地共享、服务联供、收益分成：合伙人按比例分成，其余留存社区用于公益服务。",
        )  # fmt: skip
        month = dt.date(out.start.year, out.start.month, 1)
        if month < out.start:
            month = dt.date(month.year + (month.month == 12), month.month % 12 + 1, 1)
        while True:
            following = dt.date(month.year + (month.month == 12), month.month % 12 + 1, 1)
            last = following - dt.timedelta(days=1)
            if last >= out.end:
                break
            settlement_issue(
                actor=None, agreement_id=agreement.pk, period_start=month, period_end=last
            )
            month = following


CALENDAR_DIR = Path(__file__).resolve().parent / "data"


def load_holidays(year: int) -> int:
    """Load the national holiday calendar shipped for ``year`` (``data/cn-<year>.csv``:
    public holidays and the adjusted working days, 调休), through the same service an
    administrator's upload goes through. Returns the number of days, 0 when no file
    ships for that year."""
    path = CALENDAR_DIR / f"cn-{year}.csv"
    if not path.exists():
        return 0
    return holiday_calendar_load(
        actor=None, year=year, content=path.read_bytes(), filename=path.name
    )


def build(
    rng: random.Random,
    tree: DemoTree,
    partners: dict[str, Partner],
    users: list[Any],
    *,
    scale: float = 1.0,
    today: dt.date | None = None,
) -> DemoSites:
    """The network and its year up to ``today`` (the day the demo is built). ``users``
    book rooms and file requests (the demo accounts); ``partners`` come from
    :func:`build_partners`."""
    out = DemoSites(partners=partners, end=today or timeutils.local_today())
    for year in sorted({out.start.year, out.end.year}):
        out.holidays += load_holidays(year)
    _network(tree, rng, out)
    _rooms_and_bookings(rng, out, users, scale)
    _requests(rng, out, users, scale)
    _daily_records(rng, out, scale)
    _programs(rng, tree, out, users)
    _partner_services(rng, out)
    return out
