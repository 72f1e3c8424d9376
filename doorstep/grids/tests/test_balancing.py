"""Balancing households into grids: the pure planner's properties, and applying a plan
(report first, nothing changes until applied, a stale plan is refused)."""

from __future__ import annotations

import random
from collections import Counter
from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from doorstep.accounts.roles import Role
from doorstep.conftest import make_user
from doorstep.core.errors import Conflict, ValidationError
from doorstep.grids.balancing import (
    BalanceInput,
    GridIn,
    HouseholdIn,
    MemberIn,
    UnitIn,
    chinese_number,
    grid_number,
    natural_key,
    plan_balance,
)
from doorstep.grids.models import Grid, GridHousehold
from doorstep.grids.selectors import balance_plan
from doorstep.grids.services import grid_balance_apply, household_links_bulk_set
from doorstep.orgs.services import unit_create
from doorstep.people.services import household_create

# --- The pure planner ----------------------------------------------------------------------


class Builder:
    """A community in memory: compounds of buildings, natural villages, households."""

    def __init__(self) -> None:
        self.next_id = 1
        self.root = self.unit(None, "community", "社区")
        self.units: list[UnitIn] = [self.root]
        self.households: list[HouseholdIn] = []

    def unit(
        self, parent: UnitIn | None, kind: str, name: str, lat: float | None = None,
        lng: float | None = None,
    ) -> UnitIn:  # fmt: skip
        uid = self.next_id
        self.next_id += 1
        path = (parent.path if parent else "") + f"{uid:010d}"
        unit = UnitIn(uid, parent.id if parent else None, path, kind, name, lat, lng)
        if parent is not None:
            self.units.append(unit)
        return unit

    def fill(self, unit: UnitIn, count: int, entrances: int = 1) -> list[int]:
        ids = []
        for i in range(count):
            hid = 100_000 + len(self.households)
            entrance = str(i % entrances + 1) if entrances > 1 else ""
            self.households.append(HouseholdIn(hid, unit.id, entrance, f"{i // entrances + 1:03d}"))
            ids.append(hid)
        return ids

    def data(self, grids: list[GridIn] | None = None, members: Any = None) -> BalanceInput:
        return BalanceInput(self.root, self.units, self.households, grids or [], members or {})


def random_community(seed: int) -> tuple[Builder, dict[int, list[int]]]:
    """Compounds of buildings of 5–80 households (some over 50, in 2–4 entrances) and
    natural villages of 10–70 households; returns the builder and block → household ids."""
    rng = random.Random(seed)
    b = Builder()
    blocks: dict[int, list[int]] = {}
    for c in range(rng.randint(2, 4)):
        compound = b.unit(b.root, "compound", f"{c + 1}小区")
        for i in range(rng.randint(2, 9)):
            building = b.unit(
                compound,
                "building",
                f"{i + 1}号楼",
                30 + rng.random() / 100,
                110 + rng.random() / 100,
            )
            blocks[building.id] = b.fill(building, rng.randint(5, 80), rng.randint(1, 4))
    for v in range(rng.randint(1, 3)):
        village = b.unit(b.root, "natural_village", f"{v + 1}组")
        blocks[village.id] = b.fill(village, rng.randint(10, 70))
    return b, blocks


