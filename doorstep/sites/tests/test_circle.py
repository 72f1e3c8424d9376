"""The 15-minute circle: the straight-line and network models against brute force, on
pyrosm's shipped OSM extracts (test.osm.pbf, Helsinki.osm.pbf); loading a road network;
coverage per community, uncovered compounds, "open at 21:00", and planning mode."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import numpy as np
import pyrosm
import pytest
from django.core.management import CommandError, call_command
from scipy.sparse.csgraph import dijkstra

from doorstep.accounts.roles import Role
from doorstep.core import geo
from doorstep.core.errors import PermissionDenied, ValidationError
from doorstep.core.timeutils import LOCAL_TZ
from doorstep.orgs.services import unit_create
from doorstep.people.services import household_create
from doorstep.sites import circle, network
from doorstep.sites.choices import SiteLevel
from doorstep.sites.models import CircleSettings, RoadNetwork
from doorstep.sites.selectors import Candidate, circle_report
from doorstep.sites.services import circle_settings_update, road_network_load, site_hours_set

from . import factories as f

HELSINKI = pyrosm.get_data("helsinki_pbf")
TEST_PBF = pyrosm.get_data("test_pbf")


@pytest.fixture(scope="module")
def helsinki() -> circle.Network:
    return network.from_pbf(HELSINKI)


def test_straight_line_nearest_matches_brute_force_haversine() -> None:
    rng = np.random.default_rng(7)
    site_lat, site_lng = rng.uniform(28.80, 28.95, 60), rng.uniform(105.35, 105.55, 60)
    lat, lng = rng.uniform(28.80, 28.95, 500), rng.uniform(105.35, 105.55, 500)
    walk = circle.Walk(speed_m_per_min=80, detour=1.25)
    projection = circle.Projection.around(lat, site_lat)
    result = circle.nearest_straight(
        projection.xy(lat, lng), projection.xy(site_lat, site_lng), walk
    )
    for i in range(0, 500, 25):
        truth = [
            geo.haversine_m(geo.Point(lat[i], lng[i]), geo.Point(a, b))
            for a, b in zip(site_lat, site_lng, strict=True)
        ]
        assert result.index[i] == int(np.argmin(truth))
        assert result.metres[i] == pytest.approx(min(truth) * 1.25, rel=5e-3)
        assert result.minutes(walk)[i] == pytest.approx(result.metres[i] / 80)


def test_bounded_search_agrees_within_reach_and_marks_the_rest() -> None:
    rng = np.random.default_rng(3)
    sites = rng.uniform(0, 20_000, (50, 2))
    points = rng.uniform(0, 20_000, (2_000, 2))
    walk = circle.Walk()
    full = circle.nearest_straight(points, sites, walk)
    bounded = circle.nearest_straight(points, sites, walk, bounded=True)
    inside = full.metres <= walk.reach_m
    assert inside.any() and (~inside).any()
    assert np.array_equal(bounded.index[inside], full.index[inside])
    assert np.all(bounded.index[~inside] == -1) and np.all(np.isinf(bounded.metres[~inside]))


def test_coverage_counts_households_per_group() -> None:
    walk = circle.Walk(speed_m_per_min=75, detour=1.0, minutes=15)  # reach 1,125 m
    metres = np.array([100.0, 1125.0, 1200.0, np.inf, 10.0])
    cover = circle.coverage(metres, [10, 20, 30, 40, 5], [1, 1, 1, 2, 2], walk)
    assert cover.as_dict() == {1: (60, 30), 2: (45, 5)}
    assert cover.share.tolist() == pytest.approx([0.5, 5 / 45])


def _brute_force(
    net: circle.Network, lat: Any, lng: Any, site_lat: Any, site_lng: Any, detour: float
) -> Any:
    site_nodes, site_off = net.snap(site_lat, site_lng)
    point_nodes, point_off = net.snap(lat, lng)
    site_off, point_off = site_off * detour, point_off * detour
    each = dijkstra(net.graph, directed=False, indices=site_nodes) + site_off[:, None]
    total = each[:, point_nodes] + point_off[None, :]
    return total.min(axis=0)


@pytest.mark.parametrize("source", ["test", "helsinki"])
def test_network_model_matches_a_dijkstra_per_site(source: str, helsinki: circle.Network) -> None:
    net = helsinki if source == "helsinki" else network.from_pbf(TEST_PBF)
    rng = np.random.default_rng(11)
    lo_lat, hi_lat = np.percentile(net.lat, [10, 90])
    lo_lng, hi_lng = np.percentile(net.lng, [10, 90])
    site_lat, site_lng = rng.uniform(lo_lat, hi_lat, 12), rng.uniform(lo_lng, hi_lng, 12)
    lat, lng = rng.uniform(lo_lat, hi_lat, 300), rng.uniform(lo_lng, hi_lng, 300)
    result = circle.nearest_network(net, lat, lng, site_lat, site_lng, circle.Walk())
    truth = _brute_force(net, lat, lng, site_lat, site_lng, circle.Walk().detour)
    assert np.all(np.isfinite(result.metres))
    assert result.metres == pytest.approx(truth, abs=1e-3)
    # Walking along streets is never shorter than the straight line.
    projection = net.projection
    straight = circle.nearest_straight(
        projection.xy(lat, lng), projection.xy(site_lat, site_lng), circle.Walk(detour=1.0)
    )
    assert np.all(result.metres >= straight.metres - 1.0)


def test_hilbert_order_walks_a_grid_one_cell_at_a_time() -> None:
    rng = np.random.default_rng(2)
    cells = np.array([(x, y) for x in range(16) for y in range(16)], dtype=np.float64)
    shuffled = cells[rng.permutation(len(cells))]
    order = circle.hilbert_order(shuffled, bits=4)
    assert sorted(order.tolist()) == list(range(256))
    steps = np.abs(np.diff(shuffled[order], axis=0)).sum(axis=1)
    assert np.all(steps == 1)  # each next point is a neighbouring cell: a Hilbert curve
    assert circle.hilbert_order(np.empty((0, 2))).size == 0


def _plain_nearest(
    net: circle.Network, sources: Any, head: Any, limit: float = np.inf
) -> tuple[Any, Any]:
    """Every node's nearest source by a Dijkstra over the whole graph, bends and all,
    and each source's own distances (to check which source was named)."""
    from scipy.sparse import csr_matrix

    n, k = net.size, len(sources)
    g = net.graph
    graph = csr_matrix(
        (
            np.concatenate([g.data, np.maximum(head, 1e-6)]),
            np.concatenate([g.indices, sources]),
            np.concatenate([g.indptr, g.indptr[-1] + np.arange(1, k + 1)]),
        ),
        shape=(n + k, n + k),
    )
    each = dijkstra(graph, directed=True, indices=np.arange(n, n + k))[:, :n]
    best = each.min(axis=0)
    return np.where(best <= limit, best, np.inf), each


