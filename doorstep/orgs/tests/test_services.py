import pytest

from doorstep.core.errors import ValidationError
from doorstep.core.tree import lineage
from doorstep.orgs.models import Unit
from doorstep.orgs.selectors import kind_counts, unit_ancestors, unit_subtree, unit_trails
from doorstep.orgs.services import unit_create, unit_move

pytestmark = pytest.mark.django_db


@pytest.fixture
def city() -> Unit:
    return unit_create(kind="city", name="泸州市", code="510500")


def test_paths_nest_and_subtree_is_one_query(city: Unit, django_assert_num_queries) -> None:  # type: ignore[no-untyped-def]
    district = unit_create(kind="district", name="江阳区", code="510502", parent=city)
    street = unit_create(kind="street", name="大山坪街道", code="510502001000", parent=district)
    other = unit_create(kind="district", name="龙马潭区", code="510504", parent=city)
    assert street.path.startswith(district.path) and street.depth == 2
    with django_assert_num_queries(1):
        ids = set(unit_subtree(district).values_list("id", flat=True))
    assert ids == {district.pk, street.pk}
    assert other.pk not in ids
    assert [u.name for u in unit_ancestors(street)] == ["泸州市", "江阳区", "大山坪街道"]
    assert kind_counts(city) == {"district": 2, "street": 1}


def test_lineage_is_the_node_and_its_ancestors_in_one_query(  # type: ignore[no-untyped-def]
    city: Unit, django_assert_num_queries
) -> None:
    district = unit_create(kind="district", name="江阳区", code="510502", parent=city)
    street = unit_create(kind="street", name="大山坪街道", code="510502001000", parent=district)
    with django_assert_num_queries(1):
        line = lineage(Unit, street.pk, fields=("name", "path"))
    assert [(u.pk, u.name, u.path, u.depth) for u in line] == [
        (u.pk, u.name, u.path, u.depth) for u in (city, district, street)
    ]
    assert line[-1].parent_id == district.pk
    # Fields not asked for are deferred, not made up.
    assert "code" in line[-1].get_deferred_fields()
    assert lineage(Unit, city.pk, fields=())[0].pk == city.pk
    for missing in (0, -1, street.pk + 1000, 2**63, 2**70):
        assert lineage(Unit, missing, fields=("name",)) == []
    # After a move the walk follows the new parent.
    other = unit_create(kind="district", name="龙马潭区", code="510504", parent=city)
    unit_move(unit=street, new_parent=other)
    assert [u.pk for u in lineage(Unit, street.pk, fields=())] == [city.pk, other.pk, street.pk]


@pytest.mark.parametrize(
    "kind,parent_kind,message",
    [
        ("community", "city", "不能设在"),
        ("building", None, "不能设在"),
        ("planet", None, "未知的单元类型"),
    ],
)
def test_wrong_nesting_is_refused_and_nothing_is_saved(
    city: Unit, kind: str, parent_kind: str | None, message: str
) -> None:
    before = Unit.objects.count()
    parent = city if parent_kind == "city" else None
    with pytest.raises(ValidationError, match=message):
        unit_create(kind=kind, name="某单元", parent=parent)
    assert Unit.objects.count() == before


@pytest.mark.parametrize(
    "kind,code", [("district", "51050"), ("district", "51050a"), ("district", "5105021")]
)
def test_malformed_codes_are_refused(city: Unit, kind: str, code: str) -> None:
    with pytest.raises(ValidationError) as info:
        unit_create(kind=kind, name="某地", code=code, parent=city)
    assert info.value.field == "code"


def test_duplicate_name_under_one_parent_is_refused(city: Unit) -> None:
    unit_create(kind="district", name="江阳区", code="510502", parent=city)
    with pytest.raises(ValidationError, match="同名"):
        unit_create(kind="district", name="江阳区", code="510503", parent=city)


def test_duplicate_official_code_is_refused(city: Unit) -> None:
    with pytest.raises(ValidationError, match="代码已被使用"):
        unit_create(kind="city", name="另一个市", code="510500")


def test_coordinates_outside_china_are_refused() -> None:
    with pytest.raises(ValidationError, match="不在中国境内"):
        unit_create(kind="city", name="伦敦", code="999999", lat=51.5, lng=-0.1)


