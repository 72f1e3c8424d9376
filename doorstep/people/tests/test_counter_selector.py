"""The registry's counter lookup: the one place an outlet's counter reads persons.
It finds a few residents of one community by a precise query, masked, and never a
pseudonymized person or anyone outside the community."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from doorstep.accounts.roles import Role
from doorstep.conftest import World
from doorstep.core.errors import ValidationError

from ..models import Person
from ..selectors import counter_candidates, mask_name
from ..services import person_create, person_pseudonymize

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("q", ["0000", "13800000000", "甲居民", "居民", "jiaju", "JJM", "jj"])
def test_a_precise_query_finds_the_resident_masked(world: World, q: str) -> None:
    found = counter_candidates(q=q, unit=world.a.community)
    assert [(c.person_id, c.masked_name, c.place) for c in found] == [
        (world.a.person.pk, "甲*民", "1号楼")
    ]
    assert found[0].phone_masked == world.a.person.phone_masked
    assert "13800000000" not in repr(found) and "甲居民" not in repr(found)


@pytest.mark.parametrize("q", ["", "甲", "j", "000", "12345", "甲1", "   "])
def test_a_vague_query_is_refused_naming_the_field(world: World, q: str) -> None:
    with pytest.raises(ValidationError, match="至少两个字") as exc:
        counter_candidates(q=q, unit=world.a.community)
    assert exc.value.field == "q"


def test_only_the_community_only_the_living_record_only_among(world: World) -> None:
    assert counter_candidates(q="乙居民", unit=world.a.community) == []
    assert counter_candidates(q="0000", unit=world.a.community, among=Person.objects.none()) == []
    other = person_create(name="甲居民", unit=world.a.compound, birth_date=dt.date(1950, 6, 1))
    both = counter_candidates(q="甲居民", unit=world.a.community)
    assert {c.person_id for c in both} == {world.a.person.pk, other.pk}
    only = counter_candidates(
        q="甲居民", unit=world.a.community, among=Person.objects.filter(pk=other.pk).values("pk")
    )
    assert [(c.person_id, c.place) for c in only] == [(other.pk, "甲小区")]
    assert only[0].age is not None and only[0].age >= 75
    assert len(counter_candidates(q="甲居民", unit=world.a.community, limit=1)) == 1
    person_pseudonymize(actor=world.user(Role.COMMUNITY_STAFF), person_id=other.pk)
    assert counter_candidates(unit=world.a.community, person_ids=[other.pk]) == []
    assert [c.person_id for c in counter_candidates(q="甲居民", unit=world.a.community)] == [
        world.a.person.pk
    ]


def test_by_person_ids_for_a_scanned_code(world: World) -> None:
    found = counter_candidates(unit=world.a.community, person_ids=[world.a.person.pk])
    assert [c.masked_name for c in found] == ["甲*民"]
    assert counter_candidates(unit=world.a.community, person_ids=[world.b.person.pk]) == []


@pytest.mark.parametrize(
    "name,masked", [("张", "张"), ("李明", "李*"), ("张秀英", "张*英"), ("欧阳娜娜", "欧**娜")]
)
def test_mask_name(name: str, masked: str) -> None:
    assert mask_name(name) == masked


def test_active_tag_codes_reads_each_persons_stored_tags_in_one_query(
    world: World, django_assert_num_queries: Any
) -> None:
    from ..models import Tag
    from ..selectors import active_tag_codes

    alone = person_create(name="独居老人", unit=world.a.building, tags=["living_alone", "veteran"])
    plain = person_create(name="普通居民", unit=world.a.building)
    Tag.objects.filter(code="veteran").update(is_active=False)  # a retired tag no longer counts
    with django_assert_num_queries(1):
        codes = active_tag_codes([alone.pk, plain.pk])
    assert codes == {alone.pk: frozenset({"living_alone"})}