def _bendy_network(seed: int) -> circle.Network:
    """Junctions joined by streets of 0–4 bends, plus dead ends, a loop that leaves a
    junction and comes back to it, and two rings of bends touching nothing."""
    from scipy.spatial import Delaunay

    rng = np.random.default_rng(seed)
    xy = [tuple(p) for p in rng.uniform(0, 2_000, (40, 2))]
    edges = {tuple(sorted(e)) for t in Delaunay(np.array(xy)).simplices for e in
             ((t[0], t[1]), (t[1], t[2]), (t[0], t[2]))}  # fmt: skip
    us: list[int] = []
    vs: list[int] = []

    def street(a: int, b: int, bends: int) -> None:
        chain = [a]
        for i in range(bends):
            t = (i + 1) / (bends + 1)
            xy.append(tuple(np.array(xy[a]) * (1 - t) + np.array(xy[b]) * t + rng.normal(0, 20, 2)))
            chain.append(len(xy) - 1)
        chain.append(b)
        us.extend(chain[:-1])
        vs.extend(chain[1:])

    for a, b in sorted(edges):
        street(int(a), int(b), int(rng.integers(0, 5)))
    for _dead_end in range(5):
        xy.append(tuple(rng.uniform(0, 2_000, 2)))
        street(int(rng.integers(0, 40)), len(xy) - 1, int(rng.integers(0, 3)))
    hub = int(rng.integers(0, 40))
    xy.append(tuple(np.array(xy[hub]) + 80))
    street(hub, len(xy) - 1, 2)  # a loop out of the hub and back through a far corner
    street(len(xy) - 1, hub, 3)
    for size in (3, 6):  # rings of bends alone
        ring = []
        for i in range(size):
            angle = 2 * np.pi * i / size
            xy.append((3_000 + 100 * size + 50 * np.cos(angle), 3_000 + 50 * np.sin(angle)))
            ring.append(len(xy) - 1)
        us.extend(ring)
        vs.extend(ring[1:] + ring[:1])
    pts = np.array(xy)
    lat = 30.0 + pts[:, 1] / 111_320
    lng = 120.0 + pts[:, 0] / (111_320 * np.cos(np.radians(30.0)))
    u, v = np.array(us, dtype=np.int64), np.array(vs, dtype=np.int64)
    length = np.hypot(*(pts[u] - pts[v]).T) * rng.uniform(1.0, 1.3, len(u))
    return circle.Network(lat, lng, u, v, length)


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_the_search_over_junctions_equals_a_dijkstra_over_every_node(seed: int) -> None:
    """Sources on junctions and on bends (several on one chain), with head starts, on
    rings and loops; unbounded and bounded: the same distances as a Dijkstra over the
    whole graph, and the source named is one at that distance."""
    net = _bendy_network(seed)
    search = net.search
    degree = np.diff(net.graph.indptr)
    assert len(search.junctions) < net.size / 2  # most nodes are bends or dead ends
    assert np.all(search.index[degree >= 3] >= 0)  # every crossing is searched over
    assert np.any((search.end_b < 0) & (search.start[1:] > search.start[:-1]))  # dead ends
    rng = np.random.default_rng(seed)
    bends = np.flatnonzero(search.chain >= 0)
    crowded = search.chain_nodes[search.start[0] : search.start[1]]  # one chain, all of it
    sources = np.concatenate(
        [rng.choice(net.size, 6, replace=False), rng.choice(bends, 6), crowded]
    )
    head = rng.uniform(0, 60, len(sources))
    head[:3] = 0.0
    for limit in (np.inf, 400.0):
        metres, index = net.nearest_from(sources, head, limit)
        truth, each = _plain_nearest(net, sources, head, limit)
        assert metres == pytest.approx(truth, abs=1e-5)
        reached = np.flatnonzero(np.isfinite(metres))
        assert np.all(index[np.isinf(metres)] == -1)
        assert each[index[reached], reached] == pytest.approx(metres[reached], abs=1e-5)


