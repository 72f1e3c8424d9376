"""Registry search and summaries: what matches, and that the actor's scope always holds."""

import datetime as dt

import pytest
from django.db import connection
from django.db.models import Q
from django.http import Http404

from doorstep.accounts.roles import Role
from doorstep.accounts.scoping import scoped
from doorstep.conftest import World, make_user
from doorstep.core.errors import ValidationError
from doorstep.orgs.services import party_org_create
from doorstep.people import selectors
from doorstep.people.idnumber import make_id_number
from doorstep.people.models import Person
from doorstep.people.selectors import (
    NAME_GRAM_TABLE,
    NAME_GRAMS_FUNCTION,
    RegistryPaginator,
    char_is_frequent,
    count_limit,
    household_detail,
    mobile_registration_counts,
    name_grams,
    party_member_counts,
    person_search,
    prefix_range,
    registry_count,
    registry_summary,
)
from doorstep.people.services import (
    household_create,
    mobile_leave,
    mobile_register,
    party_member_register,
    person_create,
    person_link_account,
    person_pseudonymize,
    person_update_own,
)
from doorstep.people.tests.test_import import csv_bytes, family_rows
from doorstep.people.tests.test_import import run as import_rows

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 5, 1)
ZHANG_ID = make_id_number("510502", dt.date(1950, 1, 2), 457)


@pytest.fixture
def people(world: World) -> dict[str, Person]:
    """张三 (elderly, veteran), 张珊珊, 李四 in tree A; 张三丰 in tree B."""
    a, b = world.a, world.b
    zhang = person_create(
        name="张三",
        household=a.household,
        relation="spouse",
        id_number=ZHANG_ID,
        phone="13912345678",
        tags=["veteran"],
    )
    shanshan = person_create(
        name="张珊珊",
        unit=a.building,
        birth_date=dt.date(2020, 1, 1),
        guardian=zhang,
        phone="13600002222",
    )
    li = person_create(
        name="李四", unit=a.compound, phone="13700003333", birth_date=dt.date(1990, 1, 1)
    )
    other = person_create(name="张三丰", unit=b.building, phone="13800004444")
    return {"zhang": zhang, "shanshan": shanshan, "li": li, "other": other}


def _names(qs) -> list[str]:  # type: ignore[no-untyped-def]
    return sorted(qs.values_list("name", flat=True))


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("张", ["张三", "张珊珊"]),
        ("三", ["张三"]),
        ("zhangsan", ["张三"]),
        ("zhang", ["张三", "张珊珊"]),
        ("ZHANG", ["张三", "张珊珊"]),
        ("zs", ["张三", "张珊珊"]),
        ("zss", ["张珊珊"]),
        ("ls", ["李四"]),
        ("lisi", ["李四"]),
        ("wang", []),
        ("5678", ["张三"]),  # phone last four
        (ZHANG_ID[-4:], ["张三"]),  # ID last four
        (ZHANG_ID, ["张三"]),  # whole ID through its keyed hash
        (ZHANG_ID.lower(), ["张三"]),
        ("13912345678", ["张三"]),  # whole phone through its keyed hash
        ("139 1234 5678", ["张三"]),
        ("13800004444", []),  # tree B's phone: out of scope
        ("123456", []),  # a fragment of a number cannot be searched
        ("", ["张三", "张珊珊", "李四", "甲居民"]),
    ],
)
def test_search_matches_and_stays_in_scope(
    world: World, people: dict[str, Person], q: str, expected: list[str]
) -> None:
    found = person_search(actor=world.user(Role.COMMUNITY_STAFF), q=q)
    assert _names(found) == sorted(expected)


def test_an_id_suffix_with_x_matches_only_ids(world: World) -> None:
    with_x = next(
        make_id_number("510502", dt.date(1970, 1, 1), seq)
        for seq in range(1, 999)
        if make_id_number("510502", dt.date(1970, 1, 1), seq).endswith("X")
    )
    person_create(name="王五", unit=world.a.building, id_number=with_x)
    found = person_search(actor=world.user(Role.COMMUNITY_STAFF), q=with_x[-4:].lower())
    assert _names(found) == ["王五"]


