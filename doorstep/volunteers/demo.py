"""A year of volunteering in the demo jurisdiction: Baiyin's 颐和社区 (sanitation,
clearing clutter, security patrol, the love classroom for children) and Dongshan's
villages (environment supervisors, 邻里帮帮行 elderly help, 有德评理人 mediators and the
joint patrol teams), with party-member posts, and hours confirmed into points through
the ledger; and each team's next activities in the two weeks after the day it is built,
open for sign-up. Deterministic for a given ``rng`` and day; everyone is synthetic."""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field
from typing import Any

from doorstep.core import timeutils
from doorstep.orgs.demo import DemoTree
from doorstep.orgs.models import Unit
from doorstep.people.models import PartyMember, Person
from doorstep.people.selectors import years_before
from doorstep.points.choices import ActivityType
from doorstep.points.services import earning_rule_set, rule_for

from .choices import ActivityStatus, CheckMethod, SignupStatus
from .models import Activity, Signup, Team, TeamMember
from .services import signup_confirm, team_create

DAYS = 365
# Each team's next activities, in the two weeks after the day the demo is built, open
# for sign-up: a resident trying the demo finds something to join.
UPCOMING, UPCOMING_DAYS = 2, 14

# (activity type, points per time, per hour, daily cap, monthly cap): Baiyin converts
# times and hours of public work into points; mediation is paid per case.
RULES = [
    (ActivityType.SANITATION, 12, 10, 80, 500),
    (ActivityType.CLUTTER, 12, 10, 80, 500),
    (ActivityType.PATROL, 12, 10, 80, 500),
    (ActivityType.ELDERLY_HELP, 12, 13, 80, 500),
    (ActivityType.MEDIATION, 42, 0, 100, 500),
    (ActivityType.TUTORING, 12, 13, 80, 500),
    (ActivityType.RESETTLEMENT, 25, 10, 100, 500),
]

# (team, activity type, place, activities a year at scale 1, crew size range)
YIHE_TEAMS = [
    ("红色物业环境卫生队", ActivityType.SANITATION, "小区广场", 18, (4, 8)),
    ("楼道杂物清理队", ActivityType.CLUTTER, "各楼栋单元", 12, (3, 6)),
    ("平安巡逻队", ActivityType.PATROL, "小区东门", 18, (3, 6)),
    ("爱心课堂", ActivityType.TUTORING, "居民议事厅", 24, (2, 5)),
]
VILLAGE_TEAMS = [
    ("环境监督员", ActivityType.SANITATION, "村委会门前", 12, (4, 8)),
    ("邻里帮帮行", ActivityType.ELDERLY_HELP, "老年活动室", 12, (3, 6)),
    ("有德评理人", ActivityType.MEDIATION, "村民议事厅", 8, (2, 3)),
]
TITLES = {
    ActivityType.SANITATION: ["垃圾清运", "环境卫生大扫除", "绿化带清理"],
    ActivityType.CLUTTER: ["楼道杂物清理", "消防通道清障"],
    ActivityType.PATROL: ["夜间治安巡逻", "节假日平安巡查"],
    ActivityType.TUTORING: ["爱心课堂·课后辅导", "爱心课堂·阅读陪伴"],
    ActivityType.ELDERLY_HELP: ["助老送餐", "独居老人探访"],
    ActivityType.MEDIATION: ["邻里纠纷调解", "宅基地纠纷调解"],
    ActivityType.PATROL + "_joint": ["跨村联合巡逻"],
}


@dataclass
class DemoVolunteering:
    teams: list[Team] = field(default_factory=list)
    activities: int = 0
    confirmed: int = 0
    points: int = 0
    hours: float = 0.0
    by_unit: dict[int, int] = field(default_factory=dict)
    upcoming: int = 0
    # The demo's "today": its year of volunteering ends the day before.
    end: dt.date = field(default_factory=timeutils.local_today)


def _adults(unit: Unit, on: dt.date) -> list[Person]:
    cutoff = years_before(on, 18)
    return list(
        Person.objects.filter(unit.subtree_q(field="unit__path"), birth_date__lte=cutoff)
        .order_by("pk")
        .only("pk", "unit_id", "name", "birth_date")
    )


