"""A year of appeals in the demo jurisdiction, made through the same services staff use.

Cases come in on every channel, in every color and state; most are handled within their
time limits, some escalate, some are rejected or merged; residents rate about 94% of
rated results satisfied (the case studies report 94.3%), unsatisfied ones reopen one
level up. Red cases are joint cases with the county's or district's departments, which
reply. Wishes are claimed and fulfilled, suggestions adopted or not, sea-use disputes in
Dongshan are mediated, and every community's months are classified and published.

The services take the time from ``services.timezone_now``; the builder moves that clock
through the year so that every event carries the time it happened.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from unittest import mock

from doorstep.accounts.models import User
from doorstep.accounts.roles import Role
from doorstep.accounts.services import role_grant, user_create
from doorstep.core import timeutils
from doorstep.grids.models import GridHousehold
from doorstep.orgs.demo import DemoTree
from doorstep.orgs.models import Department, Unit
from doorstep.people.models import Household

from . import notify, services
from .choices import Action, CaseKind, CaseState, Channel, ClaimantKind, Color, MediationOutcome
from .models import (
    Case,
    Category,
    JointTask,
    Mediation,
    MonthlyClassification,
    Rating,
    WishClaim,
)
from .sla import sla_sweep

SATISFIED_SHARE = 0.943
CASES_AT_SCALE_1 = 600

# (category code, weight) for ordinary problems; Dongshan adds sea use.
PROBLEMS = [
    ("sanitation", 22),
    ("repair", 20),
    ("property", 12),
    ("security", 6),
    ("neighbour", 8),
    ("elderly", 8),
    ("employment", 4),
    ("gov_service", 10),
    ("land", 3),
    ("other", 3),
]
TEXTS = {
    "sanitation": ["楼道堆放杂物无人清理", "垃圾桶满溢，气味很大", "小区绿化带里有建筑垃圾"],
    "repair": ["单元门禁坏了", "路灯不亮，晚上出行不便", "楼顶漏水，雨天渗到室内"],
    "property": ["物业费收取标准不清楚", "物业维修响应太慢", "电梯经常停运"],
    "security": ["夜间有陌生人在楼下徘徊", "电动车在楼道充电有隐患"],
    "neighbour": ["楼上噪音影响休息", "邻居占用公共过道"],
    "elderly": ["希望开设老年助餐点", "独居老人需要定期探访"],
    "employment": ["想咨询灵活就业社保补贴", "希望社区提供技能培训"],
    "gov_service": ["咨询医保转移手续", "想办理居住证，需要什么材料"],
    "land": ["征地补偿款发放进度咨询", "安置房分配方案有疑问"],
    "other": ["建议增加快递柜", "希望组织邻里活动"],
    "sea_use": ["渔船停靠位置争议", "海域养殖边界不清", "渔港清淤迟迟未做"],
    "wish": ["想要一副老花镜", "希望有人帮忙修自行车", "孩子想要一套课外书", "想学用智能手机"],
    "suggestion": [
        "建议在小区入口设置非机动车停放区",
        "建议把闲置活动室改成四点半课堂",
        "建议错峰开放健身器材",
    ],
}
PROXY = [Channel.VISIT, Channel.HOTLINE, Channel.SUGGESTION_BOX, Channel.WECHAT_GROUP]


@dataclass
class DemoAppeals:
    cases: list[Case] = field(default_factory=list)
    clerk: User | None = None


class _Clock:
    def __init__(self, start: dt.datetime) -> None:
        self.moment = start

    def __call__(self) -> dt.datetime:
        return self.moment


@contextmanager
def _quiet_clock(clock: _Clock) -> Iterator[None]:
    with (
        mock.patch.object(services, "timezone_now", clock),
        mock.patch.object(notify, "_channels", lambda: ()),
    ):
        yield


def _clerk(tree: DemoTree) -> User:
    """The account that entered the demo's offline appeals and handled them."""
    user = user_create(
        username="appeals-demo-clerk", password=None, display_name="诉求办理员（演示）"
    )
    for key in ("luzhou", "zhangzhou", "baiyin_city"):
        if key in tree.units:
            role_grant(actor=None, user=user, role=Role.CITY_ADMIN, scope=tree.units[key])
    return user