def test_a_whole_id_with_a_bad_check_digit_is_a_clear_error(world: World) -> None:
    bad = ZHANG_ID[:17] + ("0" if ZHANG_ID[17] != "0" else "1")
    with pytest.raises(ValidationError, match="校验位不正确") as caught:
        person_search(actor=world.user(Role.COMMUNITY_STAFF), q=bad)
    assert caught.value.field == "q"


def test_prefix_range_is_a_range_not_like() -> None:
    q = prefix_range("name_pinyin", "zhang")
    assert q == Q(name_pinyin__gte="zhang", name_pinyin__lt="zhanh")
    sql = str(Person.objects.filter(q).query)
    assert "LIKE" not in sql.upper()


def test_filters_by_tag_age_group_within_and_party(world: World, people: dict[str, Person]) -> None:
    staff = world.user(Role.COMMUNITY_STAFF)

    def search(**filters: object) -> list[str]:
        return _names(person_search(actor=staff, today=TODAY, **filters))  # type: ignore[arg-type]

    assert search(tags=["veteran"]) == ["张三"]
    assert search(tags=["veteran", "disability"]) == []
    assert search(age_group="elderly") == ["张三"]
    assert search(age_group="child") == ["张珊珊"]
    assert search(within=world.a.building.pk) == ["张三", "张珊珊", "甲居民"]
    assert search(within=world.a.compound.pk, q="ls") == ["李四"]
    org = party_org_create(kind="branch", name="甲支部", unit=world.a.community)
    party_member_register(person=people["li"], party_org=org)
    assert search(party=True) == ["李四"]
    assert search(party=False) == ["张三", "张珊珊", "甲居民"]
    with pytest.raises(ValidationError) as caught:
        search(age_group="teen")
    assert caught.value.field == "age_group"
    with pytest.raises(Http404):
        search(within=world.b.building.pk)  # a unit outside the actor's scope


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        (Role.CITY_ADMIN, ["张三", "张珊珊", "李四", "甲居民"]),
        (Role.GRID_MEMBER, ["张三", "甲居民"]),  # only the grid's linked household
        (Role.BUILDING_LEADER, ["张三", "张珊珊", "甲居民"]),
        (Role.DEPARTMENT_STAFF, ["张三", "张珊珊", "李四", "甲居民"]),  # its district
        (Role.AUDITOR, []),
        (Role.RESIDENT, []),
    ],
)
def test_search_follows_each_roles_scope(
    world: World, people: dict[str, Person], role: str, expected: list[str]
) -> None:
    assert _names(person_search(actor=world.user(role))) == sorted(expected)


def test_household_detail_lists_members_head_first_and_the_grid(
    world: World, people: dict[str, Person]
) -> None:
    detail = household_detail(
        actor=world.user(Role.COMMUNITY_STAFF), household_id=world.a.household.pk
    )
    assert [m.name for m in detail.members] == ["甲居民", "张三"]
    assert detail.head == world.a.person
    assert detail.grid == world.a.grid
    with pytest.raises(Http404):
        household_detail(actor=world.user(Role.COMMUNITY_STAFF), household_id=world.b.household.pk)


def test_household_without_a_grid(world: World) -> None:
    household = household_create(unit=world.a.building, entrance="2", room="202")
    detail = household_detail(actor=world.user(Role.COMMUNITY_STAFF), household_id=household.pk)
    assert (detail.members, detail.head, detail.grid, detail.grid_member) == ([], None, None, None)


def test_registry_summary_counts_age_groups_and_tags(
    world: World, people: dict[str, Person]
) -> None:
    summary = registry_summary(actor=world.user(Role.COMMUNITY_STAFF), today=TODAY)
    assert (summary.total, summary.elderly, summary.children) == (4, 1, 1)
    counts = {tag.code: n for tag, n in summary.tags}
    assert counts["veteran"] == 1 and counts["disability"] == 0
    inside = registry_summary(
        actor=world.user(Role.COMMUNITY_STAFF), within=world.a.compound.pk, today=TODAY
    )
    assert inside.total == 4  # the building lies in the compound
    assert registry_summary(actor=world.user(Role.CITY_ADMIN), today=TODAY).total == 4


