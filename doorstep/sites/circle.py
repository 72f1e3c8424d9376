"""The 15-minute circle's arithmetic, on arrays: nearest sites, walking minutes, coverage.

Two models (docs/adr/0010):

* **straight line** — points are projected to metres (an equirectangular projection
  about the data's mean latitude: under 0.5 % error within 100 km, far below the
  uncertainty of a walking time), the nearest site is found with one ``cKDTree`` query
  over all points, and the distance is stretched by a detour factor;
* **network** — sites and households are snapped to the nearest node of a walking
  network and one multi-source Dijkstra (``scipy.sparse.csgraph.dijkstra`` with
  ``min_only``) gives every node its distance to, and the identity of, the nearest site;
  the walk between a point and its snapped node (off the mapped streets: across a
  compound, through a gate) is a straight line stretched by the same detour factor.

Nothing here touches the database: ``selectors`` load the points and call these.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar, Generic, TypeVar

import numpy as np
import numpy.typing as npt
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components, dijkstra
from scipy.spatial import cKDTree

EARTH_RADIUS_M = 6_371_008.8
FArray = npt.NDArray[np.float64]
IArray = npt.NDArray[np.int64]
T = TypeVar("T")


def _workers(points: int) -> int:
    """All cores for a big query; one for a small one, where starting threads costs more
    than it saves."""
    return -1 if points >= 50_000 else 1


def _digest(*arrays: npt.NDArray[Any]) -> bytes:
    """A short digest of arrays' bytes: the key of a point set in the kept answers."""
    digest = hashlib.blake2b(digest_size=16)
    for array in arrays:
        digest.update(np.ascontiguousarray(array).tobytes())
    return digest.digest()


class _Kept(Generic[T]):
    """Answers kept for the point sets asked about lately, newest last, dropping the
    oldest while the kept ones weigh more than a limit (never the newest)."""

    def __init__(self, weigh: Callable[[T], int]) -> None:
        self.lock = threading.Lock()
        self._weigh = weigh
        self._items: OrderedDict[bytes, T] = OrderedDict()

    def get(self, key: bytes) -> T | None:
        with self.lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
            return found

    def put(self, key: bytes, value: T, limit: int) -> None:
        with self.lock:
            self._items[key] = value
            weight = sum(self._weigh(v) for v in self._items.values())
            while weight > limit and len(self._items) > 1:
                weight -= self._weigh(self._items.popitem(last=False)[1])

    def clear(self) -> None:
        with self.lock:
            self._items.clear()


@dataclass(frozen=True)
class Projection:
    """Equirectangular projection about a reference latitude, in metres."""

    lat0: float

    @classmethod
    def around(cls, *lat_arrays: npt.ArrayLike) -> Projection:
        lats = [np.asarray(a, dtype=np.float64) for a in lat_arrays if np.size(a)]
        if not lats:
            return cls(0.0)
        lo = min(float(a.min()) for a in lats)
        hi = max(float(a.max()) for a in lats)
        return cls((lo + hi) / 2)

    def xy(self, lat: npt.ArrayLike, lng: npt.ArrayLike) -> FArray:
        lat_a = np.asarray(lat, dtype=np.float64)
        lng_a = np.asarray(lng, dtype=np.float64)
        k = np.pi / 180 * EARTH_RADIUS_M
        out = np.empty((lat_a.size, 2), dtype=np.float64)
        out[:, 0] = lng_a.ravel() * (k * np.cos(np.radians(self.lat0)))
        out[:, 1] = lat_a.ravel() * k
        return out


@dataclass(frozen=True)
class Walk:
    """Walking parameters: speed, detour factor (straight-line model) and the minutes
    that count as covered."""

    speed_m_per_min: float = 75.0
    detour: float = 1.3
    minutes: float = 15.0

    @property
    def reach_m(self) -> float:
        """The longest walk that counts as covered, in metres along the way."""
        return self.speed_m_per_min * self.minutes