def test_the_search_graph_of_a_real_extract(helsinki: circle.Network) -> None:
    search = helsinki.search
    degree = np.diff(helsinki.graph.indptr)
    promoted = search.junctions[degree[search.junctions] <= 2]
    assert 1 <= len(promoted) < 100  # rings of bends and stray footpaths touching nothing
    assert len(search.junctions) == int(np.sum(degree >= 3)) + len(promoted)
    assert len(search.junctions) < helsinki.size / 2
    assert sorted([*search.chain_nodes.tolist(), *search.junctions.tolist()]) == list(
        range(helsinki.size)
    )
    bends = search.chain_nodes
    assert np.all(search.along[bends] > 0)
    assert np.all(search.along[bends] < search.total[search.chain[bends]])
    g = search.graph
    assert abs(g - g.T).max() < 1e-9  # both directions of every street
    sources = np.array([0, helsinki.size // 2, helsinki.size - 1])
    metres, _index = helsinki.nearest_from(sources)
    truth, _each = _plain_nearest(helsinki, sources, np.zeros(3))
    assert metres == pytest.approx(truth, abs=1e-5)


def test_snaps_are_kept_per_point_set_and_a_moved_site_is_snapped_afresh(
    helsinki: circle.Network,
) -> None:
    net = network.from_pbf(HELSINKI)  # a network of its own: its kept snaps are checked
    rng = np.random.default_rng(5)
    lat = rng.uniform(net.lat.min(), net.lat.max(), 40)
    lng = rng.uniform(net.lng.min(), net.lng.max(), 40)
    first = net.snap(lat, lng)
    again = net.snap(lat.copy(), lng.copy())
    assert again[0] is first[0] and again[1] is first[1]  # kept, not recomputed
    with pytest.raises(ValueError):
        first[0][0] = 0  # read-only: a caller cannot spoil the kept answer
    moved_lat = lat.copy()
    moved_lat[3] = float(net.lat[int(first[0][7])])  # site 3 moves onto site 7's node
    moved_lng = lng.copy()
    moved_lng[3] = float(net.lng[int(first[0][7])])
    moved = net.snap(moved_lat, moved_lng)
    assert moved[0] is not first[0]
    assert moved[0][3] == first[0][7] and moved[1][3] == pytest.approx(0, abs=1e-6)
    assert np.array_equal(np.delete(moved[0], 3), np.delete(first[0], 3))
    # Kept answers equal fresh ones (another network object keeps none yet).
    assert np.array_equal(helsinki.snap(lat, lng)[0], first[0])
    with pytest.raises(ValueError):
        net.snap(lat, lng[:-1])


def test_a_site_set_asked_again_reuses_its_search_plan(helsinki: circle.Network) -> None:
    net = network.from_pbf(HELSINKI)
    rng = np.random.default_rng(8)
    sources = rng.choice(net.size, 30, replace=False)
    head = rng.uniform(0, 40, 30)
    first = net.nearest_from(sources, head)
    plan = net.search.plan(sources, head)
    again = net.nearest_from(sources.copy(), head.copy())
    assert net.search.plan(sources, head) is plan  # kept, not worked out again
    assert np.array_equal(first[0], again[0]) and np.array_equal(first[1], again[1])
    # Another head start is another plan, and the answers follow it.
    farther = net.nearest_from(sources, head + 100)
    assert net.search.plan(sources, head + 100) is not plan
    reached = np.isfinite(first[0])
    assert farther[0][reached] == pytest.approx(first[0][reached] + 100, abs=1e-6)
    # Answers alternate between the two sets without mixing their edges.
    assert np.array_equal(net.nearest_from(sources, head)[0], first[0])
    net.forget_snaps()
    assert net.search.plan(sources, head) is not plan
    assert np.array_equal(net.nearest_from(sources, head)[0], first[0])


def test_kept_snaps_are_bounded_by_points(monkeypatch: pytest.MonkeyPatch) -> None:
    net = network.from_pbf(TEST_PBF)
    monkeypatch.setattr(circle.Network, "SNAPS_KEPT", 100)
    rng = np.random.default_rng(6)
    sets = [
        (
            rng.uniform(net.lat.min(), net.lat.max(), 40),
            rng.uniform(net.lng.min(), net.lng.max(), 40),
        )
        for _ in range(4)
    ]
    answers = [net.snap(a, b) for a, b in sets]
    assert net.snap(*sets[3])[0] is answers[3][0]  # the newest two (80 points) are kept
    assert net.snap(*sets[2])[0] is answers[2][0]
    assert net.snap(*sets[0])[0] is not answers[0][0]  # the oldest was dropped
    assert np.array_equal(net.snap(*sets[0])[0], answers[0][0])
    net.forget_snaps()
    assert net.snap(*sets[3])[0] is not answers[3][0]


def test_the_walk_onto_the_network_is_stretched_by_the_detour_factor() -> None:
    """A household 200 m (straight) from the only street walks 200 m × the detour factor
    to reach it; the street itself is walked as mapped."""
    lines = {"type": "FeatureCollection", "features": [{"type": "Feature", "geometry": {
        "type": "LineString", "coordinates": [[105.440, 28.880], [105.450, 28.880]]}}]}  # fmt: skip
    net = network.from_geojson(json.dumps(lines))
    projection = net.projection
    off = 200 / (np.pi / 180 * circle.EARTH_RADIUS_M)  # 200 m north of the street's end
    along = float(
        projection.xy([28.880], [105.450])[0, 0] - projection.xy([28.880], [105.440])[0, 0]
    )
    for detour in (1.0, 1.5):
        walk = circle.Walk(detour=detour)
        result = circle.nearest_network(net, [28.880 + off], [105.440], [28.880], [105.450], walk)
        assert result.metres[0] == pytest.approx(along + 200 * detour, abs=0.5)
        nodes = circle.nearest_for_nodes(net, [28.880 + off], [105.450], walk)
        assert sorted(nodes.metres) == pytest.approx([200 * detour, along + 200 * detour], abs=0.5)


def test_a_river_makes_the_network_walk_longer_than_the_straight_line() -> None:
    # Two banks 300 m apart joined by a bridge 2 km upstream: a U of streets.
    lines = {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "geometry": {"type": "LineString",
             "coordinates": [[105.440, 28.880], [105.440, 28.898], [105.443, 28.898],
                             [105.443, 28.880]]}},
        ],
    }  # fmt: skip
    net = network.from_geojson(json.dumps(lines))
    walk = circle.Walk(detour=1.3)
    result = circle.nearest_network(net, [28.880], [105.440], [28.880], [105.443], walk)
    projection = circle.Projection.around([28.88])
    straight = circle.nearest_straight(
        projection.xy([28.880], [105.440]), projection.xy([28.880], [105.443]), walk
    )
    assert straight.metres[0] < 500
    assert result.metres[0] == pytest.approx(2 * 2000 + 293, rel=0.02)
    bounded = circle.nearest_network(
        net, [28.880], [105.440], [28.880], [105.443], walk, bounded=True
    )
    assert bounded.index[0] == -1