def _pick(rng: random.Random, weighted: list[tuple[str, int]]) -> str:
    return rng.choices([c for c, _w in weighted], weights=[w for _c, w in weighted])[0]


def _departments_for(case: Case) -> list[Department]:
    from doorstep.core.tree import ancestor_paths

    return list(
        Department.objects.filter(
            unit__path__in=ancestor_paths(case.unit_path), is_active=True
        ).order_by("id")
    )


def build(
    rng: random.Random,
    tree: DemoTree,
    households: list[Household],
    *,
    scale: float = 1.0,
    now: dt.datetime | None = None,
) -> DemoAppeals:
    end = (now or timeutils.now()).replace(minute=0, second=0, microsecond=0)
    start = end - dt.timedelta(days=365)
    clerk = _clerk(tree)
    out = DemoAppeals(clerk=clerk)
    linked = set(
        GridHousehold.objects.filter(household__in=households).values_list(
            "household_id", flat=True
        )
    )
    pool = [h for h in households if h.pk in linked] or households
    if not pool:
        return out
    dongshan = tree.units.get("dongshan")
    count = max(12, round(CASES_AT_SCALE_1 * scale))
    moments = sorted(
        start + dt.timedelta(seconds=rng.uniform(0, 365 * 86400)) for _i in range(count)
    )
    categories = {c.code: c for c in Category.objects.all()}
    clock = _Clock(start)
    with _quiet_clock(clock):
        for index, moment in enumerate(moments):
            household = rng.choice(pool)
            in_dongshan = dongshan is not None and household.unit.path.startswith(dongshan.path)
            roll = rng.random()
            if roll < 0.10:
                kind, code = CaseKind.WISH, "wish"
            elif roll < 0.20:
                kind, code = CaseKind.SUGGESTION, "suggestion"
            elif in_dongshan and roll < 0.32:
                kind, code = CaseKind.DISPUTE, "sea_use"
            else:
                code = _pick(rng, PROBLEMS)
                kind = (
                    CaseKind.DISPUTE
                    if code == "neighbour"
                    else rng.choice(
                        [
                            CaseKind.PROBLEM,
                            CaseKind.PROBLEM,
                            CaseKind.COMPLAINT,
                            CaseKind.CONSULTATION,
                        ]
                    )
                )
            clock.moment = moment
            case = services.case_submit(
                actor=clerk,
                kind=kind,
                category=categories[code],
                channel=rng.choice(PROXY),
                text=rng.choice(TEXTS[code]),
                household=household,
                reporter_person=household.head,
                idempotency_key=f"demo-{index}",
                at=moment,
            )
            Case.objects.filter(pk=case.pk).update(created_at=moment)
            case.created_at = moment
            _live(rng, case, clock, end, clerk, out)
            out.cases.append(case)
        clock.moment = end
        sla_sweep(now=end)
        _month_ends(rng, out, clock, start, end, clerk)
    return out


def _step(case: Case, clerk: User, clock: _Clock, at: dt.datetime, action: str, **kw: Any) -> Case:
    clock.moment = at
    case.refresh_from_db()
    return services.case_transition(
        actor=clerk, case=case, action=action, version=case.version, **kw
    )


