"""Coordinates: validation, distance, and the Chinese map datums.

Everything is stored in WGS-84. Chinese map apps report GCJ-02 (AMap, Tencent) or BD-09
(Baidu); :func:`to_wgs84` converts their input with the published approximate inverse,
good to about a metre, which is well within the needs of a 15-minute circle.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from django.utils.translation import gettext as _

from .errors import ValidationError

EARTH_RADIUS_M = 6_371_008.8

# A generous box around the PRC's territory; coordinates outside it are refused.
CHINA_LAT = (3.8, 53.6)
CHINA_LNG = (73.5, 135.1)


@dataclass(frozen=True)
class Point:
    lat: float
    lng: float


def in_china(lat: float, lng: float) -> bool:
    return CHINA_LAT[0] <= lat <= CHINA_LAT[1] and CHINA_LNG[0] <= lng <= CHINA_LNG[1]


def validate_point(lat: float | None, lng: float | None, *, field: str = "location") -> Point:
    """A WGS-84 point inside China, or a ValidationError that says what is wrong."""
    if lat is None or lng is None:
        raise ValidationError(_("纬度和经度必须同时提供。"), field=field)
    try:
        lat_f, lng_f = float(lat), float(lng)
    except (TypeError, ValueError):
        raise ValidationError(_("坐标必须是数字。"), field=field) from None
    if not (math.isfinite(lat_f) and math.isfinite(lng_f)):
        raise ValidationError(_("坐标必须是有限的数字。"), field=field)
    if not in_china(lat_f, lng_f):
        if in_china(lng_f, lat_f):
            raise ValidationError(_("纬度和经度似乎填反了：纬度在前，经度在后。"), field=field)
        raise ValidationError(_("该坐标不在中国境内。"), field=field)
    return Point(lat_f, lng_f)


def haversine_m(a: Point, b: Point) -> float:
    """Great-circle distance in metres."""
    phi1, phi2 = math.radians(a.lat), math.radians(b.lat)
    dphi = phi2 - phi1
    dlmb = math.radians(b.lng - a.lng)
    h = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlmb / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


_A = 6378245.0
_EE = 0.00669342162296594323


def _transform_lat(x: float, y: float) -> float:
    ret = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * math.sqrt(abs(x))
    ret += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    ret += (20.0 * math.sin(y * math.pi) + 40.0 * math.sin(y / 3.0 * math.pi)) * 2.0 / 3.0
    ret += (160.0 * math.sin(y / 12.0 * math.pi) + 320 * math.sin(y * math.pi / 30.0)) * 2.0 / 3.0
    return ret


def _transform_lng(x: float, y: float) -> float:
    ret = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * math.sqrt(abs(x))
    ret += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    ret += (20.0 * math.sin(x * math.pi) + 40.0 * math.sin(x / 3.0 * math.pi)) * 2.0 / 3.0
    ret += (150.0 * math.sin(x / 12.0 * math.pi) + 300.0 * math.sin(x / 30.0 * math.pi)) * 2.0 / 3.0
    return ret


def wgs84_to_gcj02(lat: float, lng: float) -> tuple[float, float]:
    dlat = _transform_lat(lng - 105.0, lat - 35.0)
    dlng = _transform_lng(lng - 105.0, lat - 35.0)
    radlat = lat / 180.0 * math.pi
    magic = 1 - _EE * math.sin(radlat) ** 2
    sqrtmagic = math.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1 - _EE)) / (magic * sqrtmagic) * math.pi)
    dlng = (dlng * 180.0) / (_A / sqrtmagic * math.cos(radlat) * math.pi)
    return lat + dlat, lng + dlng


def gcj02_to_wgs84(lat: float, lng: float) -> tuple[float, float]:
    """Iterative inverse of :func:`wgs84_to_gcj02`; converges below 1e-7 degrees."""
    wlat, wlng = lat, lng
    for _step in range(10):
        glat, glng = wgs84_to_gcj02(wlat, wlng)
        dlat, dlng = glat - lat, glng - lng
        wlat, wlng = wlat - dlat, wlng - dlng
        if abs(dlat) < 1e-9 and abs(dlng) < 1e-9:
            break
    return wlat, wlng


_X_PI = math.pi * 3000.0 / 180.0


def bd09_to_gcj02(lat: float, lng: float) -> tuple[float, float]:
    x, y = lng - 0.0065, lat - 0.006
    z = math.sqrt(x * x + y * y) - 0.00002 * math.sin(y * _X_PI)
    theta = math.atan2(y, x) - 0.000003 * math.cos(x * _X_PI)
    return z * math.sin(theta), z * math.cos(theta)


def to_wgs84(lat: float, lng: float, datum: str = "wgs84") -> tuple[float, float]:
    datum = datum.lower()
    if datum == "wgs84":
        return lat, lng
    if datum == "gcj02":
        return gcj02_to_wgs84(lat, lng)
    if datum == "bd09":
        return gcj02_to_wgs84(*bd09_to_gcj02(lat, lng))
    raise ValidationError(
        _("未知的坐标系：%(datum)s（可用 wgs84、gcj02、bd09）。") % {"datum": datum}, field="datum"
    )