@pytest.mark.django_db
def test_loading_a_pbf_stores_the_network_and_decodes_it(world: Any) -> None:
    admin = world.user(Role.SYSTEM_ADMIN)
    row = road_network_load(actor=admin, name="测试路网", filename="test.osm.pbf", path=TEST_PBF)
    again = network.active_network()
    assert again is not None and again.size == row.nodes and len(again.u) == row.edges
    assert row.nodes == network.from_pbf(TEST_PBF).size
    second = road_network_load(
        actor=admin, name="赫尔辛基", filename="Helsinki.osm.pbf", path=HELSINKI
    )
    assert list(RoadNetwork.objects.filter(is_active=True)) == [second]
    with pytest.raises(PermissionDenied):
        road_network_load(
            actor=world.user(Role.COMMUNITY_STAFF), name="x", filename="a.pbf", path=TEST_PBF
        )


@pytest.mark.django_db
@pytest.mark.parametrize(
    "filename,content,message",
    [
        ("roads.geojson", b"{not json", "不是有效的 GeoJSON"),
        ("roads.geojson", b'{"type": "Point"}', "FeatureCollection"),
        ("roads.geojson", json.dumps({"type": "FeatureCollection", "features": [
            {"geometry": {"type": "Point", "coordinates": [1, 2]}}]}).encode(), "第 1 个要素"),
        ("roads.geojson", json.dumps({"type": "FeatureCollection", "features": [
            {"geometry": {"type": "LineString", "coordinates": [[1, 2], ["x", 3]]}}]}).encode(),
         "坐标无效"),
        ("roads.shp", b"", "须为 .pbf 或 .geojson"),
    ],
)  # fmt: skip
def test_a_malformed_network_file_changes_nothing(
    world: Any, filename: str, content: bytes, message: str
) -> None:
    with pytest.raises(ValidationError, match=message) as caught:
        road_network_load(actor=None, name="x", filename=filename, content=content)
    assert caught.value.field == "file"
    assert not RoadNetwork.objects.exists()


