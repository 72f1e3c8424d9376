from hypothesis import given
from hypothesis import strategies as st

from doorstep.core.tree import ancestor_paths, path_successor, segment


@given(
    st.lists(st.integers(min_value=1, max_value=10**10 - 1), min_size=1, max_size=6),
    st.integers(1, 10**10 - 1),
)
def test_range_contains_exactly_the_descendants(ids: list[int], other: int) -> None:
    """A path P's range [P, successor(P)) holds every path that extends P and no other
    path of the same or greater depth."""
    path = "".join(segment(i) for i in ids)
    child = path + segment(other)
    upper = path_successor(path)
    assert path <= child and (upper is None or child < upper)
    sibling = "".join(segment(i) for i in ids[:-1]) + segment(ids[-1] % (10**10 - 1) + 1)
    if sibling > path:
        assert upper is not None and not (path <= sibling + segment(other) < upper)


def test_successor_carries_over() -> None:
    assert path_successor("9999999999") is None
    assert path_successor("0000000009") == "0000000010"
    assert path_successor("00000000010000000099") == "00000000010000000100"


def test_ancestor_paths_are_root_first_and_end_with_the_node() -> None:
    path = segment(3) + segment(17) + segment(5)
    assert ancestor_paths(path) == [segment(3), segment(3) + segment(17), path]