@pytest.mark.parametrize("seed", range(12))
def test_every_household_once_no_grid_over_n_and_blocks_kept_whole(seed: int) -> None:
    b, blocks = random_community(seed)
    plan = plan_balance(b.data(), max_size=50)
    placed = [h for grid in plan.grids for h in grid.household_ids]
    assert Counter(placed) == Counter(h.id for h in b.households)  # each exactly once
    assert all(0 < grid.size <= 50 for grid in plan.grids)
    grid_of = {h: grid.number for grid in plan.grids for h in grid.household_ids}
    for block, ids in blocks.items():
        if len(ids) <= 50:
            assert len({grid_of[h] for h in ids}) == 1, f"block {block} was split"
    oversized = [u.name for u in b.units if u.id in blocks and len(blocks[u.id]) > 50]
    assert sorted(plan.oversized_blocks) == sorted(oversized)
    # Fewest grids possible given that blocks stay whole, within one of the lower bound.
    assert len(plan.grids) >= -(-len(placed) // 50)


def test_an_oversized_building_is_split_by_entrance_into_consecutive_runs() -> None:
    b = Builder()
    compound = b.unit(b.root, "compound", "小区")
    big = b.unit(compound, "building", "1号楼")
    b.fill(big, 120, entrances=4)  # 30 per entrance
    plan = plan_balance(b.data(), max_size=50)
    entrance = {h.id: h.entrance for h in b.households}
    assert [grid.size for grid in plan.grids] == [30, 30, 30, 30]
    assert [{entrance[h] for h in grid.household_ids} for grid in plan.grids] == [
        {"1"}, {"2"}, {"3"}, {"4"},
    ]  # fmt: skip
    assert plan.oversized_blocks == ["1号楼"]


def test_an_entrance_over_n_is_split_by_room_into_even_runs() -> None:
    b = Builder()
    village = b.unit(b.root, "natural_village", "大湾组")
    b.fill(village, 101)
    plan = plan_balance(b.data(), max_size=50)
    assert [grid.size for grid in plan.grids] == [34, 34, 33]  # even, not 50, 50, 1
    rooms = [
        next(h.room for h in b.households if h.id == i) for g in plan.grids for i in g.household_ids
    ]
    assert rooms == sorted(rooms)  # consecutive runs in room order


def test_neighbours_share_a_grid_by_coordinates_not_by_name() -> None:
    """Names say 1,2,3,4 but on the ground 1 and 3 stand side by side, as do 2 and 4."""
    b = Builder()
    compound = b.unit(b.root, "compound", "小区")
    layout = {"1号楼": (30.000, 110.000), "2号楼": (30.010, 110.010),
              "3号楼": (30.000, 110.0005), "4号楼": (30.010, 110.0105)}  # fmt: skip
    ids = {}
    for name, (lat, lng) in layout.items():
        ids[name] = b.fill(b.unit(compound, "building", name, lat, lng), 25)
    plan = plan_balance(b.data(), max_size=50)
    groups = sorted(sorted(n for n in ids if ids[n][0] in g.household_ids) for g in plan.grids)
    assert groups == [["1号楼", "3号楼"], ["2号楼", "4号楼"]]


def test_without_coordinates_buildings_go_in_natural_name_order() -> None:
    b = Builder()
    compound = b.unit(b.root, "compound", "小区")
    ids = {n: b.fill(b.unit(compound, "building", f"{n}号楼"), 25) for n in (10, 2, 1, 3)}
    plan = plan_balance(b.data(), max_size=50)
    groups = [sorted(n for n in ids if ids[n][0] in g.household_ids) for g in plan.grids]
    assert groups == [[1, 2], [3, 10]]


def test_members_get_contiguous_runs_of_about_ten() -> None:
    b = Builder()
    compound = b.unit(b.root, "compound", "小区")
    b.fill(b.unit(compound, "building", "1号楼"), 48)
    members = {7: [MemberIn(i, f"网格员{i}") for i in (11, 12, 13, 14, 15, 16)]}
    plan = plan_balance(b.data([GridIn(7, "第一网格")], members), max_size=50, per_member=10)
    (grid,) = plan.grids
    assert grid.grid_id == 7 and grid.members_needed == 5
    assert [len(s.household_ids) for s in grid.shares] == [10, 10, 10, 9, 9]
    order = grid.household_ids
    assert [h for s in grid.shares for h in s.household_ids] == order  # contiguous runs
    assert len({s.member_id for s in grid.shares}) == 5


def test_fewer_members_than_needed_share_everything_and_the_shortfall_is_reported() -> None:
    b = Builder()
    b.fill(b.unit(b.root, "natural_village", "组"), 45)
    plan = plan_balance(b.data([GridIn(7, "第一网格")], {7: [MemberIn(3, "甲")]}), per_member=10)
    (grid,) = plan.grids
    assert [(s.member_id, len(s.household_ids)) for s in grid.shares] == [(3, 45)]
    assert grid.members_short == 4


def test_the_plan_is_deterministic_whatever_the_input_order() -> None:
    b, _blocks = random_community(3)
    first = plan_balance(b.data(), max_size=50)
    rng = random.Random(1)
    rng.shuffle(b.units)
    rng.shuffle(b.households)
    b.units.remove(b.root)
    b.units.insert(rng.randrange(len(b.units)), b.root)
    second = plan_balance(b.data(), max_size=50)
    assert [(g.name, g.household_ids) for g in first.grids] == [
        (g.name, g.household_ids) for g in second.grids
    ]
    assert first.fingerprint == second.fingerprint


def test_replanning_a_balanced_community_moves_nobody() -> None:
    b, _blocks = random_community(5)
    plan = plan_balance(b.data(), max_size=50)
    grids = [GridIn(1000 + g.number, g.name) for g in plan.grids]
    at = {h: 1000 + g.number for g in plan.grids for h in g.household_ids}
    b.households = [
        HouseholdIn(h.id, h.unit_id, h.entrance, h.room, at[h.id], None) for h in b.households
    ]
    again = plan_balance(b.data(grids), max_size=50)
    assert again.moves == [] and again.emptied == [] and again.new_grid_count == 0


def test_new_grids_take_unused_numbers_in_the_communitys_numerals() -> None:
    b = Builder()
    b.fill(b.unit(b.root, "natural_village", "组"), 90)
    plan = plan_balance(b.data([GridIn(1, "第二网格")]), max_size=30)
    assert sorted(g.name for g in plan.grids) == ["第一网格", "第三网格", "第二网格"]
    assert chinese_number(105) == "一百零五" and chinese_number(12) == "十二"
    assert grid_number("第十二网格") == 12 and grid_number("第7网格") == 7
    assert grid_number("东片网格") is None
    assert natural_key("2号楼") < natural_key("10号楼")


# --- Against the database ------------------------------------------------------------------


@pytest.fixture
def estate(world: Any) -> Any:
    """Tree A's community with three more buildings: 1号楼 (1 household from the world
    fixture plus 39 more), 2号楼 30, 3号楼 30 — 100 households."""
    compound = world.a.compound
    b1 = world.a.building
    for i in range(39):
        household_create(unit=b1, entrance="2", room=f"{i + 1:03d}")
    for name in ("2号楼", "3号楼"):
        building = unit_create(kind="building", name=name, parent=compound)
        for i in range(30):
            household_create(unit=building, entrance="1", room=f"{i + 1:03d}")
    return world


def links() -> list[tuple[int, int, int | None]]:
    return sorted(GridHousehold.objects.values_list("household_id", "grid_id", "member_id"))


def test_a_plan_is_reported_before_it_is_applied_and_preview_changes_nothing(estate: Any) -> None:
    community = estate.a.community
    before_links, before_grids = links(), sorted(Grid.objects.values_list("id", "name"))
    plan = balance_plan(unit=community, max_size=50)
    assert [g.size for g in plan.grids] == [40, 30, 30]
    assert plan.household_count == 100
    assert links() == before_links
    assert sorted(Grid.objects.values_list("id", "name")) == before_grids

    result = grid_balance_apply(plan=plan)
    assert [g.name for g in result.created] == ["第二网格", "第三网格"]
    # 99 households join a grid; the one already in 第一网格 gets its grid member.
    assert (plan.grid_moves, plan.member_moves, result.moved) == (99, 1, 100)
    counts = Counter(
        GridHousehold.objects.filter(grid__unit=community).values_list("grid__name", flat=True)
    )
    assert counts == {"第一网格": 40, "第二网格": 30, "第三网格": 30}
    assert balance_plan(unit=community, max_size=50).moves == []


def test_applying_links_each_member_to_a_run_of_about_ten(estate: Any) -> None:
    grid = estate.a.grid
    members = [estate.user(Role.GRID_MEMBER)]
    members += [make_user(f"gm{i}", Role.GRID_MEMBER, grid) for i in range(3)]
    plan = balance_plan(unit=estate.a.community, max_size=50, per_member=10)
    grid_balance_apply(plan=plan)
    by_member = Counter(GridHousehold.objects.filter(grid=grid).values_list("member_id", flat=True))
    assert by_member == {m.pk: 10 for m in members}


def test_a_grid_emptied_by_rebalancing_is_reported_and_kept(estate: Any) -> None:
    community = estate.a.community
    grid_balance_apply(plan=balance_plan(unit=community, max_size=50))
    plan = balance_plan(unit=community, max_size=100)
    assert [(g.name, g.size) for g in plan.grids] == [("第一网格", 100)]
    assert [g.name for g in plan.emptied] == ["第二网格", "第三网格"]
    assert plan.grid_moves == 60
    grid_balance_apply(plan=plan)
    kept = Grid.objects.filter(unit=community, name__in=["第二网格", "第三网格"])
    assert kept.count() == 2
    assert not GridHousehold.objects.filter(grid__in=kept).exists()


def test_a_stale_plan_is_refused_and_nothing_changes(estate: Any) -> None:
    community = estate.a.community
    plan = balance_plan(unit=community, max_size=50)
    household_create(unit=estate.a.building, entrance="3", room="301")  # the estate changed
    before_links, before_grids = links(), Grid.objects.count()
    with pytest.raises(Conflict, match="重新预览"):
        grid_balance_apply(plan=plan)
    assert links() == before_links
    assert Grid.objects.count() == before_grids


def test_bulk_links_refuse_a_household_outside_the_community(world: Any) -> None:
    before = links()
    with pytest.raises(ValidationError, match="不在该网格所属的社区/村内") as caught:
        household_links_bulk_set(
            unit=world.a.community, assignments=[(world.b.household.pk, world.a.grid.pk, None)]
        )
    assert caught.value.field == "household"
    assert links() == before


def test_bulk_links_refuse_a_member_who_is_not_the_grids(world: Any) -> None:
    outsider = make_user("outsider", Role.GRID_MEMBER, world.b.grid)
    before = links()
    with pytest.raises(ValidationError, match="必须是该网格的网格员"):
        household_links_bulk_set(
            unit=world.a.community,
            assignments=[(world.a.household.pk, world.a.grid.pk, outsider.pk)],
        )
    assert links() == before


def test_the_command_reports_without_applying_then_applies(estate: Any) -> None:
    out = StringIO()
    before = links()
    call_command("balance_grids", "--unit", estate.a.community.code, stdout=out)
    assert "100 households → 3 grids" in out.getvalue()
    assert "not applied" in out.getvalue()
    assert links() == before

    out = StringIO()
    call_command("balance_grids", "--unit", "甲社区", "--max", "40", "--apply", stdout=out)
    assert "applied" in out.getvalue()
    assert GridHousehold.objects.filter(grid__unit=estate.a.community).count() == 100
    sizes = Counter(
        GridHousehold.objects.filter(grid__unit=estate.a.community).values_list(
            "grid_id", flat=True
        )
    )
    assert max(sizes.values()) <= 40


def test_the_command_refuses_an_unknown_unit(world: Any) -> None:
    with pytest.raises(CommandError, match="no unit"):
        call_command("balance_grids", "--unit", "不存在", stdout=StringIO())


def test_bulk_grid_creation_refuses_a_taken_name_and_creates_none(world: Any) -> None:
    from doorstep.grids.services import grids_bulk_create

    before = Grid.objects.count()
    with pytest.raises(ValidationError, match="同名网格") as caught:
        grids_bulk_create(unit=world.a.community, names=["第五网格", "第一网格"])
    assert caught.value.field == "name"
    with pytest.raises(ValidationError, match="必须属于社区或村"):
        grids_bulk_create(unit=world.a.building, names=["第五网格"])
    assert Grid.objects.count() == before