def test_party_member_and_mobile_counts_per_organization(
    world: World, people: dict[str, Person]
) -> None:
    branch = party_org_create(
        kind="branch", name="甲支部", unit=world.a.community, parent=world.a.party_org
    )
    functional = party_org_create(
        kind="functional", name="甲站点功能党支部", unit=world.a.community
    )
    party_member_register(person=people["zhang"], party_org=branch)
    party_member_register(person=people["li"], party_org=branch)
    party_member_register(person=world.a.person, party_org=world.a.party_org)
    mobile_register(
        person=people["li"], party_org=functional, registered_on=TODAY, origin_org="外地党支部"
    )
    left = mobile_register(
        person=people["zhang"], party_org=functional, registered_on=TODAY, origin_org="外地党支部"
    )
    mobile_leave(registration=left, left_on=TODAY)
    # Tree B's member is out of scope and must not be counted.
    b_org = party_org_create(kind="functional", name="乙站点功能党支部", unit=world.b.community)
    mobile_register(person=people["other"], party_org=b_org, registered_on=TODAY, origin_org="某地")

    staff = world.user(Role.COMMUNITY_STAFF)
    assert [(r["name"], r["count"]) for r in party_member_counts(actor=staff)] == [
        ("甲社区党委", 1),
        ("甲支部", 2),
    ]
    assert [
        (r["name"], r["unit"], r["active"], r["total"])
        for r in mobile_registration_counts(actor=staff)
    ] == [("甲站点功能党支部", "甲社区", 1, 2)]


@pytest.mark.parametrize("q", ["zs", "zhang", "z"])
def test_a_wide_scope_finds_the_same_people_with_the_planner_hint(
    world: World, people: dict[str, Person], q: str
) -> None:
    """A city administrator's pinyin search is planned from the name indexes (a SQLite
    hint); the rows are those a community worker of the same city would find."""
    city = person_search(actor=world.user(Role.CITY_ADMIN), q=q)
    staff = person_search(actor=world.user(Role.COMMUNITY_STAFF), q=q)
    assert _names(city) == _names(staff) == ["张三", "张珊珊"]
    sql = str(city.query)
    assert ("likelihood(" in sql) == (connection.vendor == "sqlite")
    assert "likelihood(" not in str(staff.query)


# --- Name fragments through the grams index (ADR 0007) --------------------------------------

FRAGMENT_NAMES = [
    "王秀英", "李秀英", "英秀", "张英", "秀英秀英", "王建国", "刘建华", "建国", "周英英",
    "阿依古丽·买买提", "Anna王", "anna李", "王_英", "欧阳秀",
]  # fmt: skip


@pytest.fixture
def named(world: World) -> None:
    """Persons with overlapping names in tree A, and a 王秀英 in tree B (out of scope)."""
    for name in FRAGMENT_NAMES:
        person_create(name=name, unit=world.a.building)
    person_create(name="王秀英", unit=world.b.building)


@pytest.mark.parametrize("role", [Role.CITY_ADMIN, Role.COMMUNITY_STAFF, Role.GRID_MEMBER])
@pytest.mark.parametrize(
    "q",
    [
        "英", "秀", "王", "·", "_", "%",  # one character
        "秀英", "英秀", "建国", "英英", "王秀", "王_", "a王", "A王", "·买",  # two
        "王秀英", "秀英秀", "秀英秀英", "英秀英", "古丽·买", "欧阳秀", "王建国x", "nna王",  # more
    ],
)  # fmt: skip
def test_a_name_fragment_finds_exactly_what_contains_finds(
    world: World, named: None, role: str, q: str
) -> None:
    """Whatever the fragment's length and the actor's scope, the index changes only how
    the rows are found: the result is the scoped ``name__contains`` (which is
    case-insensitive for ASCII on SQLite and case-sensitive on PostgreSQL)."""
    actor = world.user(role)
    expected = scoped(actor, Person).filter(name__contains=q)
    assert _names(person_search(actor=actor, q=q)) == _names(expected)


def test_the_fragment_search_reads_the_grams_index(world: World, named: None) -> None:
    expected = ["李秀英", "王秀英", "秀英秀英"]
    city = person_search(actor=world.user(Role.CITY_ADMIN), q="秀英")
    assert _names(city) == expected
    index = NAME_GRAM_TABLE if connection.vendor == "sqlite" else NAME_GRAMS_FUNCTION
    assert index in str(city.query)
    # A single character from a city, not frequent in the registry, is read from the
    # grams on both databases (a frequent one walks the registry's order; ADR 0011).
    one = person_search(actor=world.user(Role.CITY_ADMIN), q="英")
    assert index in str(one.query)
    # A single character from one community is read from the community's units.
    staff = person_search(actor=world.user(Role.COMMUNITY_STAFF), q="英")
    assert index not in str(staff.query)
    assert _names(one) == _names(staff)
    assert _names(staff) == ["周英英", "张英", "李秀英", "王_英", "王秀英", "秀英秀英", "英秀"]