@pytest.mark.django_db
def test_a_damaged_pbf_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "bad.osm.pbf"
    bad.write_bytes(b"\x00\x00\x00\x0dnot a pbf at all")
    with pytest.raises(CommandError):
        call_command("load_road_network", str(bad))
    assert not RoadNetwork.objects.exists()


@pytest.mark.django_db
def test_the_commands_load_a_calendar_and_a_network(tmp_path: Path) -> None:
    calendar = tmp_path / "2026.csv"
    calendar.write_text("date,kind,name\n2026-05-01,holiday,劳动节\n", encoding="utf-8")
    call_command("load_holiday_calendar", "2026", str(calendar))
    call_command("load_road_network", TEST_PBF, "--name", "测试")
    assert RoadNetwork.objects.get().name == "测试"
    calendar.write_text("date,kind,name\n2026-05-06,workday,x\n", encoding="utf-8")
    with pytest.raises(CommandError, match="第 2 行"):
        call_command("load_holiday_calendar", "2026", str(calendar))


# --- The report over a unit's households ---------------------------------------------------


def _town(world: Any) -> dict[str, Any]:
    """Tree A's community with three compounds east of a centre, 40 / 30 / 20
    households at 0.3, 1.0 and 2.5 km."""
    community = world.a.community
    community.lat, community.lng = 28.88, 105.44
    community.save(update_fields=["lat", "lng"])
    out: dict[str, Any] = {"community": community}
    for name, km, n in (("近苑", 0.3, 40), ("中苑", 1.0, 30), ("远苑", 2.5, 20)):
        lng = 105.44 + km * 1000 / (111_320 * np.cos(np.radians(28.88)))
        compound = unit_create(kind="compound", name=name, parent=community, lat=28.88, lng=lng)
        building = unit_create(kind="building", name="1栋", parent=compound)
        for i in range(n):
            household_create(unit=building, entrance="1", room=str(101 + i))
        out[name] = compound
    return out