@dataclass
class Nearest:
    """For each point: the index of the nearest site (-1 when none within reach, if
    bounded) and the walking distance in metres (inf when none)."""

    index: IArray
    metres: FArray

    def minutes(self, walk: Walk) -> FArray:
        return self.metres / walk.speed_m_per_min


def nearest_straight(
    points_xy: FArray,
    sites_xy: FArray,
    walk: Walk,
    *,
    bounded: bool = False,
    tree: cKDTree | None = None,
) -> Nearest:
    """The nearest site of every point in the straight-line model. ``bounded`` stops the
    search at the circle's reach (points beyond get -1 / inf), which is all coverage
    needs and much faster when most points are covered."""
    n = len(points_xy)
    if len(sites_xy) == 0:
        return Nearest(np.full(n, -1, dtype=np.int64), np.full(n, np.inf))
    tree = tree if tree is not None else cKDTree(sites_xy, balanced_tree=False)
    bound = walk.reach_m / walk.detour if bounded else np.inf
    dist, idx = tree.query(
        points_xy, k=1, distance_upper_bound=bound * (1 + 1e-9), workers=_workers(n)
    )
    idx = np.asarray(idx, dtype=np.int64)
    missing = ~np.isfinite(dist)
    idx[missing] = -1
    return Nearest(idx, dist * walk.detour)


@dataclass
class Coverage:
    """Coverage per group (unit): households, households within reach, the share."""

    groups: IArray
    households: IArray
    covered: IArray

    @property
    def share(self) -> FArray:
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(self.households > 0, self.covered / np.maximum(self.households, 1), 0.0)

    def as_dict(self) -> dict[int, tuple[int, int]]:
        return {
            int(g): (int(h), int(c))
            for g, h, c in zip(self.groups, self.households, self.covered, strict=True)
        }


def coverage(metres: FArray, weights: npt.ArrayLike, group: npt.ArrayLike, walk: Walk) -> Coverage:
    """Weighted share of points within reach, per group id (vectorized with bincount)."""
    w = np.asarray(weights, dtype=np.int64)
    g = np.asarray(group, dtype=np.int64)
    groups, inverse = np.unique(g, return_inverse=True)
    covered_mask = metres <= walk.reach_m
    households = np.bincount(inverse, weights=w, minlength=len(groups)).astype(np.int64)
    covered = np.bincount(inverse, weights=w * covered_mask, minlength=len(groups)).astype(np.int64)
    return Coverage(groups, households, covered)


# --- Network model -----------------------------------------------------------------------


def hilbert_order(xy: FArray, bits: int = 16) -> IArray:
    """The order in which a Hilbert curve over the points' bounding square visits them:
    points close in this order are close on the ground, and nodes numbered this way
    keep a Dijkstra's memory reads near each other."""
    if len(xy) == 0:
        return np.empty(0, dtype=np.int64)
    side = float(np.ptp(xy, axis=0).max()) or 1.0
    cells = (1 << bits) - 1
    q = np.floor((xy - xy.min(axis=0)) / side * cells).astype(np.int64)
    x, y = q[:, 0].copy(), q[:, 1].copy()
    d = np.zeros(len(q), dtype=np.int64)
    s = 1 << (bits - 1)
    while s > 0:
        rx = (x & s) > 0
        ry = (y & s) > 0
        d += s * s * ((3 * rx.astype(np.int64)) ^ ry.astype(np.int64))
        # Rotate the quadrant so that the curve stays continuous at the next level.
        turn = ~ry
        flip = turn & rx
        x[flip] = cells - x[flip]
        y[flip] = cells - y[flip]
        x[turn], y[turn] = y[turn], x[turn]
        s >>= 1
    return np.argsort(d, kind="stable").astype(np.int64)