def test_name_grams() -> None:
    assert name_grams("") == []
    assert name_grams("英") == ["英"]
    assert name_grams("秀英") == ["秀英"]
    assert name_grams("秀英秀英") == ["秀英", "英秀"]
    assert name_grams("Anna王") == ["An", "nn", "na", "a王"]
    assert name_grams("Anna王", fold_ascii=True) == ["an", "nn", "na", "a王"]
    assert name_grams("É", fold_ascii=True) == ["É"]  # SQLite folds ASCII only


def test_renamed_and_pseudonymized_persons_are_found_by_their_new_name_only(
    world: World,
) -> None:
    city = world.user(Role.CITY_ADMIN)
    resident = make_user("resident_zhou", Role.RESIDENT, None)
    person = person_create(name="周秀英", unit=world.a.building)
    person_link_account(person=person, user=resident)

    person_update_own(actor=resident, name="周建国")
    assert _names(person_search(actor=city, q="秀英")) == []
    assert _names(person_search(actor=city, q="建国")) == ["周建国"]

    Person.objects.filter(pk=person.pk).update(name="吴建华")  # a bulk UPDATE, no service
    assert _names(person_search(actor=city, q="建国")) == []
    assert _names(person_search(actor=city, q="吴建")) == ["吴建华"]

    person_pseudonymize(actor=city, person_id=person.pk)
    assert _names(person_search(actor=city, q="建华")) == []
    assert _names(person_search(actor=city, q="吴")) == []
    assert _names(person_search(actor=city, q="已注销")) == [f"已注销居民 #{person.pk}"]


def test_imported_persons_are_found_by_name_fragment(world: World) -> None:
    """The importer writes with executemany (SQLite) or COPY (PostgreSQL), past the
    services: the index must still hold their names."""
    report = import_rows(world, csv_bytes(family_rows()))
    assert report.ok
    city = world.user(Role.CITY_ADMIN)
    assert _names(person_search(actor=city, q="建国")) == ["王建国"]
    assert _names(person_search(actor=city, q="秀英")) == ["李秀英"]
    assert _names(person_search(actor=city, q="王小明")) == ["王小明"]
    assert _names(person_search(actor=city, q="小")) == ["王小明"]


def test_deleted_persons_leave_nothing_in_the_index(world: World) -> None:
    person = person_create(name="赵秀英", unit=world.a.building)
    Person.objects.filter(pk=person.pk).delete()
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT count(*) FROM {NAME_GRAM_TABLE} WHERE person_id = %s",  # noqa: S608
                [person.pk],
            )
            assert cursor.fetchone() == (0,)
    assert _names(person_search(actor=world.user(Role.CITY_ADMIN), q="秀英")) == []


def test_the_name_index_exists_after_all_migrations() -> None:
    """On SQLite a later migration that rebuilds people_person drops the triggers with the
    old table; it must create them again (see migration people/0004)."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(
                "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = %s",
                ["people_person"],
            )
            names = sorted(row[0] for row in cursor.fetchall())
            assert names == [
                f"{NAME_GRAM_TABLE}_delete",
                f"{NAME_GRAM_TABLE}_insert",
                f"{NAME_GRAM_TABLE}_update",
            ]
        else:
            cursor.execute(
                "SELECT indexdef FROM pg_indexes WHERE tablename = %s AND indexdef LIKE %s",
                ["people_person", f"%{NAME_GRAMS_FUNCTION}%"],
            )
            (definition,) = [row[0] for row in cursor.fetchall()]
            assert "USING gin" in definition


# --- Wide scopes: frequent characters, capped counts (ADR 0011) ------------------------------


@pytest.fixture
def frequent_everything(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every character counts as frequent, so the registry-order walk is what runs."""
    monkeypatch.setattr(selectors, "char_is_frequent", lambda char: True)