@pytest.mark.django_db
def test_coverage_per_community_and_uncovered_compounds(world: Any) -> None:
    town = _town(world)
    circle_settings_update(
        actor=world.user(Role.SYSTEM_ADMIN),
        walking_speed_m_per_min=75,
        detour_factor=1.0,
        minutes=15,
    )
    f.site(town["community"], lat=28.88, lng=105.44)
    report = circle_report(unit=town["community"])
    assert report.model == "straight"
    # Tree A's own household (no coordinates below the community) sits at the centre.
    assert report.households == 91 and report.covered == 71
    row = next(r for r in report.by_community if r["unit_id"] == town["community"].pk)
    assert (row["households"], row["covered"]) == (91, 71)
    assert [c["name"] for c in report.uncovered_compounds] == ["远苑"]
    assert report.uncovered_compounds[0]["households"] == 20
    assert report.uncovered_compounds[0]["minutes"] == pytest.approx(2500 / 75, rel=0.01)
    # A detour factor of 1.5 pushes the 1 km compound past 15 minutes (1,500 m > 1,125 m).
    circle_settings_update(
        actor=world.user(Role.SYSTEM_ADMIN),
        walking_speed_m_per_min=75,
        detour_factor=1.5,
        minutes=15,
    )
    assert circle_report(unit=town["community"]).covered == 41


@pytest.mark.django_db
def test_planning_mode_counts_a_candidate_site_as_built(world: Any) -> None:
    town = _town(world)
    f.site(town["community"], lat=28.88, lng=105.44)
    before = circle_report(unit=town["community"])
    far = town["远苑"]
    after = circle_report(
        unit=town["community"], candidate=Candidate(lat=far.lat, lng=far.lng + 0.001)
    )
    assert after.covered - before.covered == 20
    # With the default detour (1.3) the 1 km compound stays out: 1.3 km walked.
    assert [c["name"] for c in before.uncovered_compounds] == ["中苑", "远苑"]
    assert [c["name"] for c in after.uncovered_compounds] == ["中苑"]
    with pytest.raises(ValidationError, match="不在中国境内"):
        circle_report(unit=town["community"], candidate=Candidate(lat=60.17, lng=24.94))