def _live(
    rng: random.Random, case: Case, clock: _Clock, end: dt.datetime, clerk: User, out: DemoAppeals
) -> None:
    """Take a case as far through the loop as its age allows."""
    age = end - case.created_at
    hour = dt.timedelta(hours=1)
    t = case.created_at + hour * rng.uniform(0.5, 6)
    if t >= end:
        return  # still submitted
    if rng.random() < 0.04:
        _step(
            case,
            clerk,
            clock,
            t,
            Action.REJECT,
            note="不属于本社区受理范围，已告知居民向相关部门反映",
        )
        return
    if rng.random() < 0.03 and out.cases:
        target = next(
            (
                c
                for c in reversed(out.cases[-40:])
                if c.category_id == case.category_id
                and c.community_id == case.community_id
                and Case.objects.filter(
                    pk=c.pk, state__in=["submitted", "accepted", "assigned", "in_progress"]
                ).exists()
            ),
            None,
        )
        if target is not None:
            _step(case, clerk, clock, t, Action.MERGE, target=target, note="同一问题重复反映")
            return
    _step(case, clerk, clock, t, Action.ACCEPT)
    if case.is_joint:
        _joint(rng, case, clerk, clock, t, end)
    # Handling time as a share of the color's limit: mostly well within it.
    limit = case.deadline - case.clock_started_at if case.deadline else dt.timedelta(days=1)
    share = rng.choice([0.2, 0.3, 0.5, 0.6, 0.8, 0.9, 1.3])
    done = case.created_at + limit * share
    if done >= end or age < limit * 0.3:
        if rng.random() < 0.5 and t + hour < end:
            _step(case, clerk, clock, t + hour, Action.ASSIGN, assignee=clerk)
            if t + 2 * hour < end:
                _step(case, clerk, clock, t + 2 * hour, Action.START)
        return
    _step(case, clerk, clock, t + hour, Action.ASSIGN, assignee=clerk)
    _step(case, clerk, clock, t + 2 * hour, Action.START)
    if case.kind == CaseKind.WISH:
        _wish(rng, case, clerk, clock, done)
    else:
        if case.kind == CaseKind.DISPUTE:
            _mediate(rng, case, clerk, clock, t, done)
        _step(case, clerk, clock, done, Action.RESOLVE, result=_result(case))
    if case.kind == CaseKind.SUGGESTION:
        adopted = rng.random() < 0.55
        case.refresh_from_db()
        clock.moment = done
        services.suggestion_mark(
            actor=clerk,
            case=case,
            version=case.version,
            adopted=adopted,
            problem_solved=adopted and rng.random() < 0.85,
        )
    _rate(rng, case, clerk, clock, done, end)


def _result(case: Case) -> str:
    return {
        Color.GREEN: "网格员现场处理完毕，已回访居民。",
        Color.YELLOW: "村（居）委会协调相关方处理完毕。",
        Color.RED: "党组织牵头会同相关部门办理完毕，结果已公示。",
    }[Color(case.color)]


def _rate(
    rng: random.Random, case: Case, clerk: User, clock: _Clock, done: dt.datetime, end: dt.datetime
) -> None:
    """Residents' ratings by phone follow-up (回访): about 94% satisfied; some never rate
    and the sweep closes those as unrated."""
    rated_at = done + dt.timedelta(hours=rng.uniform(2, 60))
    if rated_at >= end or rng.random() < 0.08:
        return
    clock.moment = rated_at
    case.refresh_from_db()
    if case.state != CaseState.RESOLVED:
        return
    satisfied = rng.random() < SATISFIED_SHARE
    score = rng.choice([4, 5, 5, 5]) if satisfied else rng.choice([1, 2, 3])
    case = services._rate(
        None, case, case.version, score, "满意" if satisfied else "还没有完全解决"
    )
    _date_rating(case, rated_at)
    if case.state == CaseState.ACCEPTED:  # reopened one level up: handled again
        again = rated_at + dt.timedelta(days=rng.uniform(1, 5))
        if again < end:
            _step(case, clerk, clock, again, Action.RESOLVE, result="上一级复核后重新办理完毕。")
            later = again + dt.timedelta(hours=rng.uniform(2, 48))
            if later < end:
                clock.moment = later
                case.refresh_from_db()
                services._rate(None, case, case.version, rng.choice([4, 5]), "这次解决了")
                _date_rating(case, later)


def _date_rating(case: Case, at: dt.datetime) -> None:
    """A rating's row is stamped when written; the demo's was given at ``at``."""
    latest = Rating.objects.filter(case=case).order_by("-id").values_list("id", flat=True)[:1]
    Rating.objects.filter(id__in=list(latest)).update(created_at=at)