@pytest.mark.parametrize("q", ["英", "秀", "王", "_", "%", "·"])
def test_a_frequent_character_walks_the_registry_order_and_finds_the_same_rows(
    world: World, named: None, frequent_everything: None, q: str
) -> None:
    """The walk changes the plan only: the page (in the registry's order) and the count
    are those of the scoped ``name__contains``."""
    city = world.user(Role.CITY_ADMIN)
    expected = scoped(city, Person).filter(name__contains=q).order_by("name_pinyin", "id")
    found = person_search(actor=city, q=q)
    assert [p.pk for p in found] == [p.pk for p in expected]
    counted = person_search(actor=city, q=q, for_count=True)
    assert registry_count(counted) == (expected.count(), False)
    sql = str(found.query)
    assert ("likelihood(" in sql) == (connection.vendor == "sqlite")
    assert NAME_GRAM_TABLE not in sql and NAME_GRAMS_FUNCTION not in sql
    # Counting a frequent character reads the grams on SQLite.
    assert (NAME_GRAM_TABLE in str(counted.query)) == (connection.vendor == "sqlite")
    # Within one community, the community's persons are read, whatever the character.
    local = person_search(actor=city, q=q, within=world.a.community.pk)
    assert "likelihood(" not in str(local.query)
    assert _names(local) == _names(expected.filter(unit__path__startswith=world.a.community.path))


def test_which_characters_are_frequent(
    world: World, named: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """英 is in 7 of the 15 names, 欧 in one. On PostgreSQL the shares come from the
    statistics ANALYZE keeps on the grams index (none before it runs)."""
    monkeypatch.setattr(selectors, "FREQUENT_CHAR_MIN", 3)
    monkeypatch.setattr(selectors, "FREQUENT_CHAR_SHARE", 0.2)
    selectors._pg_stats_cache.clear()
    if connection.vendor == "postgresql":
        assert not char_is_frequent("英")  # nothing analysed yet: every character is rare
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE people_person")
        selectors._pg_stats_cache.clear()
    assert char_is_frequent("英")
    assert not char_is_frequent("欧")
    assert not char_is_frequent("鑫")
    selectors._pg_stats_cache.clear()


def test_single_letter_reads_one_pinyin_range(world: World, people: dict[str, Person]) -> None:
    """A full pinyin and its initials start with the same letter: one range is enough,
    and finds what both would."""
    city = world.user(Role.CITY_ADMIN)
    assert "name_initials" not in str(person_search(actor=city, q="z").query).split("WHERE")[1]
    both = scoped(city, Person).filter(
        Q(name_pinyin__startswith="z") | Q(name_initials__startswith="z")
    )
    assert _names(person_search(actor=city, q="z")) == _names(both)


def test_a_wide_pinyin_prefix_gives_postgresql_the_first_letter(
    world: World, people: dict[str, Person]
) -> None:
    city = world.user(Role.CITY_ADMIN)
    found = person_search(actor=city, q="zs")
    expected = scoped(city, Person).filter(
        Q(name_pinyin__startswith="zs") | Q(name_initials__startswith="zs")
    )
    assert _names(found) == _names(expected) == ["张三", "张珊珊"]
    sql = str(found.query).split("WHERE")[1].split("ORDER BY")[0]
    assert (sql.count("name_pinyin") > sql.count("name_initials")) == (
        connection.vendor == "postgresql"
    )


def test_counts_stop_at_the_limit_for_a_wide_scope_only(world: World, named: None) -> None:
    city, staff = world.user(Role.CITY_ADMIN), world.user(Role.COMMUNITY_STAFF)
    assert count_limit(city) == selectors.COUNT_LIMIT
    assert count_limit(staff) is None
    assert count_limit(city, world.a.community.pk) is None  # a community counts quickly
    assert count_limit(city, world.a.street.pk) == selectors.COUNT_LIMIT
    everyone = person_search(actor=city)
    total = everyone.count()
    assert total > len(FRAGMENT_NAMES) > 5
    assert registry_count(everyone, 5) == (5, True)
    assert registry_count(everyone, total) == (total, False)
    assert registry_count(everyone, None) == (total, False)
    paginator = RegistryPaginator(everyone, 2, count_queryset=everyone, limit=5)
    assert (paginator.count, paginator.more, paginator.num_pages) == (5, True, 3)
    assert len(paginator.page(3).object_list) == 1
