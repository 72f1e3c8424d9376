"""Reading a walking network from an OpenStreetMap ``.pbf`` extract (through pyrosm) or
from GeoJSON lines, and keeping it in the database as compressed arrays.

A GeoJSON file is a FeatureCollection of LineString / MultiLineString features in
WGS-84 (``[lng, lat]``); every vertex is a node, vertices with equal coordinates (to
1e-7°, about 1 cm) are the same node, and every segment is an edge whose length is its
great-circle length.
"""

from __future__ import annotations

import io
import json
import math
import threading
from itertools import pairwise
from pathlib import Path
from typing import Any

import numpy as np
from django.utils.translation import gettext as _

from doorstep.core.errors import ValidationError

from .circle import EARTH_RADIUS_M, Network

FIELD = "file"
_CACHE: dict[tuple[int, str], Network] = {}
_LOCK = threading.Lock()


def _haversine(lat1: Any, lng1: Any, lat2: Any, lng2: Any) -> Any:
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dphi = p2 - p1
    dl = np.radians(np.asarray(lng2) - np.asarray(lng1))
    h = np.sin(dphi / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * np.arcsin(np.minimum(1.0, np.sqrt(h)))


def from_pbf(path: str | Path) -> Network:
    """The walking network of an OSM extract."""
    try:
        import pyrosm

        osm = pyrosm.OSM(str(path))
        result = osm.get_network(network_type="walking", nodes=True)
    except Exception as exc:  # pyrosm raises many kinds on a damaged file
        raise ValidationError(
            _("无法读取路网文件：%(error)s") % {"error": str(exc)[:200]}, field=FIELD
        ) from None
    if result is None or result[1] is None or len(result[1]) == 0:
        raise ValidationError(_("路网文件中没有可步行的道路。"), field=FIELD)
    nodes, edges = result
    ids = nodes["id"].to_numpy()
    order = np.argsort(ids)
    sorted_ids = ids[order]
    u_raw = edges["u"].to_numpy()
    v_raw = edges["v"].to_numpy()
    u_pos = np.searchsorted(sorted_ids, u_raw)
    v_pos = np.searchsorted(sorted_ids, v_raw)
    u_pos = np.minimum(u_pos, len(ids) - 1)
    v_pos = np.minimum(v_pos, len(ids) - 1)
    known = (sorted_ids[u_pos] == u_raw) & (sorted_ids[v_pos] == v_raw)
    lat = nodes["lat"].to_numpy(dtype=np.float64)
    lng = nodes["lon"].to_numpy(dtype=np.float64)
    u = order[u_pos[known]].astype(np.int64)
    v = order[v_pos[known]].astype(np.int64)
    length = edges["length"].to_numpy(dtype=np.float64)[known]
    bad = ~np.isfinite(length)
    if bad.any():
        length[bad] = _haversine(lat[u[bad]], lng[u[bad]], lat[v[bad]], lng[v[bad]])
    return Network(lat, lng, u, v, length)


def from_geojson(content: bytes | str) -> Network:
    """The network drawn by GeoJSON lines; every bad feature is reported by its index."""
    try:
        data = json.loads(content)
    except (ValueError, UnicodeDecodeError):
        raise ValidationError(_("路网文件不是有效的 GeoJSON。"), field=FIELD) from None
    features = data.get("features") if isinstance(data, dict) else None
    if not isinstance(features, list):
        raise ValidationError(_("GeoJSON 必须是包含 features 的 FeatureCollection。"), field=FIELD)
    index: dict[tuple[int, int], int] = {}
    lats: list[float] = []
    lngs: list[float] = []
    us: list[int] = []
    vs: list[int] = []
    problems: list[str] = []

    def node(lng: float, lat: float) -> int:
        key = (round(lat * 1e7), round(lng * 1e7))
        found = index.get(key)
        if found is None:
            found = index[key] = len(lats)
            lats.append(lat)
            lngs.append(lng)
        return found

    for number, feature in enumerate(features, start=1):
        geometry = feature.get("geometry") if isinstance(feature, dict) else None
        kind = geometry.get("type") if isinstance(geometry, dict) else None
        coords: Any = geometry.get("coordinates") if isinstance(geometry, dict) else None
        if kind == "LineString":
            lines = [coords]
        elif kind == "MultiLineString" and isinstance(coords, list):
            lines = coords
        else:
            problems.append(
                _("第 %(n)d 个要素不是 LineString 或 MultiLineString。") % {"n": number}
            )
            continue
        for line in lines:
            try:
                points = [(float(p[0]), float(p[1])) for p in line]
            except (TypeError, ValueError, IndexError):
                points = []
            if len(points) < 2 or not all(
                math.isfinite(x) and math.isfinite(y) and -180 <= x <= 180 and -90 <= y <= 90
                for x, y in points
            ):
                problems.append(_("第 %(n)d 个要素的坐标无效。") % {"n": number})
                break
            ids = [node(x, y) for x, y in points]
            for a, b in pairwise(ids):
                if a != b:
                    us.append(a)
                    vs.append(b)
    if problems:
        raise ValidationError(errors={FIELD: list(problems[:50])})
    if not us:
        raise ValidationError(_("路网文件中没有道路。"), field=FIELD)
    lat = np.array(lats)
    lng = np.array(lngs)
    u = np.array(us, dtype=np.int64)
    v = np.array(vs, dtype=np.int64)
    return Network(lat, lng, u, v, _haversine(lat[u], lng[u], lat[v], lng[v]))


def to_bytes(network: Network) -> bytes:
    buffer = io.BytesIO()
    np.savez_compressed(
        buffer,
        lat=network.lat,
        lng=network.lng,
        u=network.u.astype(np.int32),
        v=network.v.astype(np.int32),
        length=network.length.astype(np.float32),
    )
    return buffer.getvalue()


def from_bytes(data: bytes) -> Network:
    with np.load(io.BytesIO(bytes(data))) as arrays:
        return Network(
            arrays["lat"].astype(np.float64),
            arrays["lng"].astype(np.float64),
            arrays["u"].astype(np.int64),
            arrays["v"].astype(np.int64),
            arrays["length"].astype(np.float64),
        )


def active_network() -> Network | None:
    """The newest active road network, decoded once per process per version."""
    from .models import RoadNetwork

    row = (
        RoadNetwork.objects.filter(is_active=True)
        .order_by("-created_at", "-id")
        .values_list("pk", "updated_at")
        .first()
    )
    if row is None:
        return None
    key = (row[0], row[1].isoformat())
    with _LOCK:
        cached = _CACHE.get(key)
    if cached is not None:
        return cached
    data = RoadNetwork.objects.values_list("data", flat=True).get(pk=row[0])
    network = from_bytes(data)
    with _LOCK:
        _CACHE.clear()
        _CACHE[key] = network
    return network