def test_boundary_must_be_a_closed_polygon(city: Unit) -> None:
    ring = [[105.4, 28.8], [105.5, 28.8], [105.5, 28.9], [105.4, 28.8]]
    district = unit_create(
        kind="district",
        name="江阳区",
        code="510502",
        parent=city,
        boundary={"type": "Polygon", "coordinates": [ring]},
    )
    assert district.boundary is not None and district.boundary["type"] == "Polygon"
    with pytest.raises(ValidationError, match="首尾相同"):
        unit_create(
            kind="district",
            name="纳溪区",
            code="510503",
            parent=city,
            boundary={"type": "Polygon", "coordinates": [ring[:-1] + [[105.41, 28.8]]]},
        )
    with pytest.raises(ValidationError, match="Polygon"):
        unit_create(
            kind="district",
            name="纳溪区",
            code="510503",
            parent=city,
            boundary={"type": "Point", "coordinates": [1, 2]},
        )


def test_move_rewrites_the_whole_subtree(city: Unit) -> None:
    a = unit_create(kind="district", name="甲区", code="510502", parent=city)
    b = unit_create(kind="district", name="乙区", code="510503", parent=city)
    street = unit_create(kind="street", name="某街道", code="510502001000", parent=a)
    community = unit_create(kind="community", name="某社区", code="510502001001", parent=street)
    unit_move(unit=street, new_parent=b)
    community.refresh_from_db()
    street.refresh_from_db()
    assert street.parent_id == b.pk
    assert community.path.startswith(b.path) and community.depth == 3
    assert set(unit_subtree(a).values_list("id", flat=True)) == {a.pk}
    assert set(unit_subtree(b).values_list("id", flat=True)) == {b.pk, street.pk, community.pk}


def test_move_under_own_descendant_is_refused(city: Unit) -> None:
    district = unit_create(kind="district", name="甲区", code="510502", parent=city)
    street = unit_create(kind="street", name="某街道", code="510502001000", parent=district)
    with pytest.raises(ValidationError, match="自己的下级"):
        unit_move(unit=district, new_parent=street)
    district.refresh_from_db()
    assert district.parent_id == city.pk


def test_twelve_digit_kinds_need_twelve_digits(city: Unit) -> None:
    district = unit_create(kind="district", name="江阳区", code="510502", parent=city)
    with pytest.raises(ValidationError, match="12位") as info:
        unit_create(kind="street", name="某街道", code="510502001", parent=district)
    assert info.value.field == "code"


def test_unit_trails_tell_same_named_compounds_apart_in_one_query(
    city: Unit,
    django_assert_num_queries,  # type: ignore[no-untyped-def]
) -> None:
    district = unit_create(kind="district", name="江阳区", code="510502", parent=city)
    street = unit_create(kind="street", name="南城街道", code="510502001000", parent=district)
    first = unit_create(kind="community", name="上平社区", code="510502001001", parent=street)
    second = unit_create(kind="community", name="江悦社区", code="510502001002", parent=street)
    a = unit_create(kind="compound", name="1号小区", parent=first)
    b = unit_create(kind="compound", name="1号小区", parent=second)
    with django_assert_num_queries(1):
        trails = unit_trails([a, b, street, city])
    assert trails == {
        a.pk: "南城街道 / 上平社区 / 1号小区",
        b.pk: "南城街道 / 江悦社区 / 1号小区",
        street.pk: f"{city.name} / 江阳区 / 南城街道",
        city.pk: city.name,
    }
    assert unit_trails([a], levels=1) == {a.pk: "1号小区"}


def test_rows_group_by_the_unit_below_a_place_in_one_query(  # type: ignore[no-untyped-def]
    city: Unit, django_assert_num_queries
) -> None:
    from django.db.models import Count

    from doorstep.core.tree import per_branch

    jiangyang = unit_create(kind="district", name="江阳区", code="510502", parent=city)
    street = unit_create(kind="street", name="大山坪街道", code="510502001000", parent=jiangyang)
    unit_create(kind="community", name="上平社区", parent=street)
    longmatan = unit_create(kind="district", name="龙马潭区", code="510504", parent=city)
    unit_create(kind="city", name="乙市", code="510600")  # another tree: not counted
    with django_assert_num_queries(1):
        rows = per_branch(Unit.objects.all(), field="path", path=city.path, n=Count("id"))
    # Each district with what lies below it; the city itself on its own row.
    assert rows == {jiangyang.path: {"n": 3}, longmatan.path: {"n": 1}, city.path: {"n": 1}}