def _csr_shortest(rows: IArray, cols: IArray, data: FArray, n: int) -> csr_matrix:
    """A CSR matrix of the given directed entries without self-loops, keeping the
    shortest of parallel entries. Zero lengths become 1 mm: a zero would read as "no
    edge" in a sparse matrix."""
    data = np.maximum(data, 1e-3)
    loop = rows == cols
    rows, cols, data = rows[~loop], cols[~loop], data[~loop]
    order = np.lexsort((data, cols, rows))
    rows, cols, data = rows[order], cols[order], data[order]
    keep = np.ones(len(rows), dtype=bool)
    keep[1:] = (rows[1:] != rows[:-1]) | (cols[1:] != cols[:-1])
    return csr_matrix((data[keep], (rows[keep], cols[keep])), shape=(n, n))


class _Scratch:
    """The search graph's arrays with room after them for the virtual site edges, so
    that a search writes only its own edges instead of copying the whole graph."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.data = np.empty(0)
        self.indices = np.empty(0, dtype=np.int32)
        self.loaded: SourcePlan | None = None  # whose edges the room holds now

    def graph(self, base: csr_matrix, plan: SourcePlan) -> csr_matrix:
        """The search graph with ``plan``'s virtual edges after it (call under the lock)."""
        extra = len(plan.targets)
        need = base.nnz + extra
        if len(self.data) < need or len(self.data) > 2 * need:
            self.data = np.empty(need)
            self.indices = np.empty(need, dtype=base.indices.dtype)
            self.data[: base.nnz] = base.data
            self.indices[: base.nnz] = base.indices
            self.loaded = None
        if self.loaded is not plan:
            self.data[base.nnz : need] = plan.weights
            self.indices[base.nnz : need] = plan.targets
            self.loaded = plan
        m = base.shape[0] + len(plan.indptr) - len(base.indptr)
        return csr_matrix((self.data[:need], self.indices[:need], plan.indptr), shape=(m, m))


@dataclass(frozen=True)
class SourcePlan:
    """What a search needs to know about one set of sources, worked out once: the
    virtual nodes' edges into the search graph, and the best direct walk along its own
    chain for every chain node that shares a chain with a source. A coverage page asks
    about the same sites again and again; the network keeps the plans of the last few
    site sets (keyed by a digest of their nodes and head starts)."""

    indptr: npt.NDArray[np.int32]  # the search graph's, then one row per source
    targets: npt.NDArray[np.int32]  # the virtual edges' ends (search numbers)
    weights: FArray  # and lengths
    direct_nodes: IArray  # chain nodes a source shares a chain with (own ids)
    direct_metres: FArray  # the shortest walk to each from such a source
    direct_site: IArray  # and which source


