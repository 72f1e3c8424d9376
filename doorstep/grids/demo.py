"""Demo grids: every community and village with households is balanced into grids of
at most 50 households by the same planner staff use (grids.balancing); the demo grid
gets a year of home visits, and the recent ones a few wishes (心愿) still waiting to be
taken up."""

from __future__ import annotations

import datetime as dt
import random

from doorstep.orgs.demo import DemoTree
from doorstep.orgs.selectors import grassroots_units

from .models import Grid, GridHousehold, Visit, Wish
from .selectors import balance_plan, overdue_days
from .services import grid_balance_apply


def build(tree: DemoTree) -> dict[str, Grid]:
    for unit in grassroots_units().filter(
        tree.units["luzhou"].subtree_q()
        | tree.units["dongshan"].subtree_q()
        | tree.units["baiyin"].subtree_q()
    ):
        plan = balance_plan(unit=unit)
        if plan.household_count:
            grid_balance_apply(plan=plan)
    yihe = tree.units["yihe"]
    return {"yihe_1": Grid.objects.filter(unit=yihe).order_by("id").first()}  # type: ignore[dict-item]


def link_members(tree: DemoTree) -> None:
    """Once grid members hold their roles, spread their grid's households over them."""
    plan = balance_plan(unit=tree.units["yihe"])
    grid_balance_apply(plan=plan)


VISIT_NOTES = [
    "入户了解家庭情况，一切正常。",
    "老人身体状况良好，叮嘱按时服药。",
    "宣传防范电信诈骗知识，发放宣传单。",
    "了解孩子上学情况，家长反映良好。",
    "核对家庭成员信息，无变化。",
    "宣传垃圾分类，住户表示支持。",
    "询问近期生活困难，暂无需求。",
]
VISIT_NEEDS = [
    "独居老人希望有人定期上门看望。",
    "楼道灯不亮，需要报修。",
    "想了解社区食堂助餐优惠。",
    "孩子放学后无人照看，想报名四点半课堂。",
    "希望帮忙申请高龄津贴。",
]


# Wishes residents told their grid member on a recent visit (the wish list that the
# appeals part turns into cases someone can claim).
VISIT_WISHES = [
    "想要一副老花镜，看报纸方便些。",
    "希望有人教我用智能手机视频通话。",
    "孩子想要几本课外书。",
    "想请志愿者帮忙打扫一次屋子。",
    "希望有人陪老人去医院复查。",
]
WISH_WINDOW_DAYS = 60


def visits(rng: random.Random, grid: Grid, *, today: dt.date) -> int:
    """A year of home visits (入户走访) in the demo grid by the members its households
    are spread over: most households seen within the overdue window, some overdue, a few
    never visited yet. Returns how many visits were written."""
    window = overdue_days()
    rows: list[Visit] = []
    links = GridHousehold.objects.filter(grid=grid, member__isnull=False).order_by("id")
    for link in links:
        visitor = link.member_id
        if visitor is None:  # filtered out above; for the type checker
            continue
        roll = rng.random()
        if roll < 0.08:
            continue  # a household not visited yet
        # The last visit: within the window for most, beyond it for about one in five.
        ago = rng.randint(window + 5, 200) if roll < 0.28 else rng.randint(1, window - 5)
        day = today - dt.timedelta(days=ago)
        while day >= today - dt.timedelta(days=365):
            rows.append(
                Visit(
                    household_id=link.household_id,
                    grid=grid,
                    visitor_id=visitor,
                    visited_on=day,
                    notes=rng.choice(VISIT_NOTES),
                    needs=rng.choice(VISIT_NEEDS) if rng.random() < 0.15 else "",
                )
            )
            day -= dt.timedelta(days=rng.randint(45, 100))
    Visit.objects.bulk_create(rows, batch_size=1000)
    # About one recent visit in eight found a wish, dated the day of its visit.
    recent = Visit.objects.filter(
        grid=grid, visited_on__gte=today - dt.timedelta(days=WISH_WINDOW_DAYS)
    ).order_by("id")
    for visit in recent:
        if rng.random() < 0.125:
            wish = Wish.objects.create(
                household_id=visit.household_id, visit=visit, text=rng.choice(VISIT_WISHES)
            )
            stamp = dt.datetime.combine(visit.visited_on, dt.time(10), tzinfo=dt.UTC)
            Wish.objects.filter(pk=wish.pk).update(created_at=stamp, updated_at=stamp)
    return len(rows)