def _moment(day: dt.date, hour: int) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, tzinfo=timeutils.LOCAL_TZ)


def _year(
    rng: random.Random,
    result: DemoVolunteering,
    *,
    unit: Unit,
    team: Team,
    activity_type: str,
    place: str,
    count: int,
    pool: list[Person],
    party_ids: set[int],
    crew: tuple[int, int],
    titles: list[str],
    joining: Person | None = None,
) -> list[Person]:
    """A year of one team's activities, their sign-ups and confirmed hours; the team's
    regulars, ``joining`` first among them when given (the demo resident)."""
    if not pool:
        return []
    start = result.end - dt.timedelta(days=DAYS)
    regulars = rng.sample(pool, min(len(pool), max(crew[1] * 2, 12)))
    if joining is not None and joining not in regulars[:1]:
        # In place of the first drawn: the other draws stay as they were.
        regulars = [joining, *(p for p in regulars[1:] if p != joining)]
    for member in regulars[: crew[1]]:
        TeamMember.objects.get_or_create(
            team=team, person=member, left_on=None, defaults={"joined_on": start}
        )
    rule = rule_for(unit=unit, activity_type=activity_type)
    for index in range(count):
        day = start + dt.timedelta(days=index * DAYS // count + rng.randint(0, DAYS // count - 1))
        hour = rng.choice([8, 9, 14, 15, 19])
        length = rng.choice([1, 2, 2, 3])
        begins = _moment(day, hour)
        # Every fifth patrol or sanitation shift is a post claimed by party members.
        party_post = activity_type in (ActivityType.PATROL, ActivityType.SANITATION) and (
            index % 5 == 0
        )
        activity = Activity.objects.create(
            unit=unit,
            team=team,
            title=rng.choice(titles) + ("（党员认领岗位）" if party_post else ""),
            activity_type=activity_type,
            place=place,
            starts_at=begins,
            ends_at=begins + dt.timedelta(hours=length),
            slots=crew[1],
            is_party_post=party_post,
            points_rule=rule,
            status=ActivityStatus.CLOSED,
            checkin_token=f"demo{unit.pk:06d}{team.pk:04d}{result.activities:08d}",
        )
        result.activities += 1
        candidates = [p for p in pool if p.pk in party_ids] if party_post else regulars
        if not candidates:
            continue
        size = min(len(candidates), rng.randint(*crew))
        signups = []
        chosen = rng.sample(candidates, size)
        if joining is not None and joining in candidates and joining not in chosen:
            chosen[0] = joining  # the demo resident comes to every one of their team's
        for person in chosen:
            late = dt.timedelta(minutes=rng.choice([0, 0, 5, 10, 20]))
            early = dt.timedelta(minutes=rng.choice([0, 0, 0, 15, 30]))
            signups.append(
                Signup(
                    activity=activity,
                    person=person,
                    status=SignupStatus.CHECKED_OUT,
                    party_claim=party_post,
                    checked_in_at=begins + late,
                    checked_out_at=activity.ends_at - early,
                    check_method=rng.choice([CheckMethod.QR, CheckMethod.STAFF]),
                    minutes=int((activity.ends_at - early - begins - late).total_seconds() // 60),
                )
            )
        for signup in Signup.objects.bulk_create(signups):
            signup.activity = activity
            confirmed = signup_confirm(
                actor=None, signup=signup, at=activity.ends_at + dt.timedelta(hours=2)
            )
            result.confirmed += 1
            result.hours += confirmed.minutes / 60
            if confirmed.transfer is not None:
                result.points += confirmed.transfer.amount
                result.by_unit[unit.pk] = result.by_unit.get(unit.pk, 0) + confirmed.transfer.amount
    return regulars


def _upcoming(
    rng: random.Random,
    result: DemoVolunteering,
    *,
    unit: Unit,
    team: Team,
    activity_type: str,
    place: str,
    regulars: list[Person],
    crew: tuple[int, int],
    titles: list[str],
) -> None:
    """The team's next activities, open for sign-up and partly filled by its regulars."""
    if not regulars:
        return
    tomorrow = timeutils.local_today() + dt.timedelta(days=1)
    rule = rule_for(unit=unit, activity_type=activity_type)
    for index in range(UPCOMING):
        day = tomorrow + dt.timedelta(days=rng.randrange(UPCOMING_DAYS))
        begins = _moment(day, rng.choice([9, 14, 15, 19]))
        activity = Activity.objects.create(
            unit=unit,
            team=team,
            title=titles[index % len(titles)],
            activity_type=activity_type,
            place=place,
            starts_at=begins,
            ends_at=begins + dt.timedelta(hours=rng.choice([1, 2, 2, 3])),
            slots=crew[1],
            points_rule=rule,
            status=ActivityStatus.OPEN,
            checkin_token=f"demo{unit.pk:06d}{team.pk:04d}u{result.upcoming:07d}",
        )
        result.upcoming += 1
        taken = rng.sample(regulars, min(len(regulars), rng.randint(1, max(1, crew[0] - 1))))
        Signup.objects.bulk_create(
            Signup(activity=activity, person=person, status=SignupStatus.SIGNED_UP)
            for person in taken
        )


def build(
    rng: random.Random,
    tree: DemoTree,
    *,
    scale: float = 1.0,
    today: dt.date | None = None,
    resident: Person | None = None,
) -> DemoVolunteering:
    """Rules, teams and a year of confirmed volunteering (points paid by the ledger) up
    to ``today`` (the day the demo is built), and each team's next activities. The demo
    ``resident``, when they live in 颐和社区, is a regular of its first team."""
    result = DemoVolunteering(end=today or timeutils.local_today())
    units = tree.units
    yihe = units["yihe"]
    dongshan = units["dongshan"]
    for where in (yihe, dongshan):  # Dongshan's villages inherit the county's rules
        for activity_type, per_time, per_hour, daily, monthly in RULES:
            earning_rule_set(
                actor=None,
                unit=where,
                activity_type=activity_type,
                points_per_time=per_time,
                points_per_hour=per_hour,
                daily_cap=daily,
                monthly_cap=monthly,
            )
    party_ids = set(PartyMember.objects.values_list("person_id", flat=True))
    volume = max(scale, 0.1)  # tests build a tenth of the year
    # Baiyin: the old compound's teams.
    pool = _adults(yihe, result.end)
    for index, (name, activity_type, place, per_year, crew) in enumerate(YIHE_TEAMS):
        team = team_create(actor=None, unit=yihe, name=name, serves=units["mianfang"])
        result.teams.append(team)
        regulars = _year(
            rng,
            result,
            unit=yihe,
            team=team,
            activity_type=activity_type,
            place=place,
            count=max(1, round(per_year * volume)),
            pool=pool,
            party_ids=party_ids,
            crew=crew,
            titles=TITLES[activity_type],
            joining=resident if index == 0 and resident in pool else None,
        )
        _upcoming(rng, result, unit=yihe, team=team, activity_type=activity_type, place=place,
                  regulars=regulars, crew=crew, titles=TITLES[activity_type])  # fmt: skip
    # Dongshan: the villages that have residents in the demo.
    villages = sorted(
        (u for k, u in units.items() if k.startswith("village_") and k.count("_") == 2),
        key=lambda u: u.path,
    )
    for village in villages:
        pool = _adults(village, result.end)
        if not pool:
            continue
        for name, activity_type, place, per_year, crew in VILLAGE_TEAMS:
            team = team_create(actor=None, unit=village, name=name)
            result.teams.append(team)
            regulars = _year(
                rng,
                result,
                unit=village,
                team=team,
                activity_type=activity_type,
                place=place,
                count=max(1, round(per_year * volume)),
                pool=pool,
                party_ids=party_ids,
                crew=crew,
                titles=TITLES[activity_type],
            )
            _upcoming(rng, result, unit=village, team=team, activity_type=activity_type,
                      place=place, regulars=regulars, crew=crew, titles=TITLES[activity_type])  # fmt: skip
    return result


def summary(result: DemoVolunteering) -> dict[str, Any]:
    return {
        "teams": len(result.teams),
        "activities": result.activities,
        "confirmed": result.confirmed,
        "hours": round(result.hours),
        "points": result.points,
        "upcoming": result.upcoming,
    }