def _joint(
    rng: random.Random, case: Case, clerk: User, clock: _Clock, at: dt.datetime, end: dt.datetime
) -> None:
    clock.moment = at
    departments = [
        d for d in _departments_for(case) if not case.tasks.filter(department=d).exists()
    ]
    has_lead = case.tasks.filter(is_lead=True).exists()
    for department in rng.sample(departments, k=min(len(departments), rng.choice([1, 2, 3]))):
        services.joint_task_add(
            actor=clerk,
            case=case,
            department=department,
            is_lead=not has_lead,
            instructions="请核实情况并提出办理意见",
        )
        has_lead = True
    for task in JointTask.objects.filter(case=case, state="open"):
        reply_at = at + dt.timedelta(days=rng.uniform(1, 10))
        if reply_at < end:
            clock.moment = reply_at
            JointTask.objects.filter(pk=task.pk).update(
                state="replied",
                reply="已派员现场核实，按职责提出处理意见。",
                replied_at=reply_at,
                replied_by=clerk,
            )


def _wish(rng: random.Random, case: Case, clerk: User, clock: _Clock, done: dt.datetime) -> None:
    clock.moment = done - dt.timedelta(hours=2)
    kind = rng.choice([ClaimantKind.VOLUNTEER, ClaimantKind.VOLUNTEER, ClaimantKind.PARTY_MEMBER])
    label = {"volunteer": "志愿服务队", "party_member": "党员先锋岗"}[kind]
    claim = WishClaim.objects.create(
        case=case, claimant=clerk, claimant_kind=kind, claimant_label=label
    )
    clock.moment = done
    services.wish_fulfil(actor=clerk, claim_id=claim.pk, note="心愿已实现")


def _mediate(
    rng: random.Random,
    case: Case,
    clerk: User,
    clock: _Clock,
    start: dt.datetime,
    done: dt.datetime,
) -> None:
    clock.moment = start
    mediation = services.mediation_assign(
        actor=clerk, case=case, mediator=clerk, parties="相邻两户渔民"
    )
    sessions = rng.choice([1, 1, 2, 3])
    for n in range(sessions):
        held = start + (done - start) * (n + 1) / (sessions + 1)
        clock.moment = held
        services.mediation_session_log(
            actor=clerk,
            mediation=mediation,
            held_at=held,
            place="村委会调解室",
            attendees="双方当事人、村调解员",
            notes="各方陈述意见，调解员释法说理",
        )
    clock.moment = done
    agreed = rng.random() < 0.85
    services.mediation_conclude(
        actor=clerk,
        mediation=Mediation.objects.get(pk=mediation.pk),
        outcome=MediationOutcome.AGREEMENT if agreed else MediationOutcome.NO_AGREEMENT,
        agreement="双方同意以村里测定的界线为准，互不越界。" if agreed else "",
    )


def _month_ends(
    rng: random.Random,
    out: DemoAppeals,
    clock: _Clock,
    start: dt.datetime,
    end: dt.datetime,
    clerk: User,
) -> None:
    """Classify and publish every finished month of every community that had cases."""
    communities = sorted({c.community_id for c in out.cases})
    month = timeutils.local(start).date().replace(day=1)
    last = timeutils.local(end).date().replace(day=1)
    while month < last:
        month_end = timeutils.month_bounds(month.year, month.month)[1]
        clock.moment = month_end
        for community in Unit.objects.filter(pk__in=communities).order_by("path"):
            cases = list(services_month_cases(community, month))
            if not cases:
                continue
            changes: dict[int, str] = {
                c.pk: Color.YELLOW for c in cases if c.color == Color.GREEN and rng.random() < 0.05
            }
            record = services.month_classify(
                actor=clerk, community=community, year=month.year, month=month.month, colors=changes
            )
            MonthlyClassification.objects.filter(pk=record.pk).update(classified_at=month_end)
            services.month_publish(actor=clerk, classification=record)
        month = (month + dt.timedelta(days=32)).replace(day=1)


def services_month_cases(community: Unit, month: dt.date) -> Any:
    from .selectors import month_cases

    return month_cases(community=community, year=month.year, month=month.month)


