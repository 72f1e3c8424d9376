"""Demo grids: every community and village with households is balanced into grids of
at most 50 households by the same planner staff use (grids.balancing)."""

from __future__ import annotations

from doorstep.orgs.demo import DemoTree
from doorstep.orgs.selectors import grassroots_units

from .models import Grid
from .selectors import balance_plan
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
