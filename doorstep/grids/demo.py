"""Demo grids. The registry demo (people.demo) fills them with households."""

from __future__ import annotations

from doorstep.orgs.demo import DemoTree

from .models import Grid
from .services import grid_create


def build(tree: DemoTree) -> dict[str, Grid]:
    return {"yihe_1": grid_create(unit=tree.units["yihe"], name="第一网格")}
