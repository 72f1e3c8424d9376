"""Balancing a community's households into grids, and a grid's households over its
members: a pure function from plain data to a :class:`Plan` that can be reported
before anything is written.

How a plan is made:

1. The community's units form a tree. At every level the children are put in
   neighbour order: by a serpentine sweep over their coordinates when they have them
   (north to south in bands, alternating west→east and east→west, so that the end of
   one band is next to the start of the next), otherwise by name in natural order
   ("2号楼" before "10号楼"); units without coordinates come after those with them.
2. Walking the tree in that order cuts it into *pieces* that a grid never splits: a
   building or natural village with at most ``max_size`` households is one piece.
   Anything larger is opened up: its children in order, then the households directly
   in it, grouped by entrance (单元) and, when one entrance is still too large, one
   household at a time in room order — so an oversized building is split into
   consecutive runs by entrance and room.
3. The pieces, in order, are cut into the fewest consecutive runs of at most
   ``max_size`` households (greedy is optimal for that), and then the largest run is
   made as small as possible while keeping that number of runs (binary search over
   the capacity), so that grids come out even rather than 50, 50, 50, 3.
4. Runs are matched to the existing grids by overlap (most shared households first),
   so that as few households as possible move; runs left over take the remaining
   grids, then new grids named 第N网格 with the first unused numbers. Existing grids
   that get no run stay, empty.
5. Each grid's households, in order, are cut into contiguous runs for its members:
   ``ceil(n / per_member)`` runs, or one per member when there are fewer members than
   that; runs go to members by overlap, the same way.

Everything is sorted with explicit tie-breakers, so the same input always gives the
same plan. :func:`fingerprint` digests the input, so that applying a plan can refuse
when the households changed after it was made.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

DEFAULT_MAX_SIZE = 50
DEFAULT_PER_MEMBER = 10

# Units that a grid keeps whole whenever they fit (the building and natural-village
# boundaries that the issue names).
BLOCK_KINDS = frozenset({"building", "natural_village"})


# --- Input ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class UnitIn:
    id: int
    parent_id: int | None
    path: str
    kind: str
    name: str
    lat: float | None = None
    lng: float | None = None


@dataclass(frozen=True)
class HouseholdIn:
    id: int
    unit_id: int
    entrance: str = ""
    room: str = ""
    grid_id: int | None = None  # where it is now
    member_id: int | None = None


@dataclass(frozen=True)
class GridIn:
    id: int
    name: str


@dataclass(frozen=True)
class MemberIn:
    id: int  # the user
    name: str


@dataclass
class BalanceInput:
    """What a plan is made from: the community (``root``), every unit under it, its
    active households with their current grid and member, its grids and each grid's
    members (users holding the grid-member role over it)."""

    root: UnitIn
    units: list[UnitIn]
    households: list[HouseholdIn]
    grids: list[GridIn]
    members: dict[int, list[MemberIn]] = field(default_factory=dict)  # grid id → members


# --- Output --------------------------------------------------------------------------------


@dataclass
class MemberShare:
    member_id: int | None
    member_name: str
    household_ids: list[int]


@dataclass
class PlannedGrid:
    number: int  # position in neighbour order, from 1
    name: str
    grid_id: int | None  # None: a grid the plan creates
    household_ids: list[int]
    shares: list[MemberShare]
    members_needed: int

    @property
    def is_new(self) -> bool:
        return self.grid_id is None

    @property
    def size(self) -> int:
        return len(self.household_ids)

    @property
    def members_short(self) -> int:
        have = sum(1 for share in self.shares if share.member_id is not None)
        return max(0, self.members_needed - have)


@dataclass(frozen=True)
class Move:
    household_id: int
    address: str
    from_grid_id: int | None  # None when the household was in no grid
    from_grid: str
    to_grid_id: int | None  # None for a grid the plan creates
    to_grid: str
    from_member: int | None
    to_member: int | None

    @property
    def changes_grid(self) -> bool:
        return self.from_grid_id is None or self.from_grid_id != self.to_grid_id


@dataclass
class Plan:
    """A balancing plan for one community: report it, then apply it
    (:func:`doorstep.grids.services.grid_balance_apply`)."""

    unit_id: int
    unit_name: str
    max_size: int
    per_member: int
    fingerprint: str
    grids: list[PlannedGrid]
    emptied: list[GridIn]  # existing grids left with no household (kept, not deleted)
    moves: list[Move]
    oversized_blocks: list[str]  # buildings / natural villages split because they exceed N

    @property
    def household_count(self) -> int:
        return sum(grid.size for grid in self.grids)

    @property
    def new_grid_count(self) -> int:
        return sum(1 for grid in self.grids if grid.is_new)

    @property
    def grid_moves(self) -> int:
        return sum(1 for move in self.moves if move.changes_grid)

    @property
    def member_moves(self) -> int:
        return sum(1 for move in self.moves if not move.changes_grid)

    def assignments(self) -> Iterable[tuple[int, int, int | None]]:
        """(household id, planned grid number, member id) for every household."""
        for grid in self.grids:
            for share in grid.shares:
                for household_id in share.household_ids:
                    yield household_id, grid.number, share.member_id

    def report_lines(self, *, moves_limit: int = 20) -> list[str]:
        """A plain-text report (the management command prints it)."""
        lines = [
            f"{self.unit_name}: {self.household_count} households → {len(self.grids)} grids "
            f"(max {self.max_size}, about {self.per_member} per member); "
            f"{self.new_grid_count} new, {len(self.emptied)} emptied; "
            f"{self.grid_moves} change grid, {self.member_moves} change member only",
            f"fingerprint {self.fingerprint}",
        ]
        for grid in self.grids:
            tag = " (new)" if grid.is_new else ""
            shares = ", ".join(
                f"{s.member_name or '—'} {len(s.household_ids)}" for s in grid.shares
            )
            short = f"; {grid.members_short} more member(s) needed" if grid.members_short else ""
            lines.append(f"  {grid.name}{tag}: {grid.size} households [{shares}]{short}")
        for empty in self.emptied:
            lines.append(f"  {empty.name}: empty (kept)")
        for name in self.oversized_blocks:
            lines.append(f"  split (over {self.max_size} households): {name}")
        for move in self.moves[:moves_limit]:
            lines.append(f"  move {move.address}: {move.from_grid or '—'} → {move.to_grid}")
        if len(self.moves) > moves_limit:
            lines.append(f"  … and {len(self.moves) - moves_limit} more moves")
        return lines


# --- Ordering ------------------------------------------------------------------------------

_DIGITS = re.compile(r"(\d+)")


def natural_key(text: str) -> tuple[tuple[int, int, str], ...]:
    """Sort key that puts "2号楼" before "10号楼" and "9" before "10"."""
    return tuple(
        (0, int(part), "") if part.isdigit() else (1, 0, part)
        for part in _DIGITS.split(text)
        if part
    )


def sweep_order(items: Sequence[tuple[float, float, tuple]]) -> list[int]:
    """Indices of ``items`` ((lat, lng, tie-break key)) in serpentine order: bands of
    latitude north to south, alternately west→east and east→west within a band."""
    n = len(items)
    if n <= 2:
        return sorted(range(n), key=lambda i: (-items[i][0], items[i][1], items[i][2]))
    by_lat = sorted(range(n), key=lambda i: (-items[i][0], items[i][1], items[i][2]))
    bands = max(1, round(math.sqrt(n / 2)))
    per_band = math.ceil(n / bands)
    order: list[int] = []
    for band_index, start in enumerate(range(0, n, per_band)):
        band = by_lat[start : start + per_band]
        reverse = band_index % 2 == 1
        band.sort(key=lambda i: (items[i][1], items[i][2]))
        if reverse:
            band.reverse()
        order.extend(band)
    return order


# --- Planning ------------------------------------------------------------------------------


def fingerprint(data: BalanceInput, *, max_size: int, per_member: int) -> str:
    """A digest of everything a plan depends on (and of its parameters)."""
    digest = hashlib.sha256()
    digest.update(f"v1|{data.root.id}|{max_size}|{per_member}\n".encode())
    for u in sorted(data.units, key=lambda u: u.id):
        digest.update(f"u{u.id}|{u.parent_id}|{u.kind}|{u.name}|{u.lat}|{u.lng}\n".encode())
    for h in sorted(data.households, key=lambda h: h.id):
        digest.update(
            f"h{h.id}|{h.unit_id}|{h.entrance}|{h.room}|{h.grid_id}|{h.member_id}\n".encode()
        )
    for g in sorted(data.grids, key=lambda g: g.id):
        digest.update(f"g{g.id}|{g.name}\n".encode())
    for grid_id in sorted(data.members):
        ids = ",".join(str(m.id) for m in sorted(data.members[grid_id], key=lambda m: m.id))
        digest.update(f"m{grid_id}|{ids}\n".encode())
    return digest.hexdigest()[:32]


def _points(data: BalanceInput, children: dict[int | None, list[UnitIn]]) -> dict[int, tuple]:
    """Each unit's point for ordering: its own, else the mean of its children's."""
    points: dict[int, tuple[float, float]] = {}

    def visit(unit: UnitIn) -> tuple[float, float] | None:
        kids = [p for child in children.get(unit.id, []) if (p := visit(child)) is not None]
        if unit.lat is not None and unit.lng is not None:
            point: tuple[float, float] | None = (unit.lat, unit.lng)
        elif kids:
            point = (sum(p[0] for p in kids) / len(kids), sum(p[1] for p in kids) / len(kids))
        else:
            point = None
        if point is not None:
            points[unit.id] = point
        return point

    visit(data.root)
    return points


def _ordered_children(kids: list[UnitIn], points: dict[int, tuple[float, float]]) -> list[UnitIn]:
    placed = [k for k in kids if k.id in points]
    rest = sorted(
        (k for k in kids if k.id not in points), key=lambda k: (natural_key(k.name), k.path)
    )
    items = [(points[k.id][0], points[k.id][1], (natural_key(k.name), k.path)) for k in placed]
    return [placed[i] for i in sweep_order(items)] + rest


def _household_key(h: HouseholdIn) -> tuple:
    return (natural_key(h.entrance), natural_key(h.room), h.id)


def pieces(data: BalanceInput, max_size: int) -> tuple[list[list[int]], list[str]]:
    """The community's households cut into pieces that no grid splits, in neighbour
    order, and the names of the blocks that had to be split for being over ``max_size``."""
    children: dict[int | None, list[UnitIn]] = defaultdict(list)
    for unit in data.units:
        if unit.id != data.root.id:
            children[unit.parent_id].append(unit)
    direct: dict[int, list[HouseholdIn]] = defaultdict(list)
    for household in data.households:
        direct[household.unit_id].append(household)
    size: dict[int, int] = {}

    def count(unit: UnitIn) -> int:
        total = len(direct.get(unit.id, ())) + sum(count(c) for c in children.get(unit.id, []))
        size[unit.id] = total
        return total

    count(data.root)
    points = _points(data, children)
    out: list[list[int]] = []
    oversized: list[str] = []

    def gather(unit: UnitIn, into: list[int]) -> None:
        into.extend(h.id for h in sorted(direct.get(unit.id, ()), key=_household_key))
        for child in _ordered_children(children.get(unit.id, []), points):
            gather(child, into)

    def walk(unit: UnitIn) -> None:
        if size[unit.id] == 0:
            return
        if unit.kind in BLOCK_KINDS and size[unit.id] <= max_size:
            whole: list[int] = []
            gather(unit, whole)
            out.append(whole)
            return
        if unit.kind in BLOCK_KINDS:
            oversized.append(unit.name)
        for child in _ordered_children(children.get(unit.id, []), points):
            walk(child)
        by_entrance: dict[str, list[HouseholdIn]] = defaultdict(list)
        for household in direct.get(unit.id, ()):
            by_entrance[household.entrance].append(household)
        for entrance in sorted(by_entrance, key=natural_key):
            run = sorted(by_entrance[entrance], key=_household_key)
            if len(run) <= max_size:
                out.append([h.id for h in run])
            else:
                out.extend([h.id] for h in run)

    walk(data.root)
    return out, oversized


def _greedy_runs(sizes: Sequence[int], capacity: int) -> list[int]:
    """Start index of each run when packing ``sizes`` in order, next-fit, into runs of at
    most ``capacity`` (every size must be ≤ capacity)."""
    starts: list[int] = []
    load = capacity + 1
    for index, piece in enumerate(sizes):
        if load + piece > capacity:
            starts.append(index)
            load = 0
        load += piece
    return starts


def cut_even(sizes: Sequence[int], max_size: int) -> list[int]:
    """Run starts: the fewest runs of at most ``max_size``, then the smallest largest run
    with that many runs."""
    if not sizes:
        return []
    fewest = len(_greedy_runs(sizes, max_size))
    low, high = max(max(sizes), math.ceil(sum(sizes) / fewest)), max_size
    while low < high:
        middle = (low + high) // 2
        if len(_greedy_runs(sizes, middle)) <= fewest:
            high = middle
        else:
            low = middle + 1
    return _greedy_runs(sizes, low)


def _split_even(items: Sequence[int], parts: int) -> list[list[int]]:
    parts = max(1, min(parts, len(items))) if items else 1
    base, extra = divmod(len(items), parts)
    out, start = [], 0
    for index in range(parts):
        end = start + base + (1 if index < extra else 0)
        out.append(list(items[start:end]))
        start = end
    return out


def match_by_overlap(
    runs: Sequence[Sequence[int]], current: dict[int, int | None], candidates: Sequence[int]
) -> dict[int, int]:
    """Run index → candidate, pairing the largest overlaps first (``current`` maps a
    household to the candidate it has now). Deterministic."""
    wanted = set(candidates)
    pairs: list[tuple[int, int, int]] = []
    for index, run in enumerate(runs):
        tally = Counter(current.get(h) for h in run)
        for candidate, shared in tally.items():
            if candidate in wanted:
                pairs.append((-shared, index, candidate))
    pairs.sort()
    matched: dict[int, int] = {}
    taken: set[int] = set()
    for _shared, index, candidate in pairs:
        if index not in matched and candidate not in taken:
            matched[index] = candidate
            taken.add(candidate)
    return matched


_CN_DIGITS = "零一二三四五六七八九"


def chinese_number(n: int) -> str:
    """1 → 一, 12 → 十二, 105 → 一百零五 (up to 9999)."""
    if n < 10:
        return _CN_DIGITS[n]
    if n < 20:
        return "十" + (_CN_DIGITS[n % 10] if n % 10 else "")
    out, zero = "", False
    for value, unit in ((1000, "千"), (100, "百"), (10, "十"), (1, "")):
        digit = n // value % 10
        if digit:
            if zero and out:
                out += "零"
            out += _CN_DIGITS[digit] + unit
            zero = False
        elif out:
            zero = True
    return out


_FROM_CHINESE: dict[str, int] = {}
_HAS_DIGIT = re.compile(r"\d")
_GRID_NAME = re.compile(r"^第(\d+|[一二三四五六七八九十百千零]+)网格$")


def grid_number(name: str) -> int | None:
    """The N of a name 第N网格 (arabic or Chinese numerals), else None."""
    match = _GRID_NAME.match(name)
    if not match:
        return None
    text = match.group(1)
    if text.isdigit():
        return int(text)
    if not _FROM_CHINESE:
        _FROM_CHINESE.update({chinese_number(n): n for n in range(1, 10000)})
    return _FROM_CHINESE.get(text)


def plan_balance(
    data: BalanceInput,
    *,
    max_size: int = DEFAULT_MAX_SIZE,
    per_member: int = DEFAULT_PER_MEMBER,
    addresses: dict[int, str] | None = None,
) -> Plan:
    """Plan grids of at most ``max_size`` households and about ``per_member`` households
    per grid member. Pure: reads ``data`` only."""
    if max_size < 1:
        raise ValueError("max_size must be at least 1")
    if per_member < 1:
        raise ValueError("per_member must be at least 1")
    cut, oversized = pieces(data, max_size)
    starts = [*cut_even([len(p) for p in cut], max_size), len(cut)]
    runs = [
        [h for piece in cut[starts[i] : starts[i + 1]] for h in piece]
        for i in range(len(starts) - 1)
    ]
    by_id = {h.id: h for h in data.households}
    grids_by_id = {g.id: g for g in data.grids}
    current_grid = {h.id: h.grid_id for h in data.households}
    matched = match_by_overlap(runs, current_grid, sorted(grids_by_id))
    # Runs that share no household with any grid take the grids left over (in name
    # order) before any grid is created.
    spare = sorted(
        (g for g in data.grids if g.id not in set(matched.values())),
        key=lambda g: (natural_key(g.name), g.id),
    )
    for index in range(len(runs)):
        if index not in matched and spare:
            matched[index] = spare.pop(0).id

    # New grids take the first numbers not used by an existing grid's name, in the
    # numerals the community already uses.
    used = {n for g in data.grids if (n := grid_number(g.name)) is not None}
    chinese = any(
        grid_number(g.name) is not None and not _HAS_DIGIT.search(g.name) for g in data.grids
    )
    names_taken = {g.name for g in data.grids}
    next_number = 1

    def new_name() -> str:
        nonlocal next_number
        while True:
            number = next_number
            next_number += 1
            name = f"第{chinese_number(number) if chinese else number}网格"
            if number not in used and name not in names_taken:
                return name

    planned: list[PlannedGrid] = []
    for index, run in enumerate(runs):
        grid_id = matched.get(index)
        name = grids_by_id[grid_id].name if grid_id is not None else new_name()
        members = sorted(data.members.get(grid_id, []), key=lambda m: m.id) if grid_id else []
        needed = math.ceil(len(run) / per_member)
        if members:
            shares_ids = _split_even(run, min(len(members), needed))
            current_member = {
                h: by_id[h].member_id if by_id[h].grid_id == grid_id else None for h in run
            }
            who = match_by_overlap(shares_ids, current_member, [m.id for m in members])
            free = [m for m in members if m.id not in who.values()]
            names = {m.id: m.name for m in members}
            shares = []
            for i, ids in enumerate(shares_ids):
                member_id = who.get(i)
                if member_id is None:
                    member_id = free.pop(0).id
                shares.append(MemberShare(member_id, names[member_id], ids))
        else:
            shares = [MemberShare(None, "", list(run))]
        planned.append(PlannedGrid(index + 1, name, grid_id, list(run), shares, needed))

    emptied = [grids_by_id[g] for g in sorted(grids_by_id) if g not in set(matched.values())]
    grid_names = {g.id: g.name for g in data.grids}
    addresses = addresses or {}
    moves: list[Move] = []
    for grid in planned:
        for share in grid.shares:
            for household_id in share.household_ids:
                h = by_id[household_id]
                if (
                    h.grid_id == grid.grid_id
                    and h.grid_id is not None
                    and (h.member_id == share.member_id)
                ):
                    continue
                moves.append(
                    Move(
                        household_id=household_id,
                        address=addresses.get(household_id, f"#{household_id}"),
                        from_grid_id=h.grid_id,
                        from_grid=grid_names.get(h.grid_id, "") if h.grid_id else "",
                        to_grid_id=grid.grid_id,
                        to_grid=grid.name,
                        from_member=h.member_id,
                        to_member=share.member_id,
                    )
                )
    return Plan(
        unit_id=data.root.id,
        unit_name=data.root.name,
        max_size=max_size,
        per_member=per_member,
        fingerprint=fingerprint(data, max_size=max_size, per_member=per_member),
        grids=planned,
        emptied=emptied,
        moves=moves,
        oversized_blocks=oversized,
    )