@dataclass(frozen=True)
class SearchGraph:
    """What a nearest-site search runs over, built once per network.

    Most nodes of a mapped walking network are the bends of a street or the far ends of
    dead ends (in Helsinki's extract, 3,125 of 5,559 nodes have two neighbours and 738
    have one). The search runs over the *junctions* only (every node with three or more
    neighbours, and one node of each ring or stray path that touches none); each
    *chain* of bends between two junctions becomes one edge as long as the chain, and a
    dead end (a chain with one junction) becomes nothing at all. A bend's distance is
    then read off its chain's ends, and a site that sits on a bend reaches its own chain
    directly. The junctions are numbered along a Hilbert curve, so that neighbours sit
    near each other in memory (loaders number nodes as their source lists them, which
    scatters them)."""

    junctions: IArray  # the junctions' own ids, in search order
    index: IArray  # own id → search number, -1 for a bend
    graph: csr_matrix  # symmetric, over the junctions
    chain: IArray  # own id → chain number, -1 for a junction
    along: FArray  # own id → metres from its chain's end a (0 for a junction)
    chain_nodes: IArray  # the bends' own ids, by chain, then along
    start: IArray  # chain c's bends are chain_nodes[start[c]:start[c + 1]]
    end_a: IArray  # chain → search number of the junction at its end a
    end_b: IArray  # chain → search number of the junction at its end b (-1: a dead end)
    total: FArray  # chain → metres from end a to end b (inf for a dead end)
    # Per bend, in chain_nodes order: the search numbers of its chain's ends and its
    # distances to them (read in one sweep, not gathered through the chain).
    bend_a: IArray = field(repr=False)
    bend_b: IArray = field(repr=False)
    to_a: FArray = field(repr=False)
    to_b: FArray = field(repr=False)
    _scratch: _Scratch = field(default_factory=_Scratch, repr=False, compare=False)
    _plans: _Kept[SourcePlan] = field(
        default_factory=lambda: _Kept(lambda plan: 1), repr=False, compare=False
    )

    PLANS_KEPT: ClassVar[int] = 8

    @classmethod
    def build(cls, graph: csr_matrix, xy: FArray) -> SearchGraph:
        n = graph.shape[0]
        indptr, indices, data = graph.indptr, graph.indices.astype(np.int64), graph.data
        degree = np.diff(indptr)
        rows = np.repeat(np.arange(n, dtype=np.int64), degree)
        bend = degree <= 2
        while True:
            inside = bend[rows] & bend[indices]
            bends_only = csr_matrix((data[inside], (rows[inside], indices[inside])), shape=(n, n))
            _count, part = connected_components(bends_only, directed=False)
            ends = bend[rows] & ~bend[indices]
            loose = np.setdiff1d(np.unique(part[bend]), np.unique(part[rows[ends]]))
            if len(loose) == 0:
                break
            # A ring of bends, or a stray path, touching no junction: its lowest-numbered
            # node becomes one (a node with no street at all is a junction of its own).
            ids = np.flatnonzero(bend & np.isin(part, loose))
            _loose, first = np.unique(part[ids], return_index=True)
            bend[ids[first]] = False
        bends = np.flatnonzero(bend)
        chain = np.full(n, -1, dtype=np.int64)
        _parts, chain[bends] = np.unique(part[bends], return_inverse=True)
        chains = len(_parts)
        # Each chain meets junctions by two edges, or by one for a dead end; the first in
        # a fixed order is its end a.
        e_bend, e_junction, e_length = rows[ends], indices[ends], data[ends]
        order = np.lexsort((e_length, e_junction, e_bend, chain[e_bend]))
        e_bend, e_junction, e_length = e_bend[order], e_junction[order], e_length[order]
        meets = np.bincount(chain[e_bend], minlength=chains)
        if chains and not (np.all(meets >= 1) and np.all(meets <= 2)):
            raise ValueError("a chain of bends with no end or more than two")  # cannot happen
        a_at = np.concatenate([[0], np.cumsum(meets)[:-1]]).astype(np.int64)
        two = meets == 2
        along = np.zeros(n)
        if chains:
            from_a = dijkstra(bends_only, directed=False, indices=e_bend[a_at], min_only=True)
            along[bends] = from_a[bends] + e_length[a_at][chain[bends]]
        total = np.full(chains, np.inf)
        b_at = a_at[two] + 1
        total[two] = along[e_bend[b_at]] + e_length[b_at]
        junctions_own = np.flatnonzero(~bend)
        junctions = junctions_own[hilbert_order(xy[junctions_own])]
        index = np.full(n, -1, dtype=np.int64)
        index[junctions] = np.arange(len(junctions), dtype=np.int64)
        end_a = index[e_junction[a_at]]
        end_b = np.full(chains, -1, dtype=np.int64)
        end_b[two] = index[e_junction[b_at]]
        direct = ~bend[rows] & ~bend[indices]
        search = _csr_shortest(
            np.concatenate([index[rows[direct]], end_a[two], end_b[two]]),
            np.concatenate([index[indices[direct]], end_b[two], end_a[two]]),
            np.concatenate([data[direct], total[two], total[two]]),
            len(junctions),
        )
        chain_nodes = bends[np.lexsort((along[bends], chain[bends]))]
        start = np.concatenate([[0], np.cumsum(np.bincount(chain[bends], minlength=chains))])
        bend_chain = chain[chain_nodes]
        # A dead end's bends have no end b: read it as end a, infinitely far.
        bend_b = np.where(two[bend_chain], end_b[bend_chain], end_a[bend_chain])
        return cls(
            junctions, index, search, chain, along, chain_nodes, start.astype(np.int64),
            end_a, end_b, total, end_a[bend_chain], bend_b, along[chain_nodes],
            total[bend_chain] - along[chain_nodes],
        )  # fmt: skip

    def forget_plans(self) -> None:
        self._plans.clear()
        with self._scratch.lock:
            self._scratch.loaded = None

    def plan(self, source_nodes: IArray, head_start: FArray) -> SourcePlan:
        """The :class:`SourcePlan` of these sources, kept or worked out now."""
        src = np.ascontiguousarray(source_nodes, dtype=np.int64)
        head = np.ascontiguousarray(head_start, dtype=np.float64)
        key = _digest(src, head)
        kept = self._plans.get(key)
        if kept is not None:
            return kept
        made = self._make_plan(src, head)
        self._plans.put(key, made, self.PLANS_KEPT)
        return made

    def _make_plan(self, src: IArray, head: FArray) -> SourcePlan:
        k = len(src)
        c = self.chain[src]
        on_chain = c >= 0
        cc = c[on_chain]
        # Each source is a virtual node: one edge to its junction, or to each end of its
        # chain (one for a dead end), as long as the walk there.
        two = np.zeros(k, dtype=bool)
        two[on_chain] = self.end_b[cc] >= 0
        counts = np.where(two, 2, 1)
        first = np.cumsum(counts) - counts
        targets = np.empty(int(counts.sum()), dtype=np.int64)
        weights = np.empty(len(targets))
        targets[first] = self.index[src]
        weights[first] = head
        chain_first = first[on_chain]
        targets[chain_first] = self.end_a[cc]
        weights[chain_first] = head[on_chain] + self.along[src[on_chain]]
        c2 = c[two]
        targets[first[two] + 1] = self.end_b[c2]
        weights[first[two] + 1] = head[two] + self.total[c2] - self.along[src[two]]
        base = self.graph
        indptr = np.concatenate([base.indptr, base.nnz + np.cumsum(counts)])
        # A source on a chain also walks its own chain, without leaving it: for every
        # node of such a chain, the shortest such walk and from which source.
        lo = self.start[cc]
        count = self.start[cc + 1] - lo
        who = np.repeat(np.flatnonzero(on_chain), count)
        offset = np.arange(int(count.sum())) - np.repeat(np.cumsum(count) - count, count)
        nodes = self.chain_nodes[offset + np.repeat(lo, count)]
        metres = head[who] + np.abs(self.along[nodes] - self.along[src[who]])
        order = np.lexsort((metres, nodes))
        nodes, metres, who = nodes[order], metres[order], who[order]
        best = np.ones(len(nodes), dtype=bool)
        best[1:] = nodes[1:] != nodes[:-1]
        return SourcePlan(
            indptr.astype(base.indptr.dtype), targets.astype(base.indices.dtype),
            np.maximum(weights, 1e-6),  # a zero would read as "no edge"
            nodes[best], metres[best], who[best].astype(np.int64),
        )  # fmt: skip

    def nearest(
        self, n: int, source_nodes: IArray, head_start: FArray, limit_m: float
    ) -> tuple[FArray, IArray]:
        """For every node (own ids, ``n`` of them) the distance to the nearest source and
        which source; see :meth:`Network.nearest_from`."""
        plan = self.plan(source_nodes, head_start)
        m, k = len(self.junctions), len(plan.indptr) - len(self.graph.indptr)
        with self._scratch.lock:
            at_junction, _pred, nearest = dijkstra(
                self._scratch.graph(self.graph, plan),
                directed=True,
                indices=np.arange(m, m + k),
                min_only=True,
                return_predecessors=True,
                limit=limit_m,
            )
        label = np.where(nearest >= 0, nearest - m, -1).astype(np.int64)
        dist = np.full(n, np.inf)
        site = np.full(n, -1, dtype=np.int64)
        dist[self.junctions] = at_junction[:m]
        site[self.junctions] = label[:m]
        # A chain node, from the nearer end of its chain, or straight along it from a
        # source on the same chain.
        bends = self.chain_nodes
        via_a = at_junction[self.bend_a] + self.to_a
        via_b = at_junction[self.bend_b] + self.to_b
        use_b = via_b < via_a
        dist[bends] = np.where(use_b, via_b, via_a)
        site[bends] = np.where(use_b, label[self.bend_b], label[self.bend_a])
        nodes = plan.direct_nodes
        better = plan.direct_metres < dist[nodes]
        dist[nodes[better]] = plan.direct_metres[better]
        site[nodes[better]] = plan.direct_site[better]
        if np.isfinite(limit_m):
            beyond = dist > limit_m
            dist[beyond] = np.inf
            site[beyond] = -1
        return dist, site


