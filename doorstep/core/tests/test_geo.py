import pytest

from doorstep.core.errors import ValidationError
from doorstep.core.geo import Point, haversine_m, to_wgs84, validate_point, wgs84_to_gcj02


def test_point_inside_china_is_accepted() -> None:
    assert validate_point(36.55, 104.17) == Point(36.55, 104.17)


def test_swapped_coordinates_are_named_as_such() -> None:
    with pytest.raises(ValidationError, match="填反"):
        validate_point(104.17, 36.55)


def test_point_outside_china_is_refused() -> None:
    with pytest.raises(ValidationError, match="不在中国境内") as info:
        validate_point(51.5, -0.12)
    assert info.value.field == "location"


@pytest.mark.parametrize("lat,lng", [(None, 1.0), ("abc", 104.0), (float("nan"), 104.0)])
def test_malformed_coordinates_are_refused(lat: object, lng: object) -> None:
    with pytest.raises(ValidationError):
        validate_point(lat, lng)  # type: ignore[arg-type]


def test_gcj02_round_trip_within_a_metre() -> None:
    origin = Point(28.88, 105.44)
    glat, glng = wgs84_to_gcj02(origin.lat, origin.lng)
    assert haversine_m(origin, Point(glat, glng)) > 100  # the datums really differ here
    back = Point(*to_wgs84(glat, glng, "gcj02"))
    assert haversine_m(origin, back) < 1.0


def test_unknown_datum_is_refused() -> None:
    with pytest.raises(ValidationError, match="未知的坐标系"):
        to_wgs84(1, 1, "mercator")


def test_haversine_one_degree_of_latitude() -> None:
    assert haversine_m(Point(0, 100), Point(1, 100)) == pytest.approx(111_195, rel=1e-3)
