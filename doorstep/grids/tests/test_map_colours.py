"""Neighbouring grids get different colours on the grid map, however many grids."""

from __future__ import annotations

from doorstep.grids.selectors import NEIGHBOURS, PALETTE_SIZE, map_colours


def nearest(centres: list[tuple[float, float]], i: int) -> list[int]:
    x, y = centres[i]
    others = sorted(
        (j for j in range(len(centres)) if j != i),
        key=lambda j: (centres[j][0] - x) ** 2 + (centres[j][1] - y) ** 2,
    )
    return others[:NEIGHBOURS]


def test_sixteen_grids_in_a_square_never_share_a_colour_with_a_neighbour() -> None:
    centres = [(105.44 + 0.002 * (k % 4), 28.88 + 0.002 * (k // 4)) for k in range(16)]
    colours = map_colours(list(centres))
    assert all(0 <= c < PALETTE_SIZE for c in colours)
    for i in range(16):
        for j in nearest(centres, i):
            assert colours[i] != colours[j], (i, j)


def test_a_ring_of_thirteen_grids_closes_without_a_clash() -> None:
    """Numbered round a ring, grid 12 sits beside grid 0: the old rule (number modulo
    the palette) painted both red."""
    import math

    centres = [
        (
            105.0 + 0.01 * math.cos(2 * math.pi * k / 13),
            28.0 + 0.01 * math.sin(2 * math.pi * k / 13),
        )
        for k in range(13)
    ]
    assert 12 in nearest(centres, 0) and 12 % PALETTE_SIZE == 0 % PALETTE_SIZE
    colours = map_colours(list(centres))
    for i in range(13):
        for j in nearest(centres, i):
            assert colours[i] != colours[j], (i, j)


def test_a_long_street_of_grids_and_grids_with_no_position() -> None:
    centres: list[tuple[float, float] | None] = [(105.0 + 0.001 * k, 28.0) for k in range(30)]
    centres[3] = None
    colours = map_colours(centres)
    assert len(colours) == 30 and colours[3] == 3
    for i in range(29):
        if centres[i] is not None and centres[i + 1] is not None:
            assert colours[i] != colours[i + 1]
    assert map_colours([]) == []