@dataclass
class Network:
    """A walking network: node coordinates and undirected edges with lengths in metres."""

    lat: FArray
    lng: FArray
    u: IArray
    v: IArray
    length: FArray
    _graph: csr_matrix | None = field(default=None, repr=False)
    _search: SearchGraph | None = field(default=None, repr=False)
    _tree: cKDTree | None = field(default=None, repr=False)
    _projection: Projection | None = field(default=None, repr=False)
    _main: IArray | None = field(default=None, repr=False)
    _snaps: _Kept[tuple[IArray, FArray]] = field(
        default_factory=lambda: _Kept(lambda snap: len(snap[0])), repr=False, compare=False
    )

    # How many points' snaps are kept (16 bytes each): a coverage page asks for the same
    # sites and compounds again and again (a few filters' worth), while snapping 10,000
    # sites costs about a tenth of the Dijkstra that follows.
    SNAPS_KEPT: ClassVar[int] = 4_000_000

    @property
    def size(self) -> int:
        return len(self.lat)

    @property
    def projection(self) -> Projection:
        if self._projection is None:
            self._projection = Projection.around(self.lat)
        return self._projection

    @property
    def graph(self) -> csr_matrix:
        """Symmetric CSR adjacency in the network's own node numbers; parallel edges
        keep the shortest, loops are dropped."""
        if self._graph is None:
            self._graph = _csr_shortest(
                np.concatenate([self.u, self.v]),
                np.concatenate([self.v, self.u]),
                np.concatenate([self.length, self.length]),
                self.size,
            )
        return self._graph

    @property
    def search(self) -> SearchGraph:
        """Junctions, chains of bends and their order (:class:`SearchGraph`)."""
        if self._search is None:
            self._search = SearchGraph.build(self.graph, self.projection.xy(self.lat, self.lng))
        return self._search

    @property
    def main_nodes(self) -> IArray:
        """Nodes of the largest connected part: points snap only to these, so that a
        stray footpath mapped without its connections does not strand them."""
        if self._main is None:
            _count, labels = connected_components(self.graph, directed=False)
            largest = np.bincount(labels).argmax() if len(labels) else 0
            self._main = np.flatnonzero(labels == largest).astype(np.int64)
        return self._main

    @property
    def tree(self) -> cKDTree:
        if self._tree is None:
            main = self.main_nodes
            self._tree = cKDTree(self.projection.xy(self.lat[main], self.lng[main]))
        return self._tree

    def snap(self, lat: npt.ArrayLike, lng: npt.ArrayLike) -> tuple[IArray, FArray]:
        """The nearest node of each point and the straight distance to it, in metres.

        The answer for a point set seen lately is kept (keyed by a digest of its
        coordinates, so a moved or added site is a new set) and returned read-only."""
        lat_a = np.ascontiguousarray(lat, dtype=np.float64)
        lng_a = np.ascontiguousarray(lng, dtype=np.float64)
        if lat_a.shape != lng_a.shape:
            raise ValueError("lat and lng differ in length")
        key = _digest(lat_a, lng_a)
        kept = self._snaps.get(key)
        if kept is not None:
            return kept
        xy = self.projection.xy(lat_a, lng_a)
        if len(xy) == 0:
            nodes, dist = np.empty(0, dtype=np.int64), np.empty(0)
        else:
            found, idx = self.tree.query(xy, k=1, workers=_workers(len(xy)))
            nodes = self.main_nodes[np.asarray(idx, dtype=np.int64)]
            dist = np.asarray(found, dtype=np.float64)
        nodes.setflags(write=False)
        dist.setflags(write=False)
        self._snaps.put(key, (nodes, dist), self.SNAPS_KEPT)
        return nodes, dist

    def forget_snaps(self) -> None:
        """Drop the kept snaps and search plans (a benchmark's cold run; nothing else
        needs it)."""
        self._snaps.clear()
        if self._search is not None:
            self._search.forget_plans()

    def nearest_from(
        self, source_nodes: IArray, head_start: FArray | None = None, limit_m: float = np.inf
    ) -> tuple[FArray, IArray]:
        """One multi-source Dijkstra: for every node, the distance to the nearest source
        and which source (an index into ``source_nodes``; -1 when none within limit).

        Each source is a virtual node joined to the network by one-way edges as long as
        its ``head_start`` (the walk from the site to the network) plus, for a source on
        a bend, the walk along its chain to either end; so the answer is exact, not just
        between snapped nodes. The search graph holds both directions of every street,
        so the search runs directed (scipy would otherwise symmetrize the whole matrix on
        every call)."""
        n, k = self.size, len(source_nodes)
        if k == 0:
            return np.full(n, np.inf), np.full(n, -1, dtype=np.int64)
        offsets = np.zeros(k) if head_start is None else np.asarray(head_start, dtype=np.float64)
        return self.search.nearest(n, np.asarray(source_nodes, dtype=np.int64), offsets, limit_m)