def resident_cases(
    resident: User, household: Household, clerk: User, *, now: dt.datetime | None = None
) -> list[Case]:
    """The demo resident's own appeals, reported online from their phone: one handled
    and rated (so closed) a month ago, one resolved yesterday and waiting for their rating, one
    accepted this morning and being handled. The home page and "my cases" then show
    the loop from the resident's side."""
    end = (now or timeutils.now()).replace(second=0, microsecond=0)
    categories = {c.code: c for c in Category.objects.all()}
    plans = [
        ("repair", "楼道灯不亮，晚上上下楼看不清", dt.timedelta(days=30), ("rated", 5)),
        ("sanitation", "单元门口的垃圾桶满了，两天没人清运", dt.timedelta(days=2), ("resolved",)),
        ("repair", "小区东门口的路面有个坑，老人容易绊倒", dt.timedelta(hours=5), ("started",)),
    ]
    clock = _Clock(end)
    out = []
    with _quiet_clock(clock):
        for index, (code, text, ago, plan) in enumerate(plans):
            at = end - ago
            clock.moment = at
            case = services.case_submit(
                actor=resident,
                kind=CaseKind.PROBLEM,
                category=categories[code],
                channel=Channel.ONLINE,
                text=text,
                household=household,
                idempotency_key=f"demo-resident-{index}",
                at=at,
            )
            Case.objects.filter(pk=case.pk).update(created_at=at)
            hour = dt.timedelta(hours=1)
            _step(case, clerk, clock, at + hour, Action.ACCEPT)
            _step(case, clerk, clock, at + 2 * hour, Action.ASSIGN, assignee=clerk)
            _step(case, clerk, clock, at + 2 * hour, Action.START)
            if plan[0] in ("rated", "resolved"):
                _step(case, clerk, clock, at + 20 * hour, Action.RESOLVE, result=_result(case))
            if plan[0] == "rated":
                clock.moment = at + 26 * hour
                case.refresh_from_db()
                services.case_transition(
                    actor=resident, case=case, action=Action.RATE, version=case.version,
                    score=plan[1], comment="处理得很及时，谢谢",
                )  # fmt: skip
                _date_rating(case, at + 26 * hour)
            case.refresh_from_db()
            out.append(case)
    return out


def grid_day(grid: Any, member: User, *, now: dt.datetime | None = None) -> list[Case]:
    """The demo grid's morning, so that the grid member's phone queue and the console's
    to-do show a working day (the year's cases are all handled by now): a problem they
    wrote down on this morning's rounds, still to accept; one a neighbour posted in the
    building's WeChat group, accepted and under way; and one from yesterday's visit to
    an elderly resident, due within hours. Households are the grid's first three without
    an account (the demo resident's cases are their own), with their heads as
    reporters, so the receipt codes reach them."""
    end = (now or timeutils.now()).replace(second=0, microsecond=0)
    links = list(
        GridHousehold.objects.filter(grid=grid)
        .exclude(household__members__user__isnull=False)  # not the demo resident's home
        .select_related("household__head")
        .order_by("household_id")[:3]
    )
    if len(links) < 3:
        return []
    categories = {c.code: c for c in Category.objects.all()}
    plans = [
        ("sanitation", Channel.VISIT, "单元楼道里堆了纸箱和旧家具，挡住了消防通道",
         dt.timedelta(minutes=40), "submitted"),
        ("repair", Channel.WECHAT_GROUP, "楼下路灯坏了好几天，晚上出门看不清路",
         dt.timedelta(hours=3), "started"),
        ("repair", Channel.VISIT, "独居老人家里厨房水龙头漏水，自己没法修",
         dt.timedelta(hours=21), "started"),
    ]  # fmt: skip
    clock = _Clock(end)
    out = []
    with _quiet_clock(clock):
        for index, (code, channel, text, ago, plan) in enumerate(plans):
            at = end - ago
            clock.moment = at
            household = links[index].household
            case = services.case_submit(
                actor=member,
                kind=CaseKind.PROBLEM,
                category=categories[code],
                channel=channel,
                text=text,
                household=household,
                reporter_person=household.head,
                idempotency_key=f"demo-grid-day-{index}",
                at=at,
            )
            Case.objects.filter(pk=case.pk).update(created_at=at)
            if plan == "started":
                step = dt.timedelta(minutes=20)
                _step(case, member, clock, at + step, Action.ACCEPT)
                _step(case, member, clock, at + 2 * step, Action.ASSIGN, assignee=member)
                _step(case, member, clock, at + 3 * step, Action.START)
            case.refresh_from_db()
            out.append(case)
    return out