@pytest.mark.django_db
def test_coverage_by_category_and_open_at_21(world: Any) -> None:
    town = _town(world)
    staff = world.user(Role.COMMUNITY_STAFF)
    day_site = f.site(town["community"], name="日间中心", lat=28.88, lng=105.44)
    day_site.categories.set(f.category("elderly").__class__.objects.filter(code="elderly"))
    late = f.site(town["中苑"], name="红立方", level=SiteLevel.STATION, lat=28.88,
                  lng=town["中苑"].lng)  # fmt: skip
    site_hours_set(actor=staff, site=day_site, intervals=[(d, "08:30", "17:30") for d in range(8)])
    site_hours_set(
        actor=staff, site=late,
        intervals=[(d, "09:00", "18:00") for d in range(8)] + [(d, "18:00", "22:00", True) for d in range(8)],
    )  # fmt: skip
    nine_pm = dt.datetime(2026, 3, 4, 21, 0, tzinfo=LOCAL_TZ)
    elderly = circle_report(unit=town["community"], category="elderly")
    assert elderly.sites == [elderly.sites[0]] and elderly.sites[0]["name"] == "日间中心"
    at_nine = circle_report(unit=town["community"], open_at=nine_pm)
    assert [s["name"] for s in at_nine.sites] == ["红立方"]
    # From 中苑 (1 km east): 近苑 0.7 km and 中苑 itself are within reach, the centre's
    # own household 1 km (1.3 km walked) is not, nor is 远苑 1.5 km (1.95 km walked).
    assert at_nine.covered == 70
    stations = circle_report(unit=town["community"], level=SiteLevel.STATION)
    assert [s["name"] for s in stations.sites] == ["红立方"]


@pytest.mark.django_db
def test_the_report_walks_the_network_once_one_is_loaded(world: Any) -> None:
    town = _town(world)
    f.site(town["community"], lat=28.88, lng=105.44)
    lines = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": {"type": "LineString", "coordinates": [
            [105.44, 28.88], [105.44, 28.89], [float(town["远苑"].lng), 28.89],
            [float(town["远苑"].lng), 28.88]]}}]}  # fmt: skip
    road_network_load(
        actor=None, name="河道", filename="r.geojson", content=json.dumps(lines).encode()
    )
    report = circle_report(unit=town["community"])
    assert report.model == "network"
    assert circle_report(unit=town["community"], model="straight").model == "straight"
    # 远苑 sits on the network's far corner: 1.11 km north, 2.5 km east, 1.11 km south.
    far = next(p for p in report.points if p["lng"] == pytest.approx(float(town["远苑"].lng)))
    assert far["minutes"] == pytest.approx((2 * 1112 + 2500) / 75, rel=0.01)
    # 中苑 is 1 km from the nearest street node with no street of its own: that walk is
    # off the network, so the default detour (1.3) makes it 1.3 km — beyond 15 minutes.
    middle = next(p for p in report.points if p["lng"] == pytest.approx(float(town["中苑"].lng)))
    assert middle["minutes"] == pytest.approx(1000 * 1.3 / 75, rel=0.01)
    assert [c["name"] for c in report.uncovered_compounds] == ["中苑", "远苑"]


@pytest.mark.django_db
def test_circle_settings_refuse_nonsense(world: Any) -> None:
    admin = world.user(Role.SYSTEM_ADMIN)
    with pytest.raises(ValidationError, match="绕行系数"):
        circle_settings_update(
            actor=admin, walking_speed_m_per_min=75, detour_factor=0.5, minutes=15
        )
    with pytest.raises(ValidationError, match="分钟数"):
        circle_settings_update(
            actor=admin, walking_speed_m_per_min=75, detour_factor=1.2, minutes=0
        )
    assert not CircleSettings.objects.exists()