def nearest_network(
    network: Network,
    point_lat: npt.ArrayLike,
    point_lng: npt.ArrayLike,
    site_lat: npt.ArrayLike,
    site_lng: npt.ArrayLike,
    walk: Walk,
    *,
    bounded: bool = False,
) -> Nearest:
    """The nearest site of every point along the network. Each point and each site
    walks to its nearest node of the network's main part; those walks count, as the
    straight line stretched by the detour factor (they are off the mapped streets)."""
    site_nodes, site_off = network.snap(site_lat, site_lng)
    point_nodes, point_off = network.snap(point_lat, point_lng)
    site_off, point_off = site_off * walk.detour, point_off * walk.detour
    limit = walk.reach_m if bounded else np.inf
    node_dist, node_site = network.nearest_from(site_nodes, site_off, limit)
    metres = node_dist[point_nodes] + point_off
    index = node_site[point_nodes]
    metres = np.where(index >= 0, metres, np.inf)
    if bounded:
        beyond = metres > walk.reach_m
        metres = np.where(beyond, np.inf, metres)
        index = np.where(beyond, -1, index)
    return Nearest(index.astype(np.int64), metres)


def nearest_for_nodes(
    network: Network,
    site_lat: npt.ArrayLike,
    site_lng: npt.ArrayLike,
    walk: Walk,
    *,
    bounded: bool = False,
) -> Nearest:
    """Every node's nearest site along the network (the points are the nodes themselves,
    so only the sites are snapped): one multi-source Dijkstra."""
    site_nodes, site_off = network.snap(site_lat, site_lng)
    site_off = site_off * walk.detour
    limit = walk.reach_m if bounded else np.inf
    metres, index = network.nearest_from(site_nodes, site_off, limit)
    return Nearest(index, metres)
