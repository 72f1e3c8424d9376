"""Demo households and people for the three case studies. Everyone here is synthetic:
names are drawn at random, ID numbers are well-formed but invented (valid checksum,
the county's region code, a random birth date), and phone numbers use the 170-0000
block. The age structure is that of an old compound (many people over 60) in Baiyin and
of ordinary neighbourhoods and villages elsewhere."""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field
from typing import Any

from doorstep.core.synthetic import person_name
from doorstep.orgs.demo import DemoTree
from doorstep.orgs.models import PartyOrg, Unit

from .choices import LeftReason, Relation
from .idnumber import make_id_number
from .models import Household, Person
from .services import (
    household_close,
    household_create,
    mobile_register,
    party_member_register,
    person_create,
    person_leave,
    person_move,
    person_register,
    person_update,
    person_version,
)

TODAY = dt.date(2026, 11, 1)  # fixed, so that the demo is the same whenever it is built


@dataclass
class DemoPeople:
    households: list[Household] = field(default_factory=list)
    persons: list[Person] = field(default_factory=list)
    by_unit: dict[int, list[Household]] = field(default_factory=dict)
    numbers: _Numbers | None = None


class _Numbers:
    """Unique synthetic ID and phone numbers."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.used: set[str] = set()
        self.phone = 0

    def id_number(self, region: str, birth: dt.date) -> str:
        while True:
            value = make_id_number(region, birth, self.rng.randint(1, 999))
            if value not in self.used:
                self.used.add(value)
                return value

    def next_phone(self) -> str:
        self.phone += 1
        return f"1700{self.phone:07d}"


def _birth(rng: random.Random, age_low: int, age_high: int) -> dt.date:
    days = rng.randint(age_low * 365 + 1, age_high * 365 + 364)
    return TODAY - dt.timedelta(days=days)


def _household_members(rng: random.Random, elderly_share: float) -> list[tuple[str, int, int]]:
    """(relation, min age, max age) for one household."""
    roll = rng.random()
    members: list[tuple[str, int, int]]
    if roll < elderly_share:  # an older couple or a person living alone
        members = [(Relation.HEAD, 60, 92)]
        if rng.random() < 0.65:
            members.append((Relation.SPOUSE, 58, 90))
        return members
    members = [(Relation.HEAD, 28, 59)]
    if rng.random() < 0.8:
        members.append((Relation.SPOUSE, 26, 59))
    for _ in range(rng.choice((0, 1, 1, 2))):
        members.append((Relation.CHILD, 0, 17))
    if rng.random() < 0.25:
        members.append((Relation.PARENT, 60, 88))
    return members


def populate(
    rng: random.Random,
    *,
    places: list[tuple[Unit, int]],
    region: str,
    elderly_share: float,
    numbers: _Numbers,
    people: DemoPeople,
    party_org: PartyOrg | None = None,
) -> None:
    """``places``: (address unit, number of households) pairs."""
    for unit, count in places:
        for index in range(count):
            entrance = str(index // 16 + 1) if unit.kind == "building" else ""
            room = (
                f"{(index % 16) // 2 + 1}0{index % 2 + 1}"
                if unit.kind == "building"
                else f"{index + 1}号"
            )
            household = household_create(unit=unit, entrance=entrance, room=room)
            people.households.append(household)
            people.by_unit.setdefault(unit.pk, []).append(household)
            head: Person | None = None
            for relation, low, high in _household_members(rng, elderly_share):
                birth = _birth(rng, low, high)
                adult = (TODAY - birth).days >= 18 * 365
                person = person_create(
                    name=person_name(rng),
                    household=household,
                    relation=relation,
                    id_number=numbers.id_number(region, birth),
                    phone=numbers.next_phone() if adult else "",
                    guardian=None if adult else head,
                    tags=_tags(rng, birth),
                    today=TODAY,
                )
                head = head or person
                people.persons.append(person)
                if party_org is not None and adult and rng.random() < 0.08:
                    party_member_register(
                        person=person,
                        party_org=party_org,
                        joined_on=birth + dt.timedelta(days=365 * 25),
                    )


def _tags(rng: random.Random, birth: dt.date) -> list[str]:
    age = (TODAY - birth).days // 365
    tags = []
    if rng.random() < 0.04:
        tags.append("disability")
    if 30 <= age <= 75 and rng.random() < 0.03:
        tags.append("veteran")
    if age >= 65 and rng.random() < 0.12:
        tags.append("living_alone")
    if rng.random() < 0.03:
        tags.append("low_income")
    if 20 <= age <= 45 and rng.random() < 0.05:
        tags.append(rng.choice(["courier", "rider", "ride_hailing"]))
    return tags


def build(rng: random.Random, tree: DemoTree, *, scale: float = 1.0) -> DemoPeople:
    """Households and people. ``scale`` shrinks every count (tests use a small one)."""
    people = DemoPeople()
    numbers = people.numbers = _Numbers(rng)
    units = tree.units

    def n(count: int) -> int:
        return max(1, round(count * scale))

    # 白银区 棉纺厂小区: 16 buildings, 736 households (46 each), an old compound.
    populate(
        rng,
        places=[(units[f"mianfang_b{b}"], n(46)) for b in range(1, 17)],
        region="620402",
        elderly_share=0.42,
        numbers=numbers,
        people=people,
        party_org=tree.party_orgs["mianfang"],
    )
    # 江阳区: twelve households per building in the three communities' compounds.
    for key in ("shangping", "jiangyue", "lianhua"):
        places = [
            (units[f"{key}_compound_{c}_b{b}"], n(12)) for c in range(1, 4) for b in range(1, 7)
        ]
        populate(
            rng,
            places=places,
            region="510502",
            elderly_share=0.2,
            numbers=numbers,
            people=people,
            party_org=tree.party_orgs[key],
        )
    # 东山县 陈城镇 and 前楼镇: 25-45 households in each natural village.
    for t_index in (5, 6):
        v_index = 1
        while f"village_{t_index}_{v_index}" in units:
            places = []
            n_index = 1
            while (key := f"village_{t_index}_{v_index}_n{n_index}") in units:
                places.append((units[key], n(rng.randint(25, 45))))
                n_index += 1
            populate(
                rng,
                places=places,
                region="350626",
                elderly_share=0.28,
                numbers=numbers,
                people=people,
                party_org=tree.party_orgs[f"village_{t_index}_{v_index}"],
            )
            v_index += 1
    # Mobile party members (couriers, riders, office workers) reporting to the Red Cube
    # functional party branch of 大山坪片区.
    red_cube = tree.party_orgs["red_cube"]
    origins = [
        "四川省宜宾市某镇党委",
        "重庆市永川区某街道党工委",
        "贵州省毕节市某村党支部",
        "云南省昭通市某社区党委",
    ]
    for index in range(n(60)):
        birth = _birth(rng, 22, 50)
        person = person_create(
            name=person_name(rng),
            unit=units["jiangyang_area"],
            id_number=numbers.id_number(
                rng.choice(["511502", "500118", "520502", "530602"]), birth
            ),
            phone=numbers.next_phone(),
            tags=[rng.choice(["courier", "rider", "ride_hailing"])] if index % 2 == 0 else [],
            today=TODAY,
        )
        people.persons.append(person)
        mobile_register(
            person=person,
            party_org=red_cube,
            registered_on=TODAY - dt.timedelta(days=rng.randint(1, 700)),
            origin_org=rng.choice(origins),
        )
    return people


def upkeep(rng: random.Random, tree: DemoTree, people: DemoPeople, staff: Any) -> list[str]:
    """A week of 棉纺厂小区's registry upkeep, done through the services its community
    worker uses (so each record shows it in its history, and the audit log holds it): an
    old resident living alone moves in with her family and her flat is closed; a couple
    rents that flat, which opens again; a baby is registered; the demo resident's record
    is corrected; the oldest resident of a shared home dies and a young spouse moves
    away. The compound keeps its 736 households. Returns what was done."""
    done: list[str] = []
    numbers = people.numbers if people.numbers is not None else _Numbers(rng)
    compound = tree.units["mianfang"]
    households = [
        h for h in people.households if h.unit.path.startswith(compound.path) and h.is_active
    ]
    members: dict[int, list[Person]] = {}
    for person in Person.objects.filter(household__in=households).order_by("id"):
        members.setdefault(person.household_id or 0, []).append(person)
    alone = next((h for h in households if len(members.get(h.pk, [])) == 1), None)
    family = next(
        (
            h
            for h in households
            if len(members.get(h.pk, [])) >= 3 and h.pk != getattr(alone, "pk", 0)
        ),
        None,
    )
    if alone is not None and family is not None:
        old = members[alone.pk][0]
        person_move(
            actor=staff,
            person_id=old.pk,
            version=person_version(Person.objects.get(pk=old.pk)),
            unit_id=family.unit_id,
            entrance=family.entrance,
            room=family.room,
            relation=Relation.PARENT,
        )
        household_close(actor=staff, household_id=alone.pk)
        tenant = person_register(
            actor=staff,
            unit_id=alone.unit_id,
            entrance=alone.entrance,
            room=alone.room,
            relation=Relation.HEAD,
            name=person_name(rng),
            id_number=numbers.id_number("620402", _birth(rng, 28, 35)),
            phone=numbers.next_phone(),
            today=TODAY,
        )
        person_register(
            actor=staff,
            unit_id=alone.unit_id,
            entrance=alone.entrance,
            room=alone.room,
            relation=Relation.SPOUSE,
            name=person_name(rng),
            id_number=numbers.id_number("620402", _birth(rng, 27, 34)),
            phone=numbers.next_phone(),
            tags=["rider"],
            today=TODAY,
        )
        done += [f"moved {old.pk}", f"closed {alone.pk}", f"registered {tenant.pk}"]
    if family is not None:
        head = members[family.pk][0]
        baby = person_register(
            actor=staff,
            unit_id=family.unit_id,
            entrance=family.entrance,
            room=family.room,
            relation=Relation.GRANDCHILD,
            name=person_name(rng),
            id_number=numbers.id_number("620402", TODAY - dt.timedelta(days=40)),
            guardian_id=head.pk,
            today=TODAY,
        )
        done.append(f"registered {baby.pk}")
    resident = Person.objects.get(pk=people.persons[0].pk)
    if resident.unit.path.startswith(compound.path):
        tags = list(resident.tags.values_list("code", flat=True))
        _person, changed = person_update(
            actor=staff,
            person_id=resident.pk,
            version=person_version(resident),
            name=resident.name,
            relation=resident.relation,
            guardian_id=resident.guardian_id,
            tags=sorted({*tags, "veteran"}),
            today=TODAY,
        )
        if changed:
            done.append(f"corrected {resident.pk}")
    done += _departures(households, members, staff, skip={resident.pk})
    return done


def _departures(
    households: list[Household], members: dict[int, list[Person]], staff: Any, skip: set[int]
) -> list[str]:
    """The oldest resident of a household of two or more dies, and a young spouse moves
    out of the area; both stay in the registry, off the register."""
    done: list[str] = []
    busy = skip | set(Person.objects.filter(user__isnull=False).values_list("pk", flat=True))
    shared = [
        p
        for h in households
        if len(members.get(h.pk, [])) >= 2
        for p in members[h.pk]
        if p.pk not in busy and p.birth_date is not None
    ]
    if not shared:
        return done
    oldest = min(shared, key=lambda p: (p.birth_date, p.pk))
    person_leave(
        actor=staff,
        person_id=oldest.pk,
        version=person_version(Person.objects.get(pk=oldest.pk)),
        reason=LeftReason.DECEASED,
        on=TODAY - dt.timedelta(days=12),
        today=TODAY,
    )
    done.append(f"deceased {oldest.pk}")
    # A young spouse takes a job in Chengdu and moves the registration there.
    leaver = next(
        (
            p
            for p in shared
            if p.relation == Relation.SPOUSE
            and p.household_id != oldest.household_id
            and 26 <= (p.age_on(TODAY) or 0) <= 40
        ),
        None,
    )
    if leaver is not None:
        person_leave(
            actor=staff,
            person_id=leaver.pk,
            version=person_version(Person.objects.get(pk=leaver.pk)),
            reason=LeftReason.MOVED_AWAY,
            on=TODAY - dt.timedelta(days=5),
            note="迁往成都市",
            today=TODAY,
        )
        done.append(f"moved away {leaver.pk}")
    return done
