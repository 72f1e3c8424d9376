"""Personal data in published text (a result, a wish) is masked on every public page."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from doorstep.accounts.roles import Role
from doorstep.appeals.choices import Action, CaseKind
from doorstep.appeals.models import Case
from doorstep.appeals.publicity import mask_personal, name_tokens
from doorstep.appeals.services import mediation_assign
from doorstep.conftest import World, make_user

from .factories import proxy_submit, step, submit

pytestmark = pytest.mark.django_db

RESULT = (
    "已联系甲居民（13812345678，身份证110101199003071234），"
    "于2026-05-03修好3-2-501的水管；5号楼2单元602室同时检修，东街12号路灯已换。"
)
SECRETS = (
    "甲居民",
    "13812345678",
    "5678",
    "110101199003071234",
    "3-2-501",
    "602室",
    "5号楼",
    "2单元",
    "东街12号",
)


@pytest.mark.parametrize(
    ("text", "names", "expected"),
    [
        ("电话 138 1234 5678 已回访", (), "电话 138******** 已回访"),
        ("座机0830-2345678", (), "座机0830*******"),
        ("身份证11010119900307123X", (), "身份证******************"),
        ("住501室", (), "住***"),
        ("12-501门口", (), "***门口"),
        ("王小明反映，小明已满意", ("王小明",), "王**反映，**已满意"),
        # Dates, ranges and counts stay.
        ("2026-05-03办结，用时1-2天，共3户受益", (), "2026-05-03办结，用时1-2天，共3户受益"),
        ("", ("张三",), ""),
    ],
)
def test_mask_personal(text: str, names: tuple[str, ...], expected: str) -> None:
    assert mask_personal(text, names) == expected


def test_party_names_are_split() -> None:
    assert name_tokens("张家、李四和王五，赵六") == ["张家", "李四", "王五", "赵六"]


def _resolved(world: World, result: str = RESULT) -> Case:
    case = proxy_submit(world, world.a, world.user(Role.GRID_MEMBER))
    member = world.user(Role.GRID_MEMBER)
    step(case, member, Action.ACCEPT)
    step(case, member, Action.RESOLVE, result=result)
    case.refresh_from_db()
    return case


def test_public_pages_mask_the_result(world: World) -> None:
    case = _resolved(world)
    anonymous = Client()
    for url in (
        reverse("appeals:board", args=[world.a.community.pk]),
        reverse("appeals:board-print", args=[world.a.community.pk]),
        f"{reverse('appeals:receipt')}?code={case.receipt_code}",
        reverse("appeals:case", args=[case.pk]),
    ):
        html = anonymous.get(url).content.decode()
        assert case.receipt_code in html, url
        for secret in SECRETS:
            assert secret not in html, (url, secret)
        assert "甲**" in html and "138********" in html, url
    # Staff see the result as written.
    staff = Client()
    staff.force_login(world.user(Role.COMMUNITY_STAFF))
    html = staff.get(reverse("appeals:console-case", args=[case.pk])).content.decode()
    assert "13812345678" in html and "3-2-501" in html


def test_mediation_parties_are_masked(world: World) -> None:
    case = submit(world, code="neighbour", kind=CaseKind.DISPUTE, text="纠纷")
    staff = world.user(Role.COMMUNITY_STAFF)
    mediation_assign(
        actor=staff, case=case, mediator=make_user("hsl", Role.RESIDENT), parties="林大海、陈阿水"
    )
    step(case, staff, Action.ACCEPT)
    step(case, staff, Action.RESOLVE, result="经调解，林大海与陈阿水达成协议")
    html = Client().get(reverse("appeals:board", args=[world.a.community.pk])).content.decode()
    assert "林大海" not in html and "陈阿水" not in html and "林**与陈**达成协议" in html


def test_wish_wall_masks_wish_text(world: World) -> None:
    submit(world, code="wish", kind=CaseKind.WISH, text="甲居民想要一副老花镜，电话13900001111")
    html = Client().get(reverse("appeals:wish-wall")).content.decode()
    assert "老花镜" in html and "13900001111" not in html and "甲居民" not in html


def test_board_masking_costs_a_fixed_number_of_queries(
    world: World, django_assert_max_num_queries: Any
) -> None:
    url = reverse("appeals:board", args=[world.a.community.pk])
    anonymous = Client()
    _resolved(world)
    anonymous.get(url)
    with django_assert_max_num_queries(20) as few:
        anonymous.get(url)
    for i in range(6):
        _resolved(world, result=f"第{i}件：{RESULT}")
    with django_assert_max_num_queries(len(few.captured_queries)):
        html = anonymous.get(url).content.decode()
    assert "13812345678" not in html


def test_registered_residents_a_result_names_are_masked(world: World) -> None:
    """A result may name a neighbour who is none of the case's people: any registered
    resident of the case's community named in it is masked on the public pages."""
    from doorstep.people.services import household_create, person_create

    neighbours = household_create(unit=world.a.building, entrance="2", room="302")
    person_create(name="李秀英", household=neighbours, relation="head")
    person_create(name="阿依古丽·买买提", household=neighbours, relation="spouse")
    person_create(name="周建", unit=world.b.compound)  # another community's resident
    case = _resolved(world, result="已请楼长李秀英协调，阿依古丽·买买提帮忙清理；周建路过。")
    assert sorted(case.result_names) == ["李秀英", "阿依古丽·买买提"]
    anonymous = Client()
    for url in (
        reverse("appeals:board", args=[world.a.community.pk]),
        f"{reverse('appeals:receipt')}?code={case.receipt_code}",
    ):
        html = anonymous.get(url).content.decode()
        assert "李秀英" not in html and "李**" in html, url
        assert "阿依古丽" not in html and "买买提" not in html, url
    staff = Client()
    staff.force_login(world.user(Role.COMMUNITY_STAFF))
    html = staff.get(reverse("appeals:console-case", args=[case.pk])).content.decode()
    assert "李秀英" in html


@pytest.mark.django_db
def test_registry_names_take_any_text() -> None:
    """Looking names up copes with text without Chinese and with the longest result."""
    from doorstep.appeals.publicity import registry_names

    assert registry_names("", within_path="0000000001") == []
    assert registry_names("no Chinese here 123", within_path="0000000001") == []
    assert registry_names("字" * 4000, within_path="0000000001") == []


def test_results_written_before_are_looked_up_by_the_command(world: World) -> None:
    """Results kept without names (written before the lookup existed) get them from
    ``manage.py appeals_result_names``; the case's version is not touched."""
    from io import StringIO

    from django.core.management import call_command

    from doorstep.people.services import household_create, person_create

    neighbours = household_create(unit=world.a.building, entrance="3", room="201")
    person_create(name="韩秀兰", household=neighbours, relation="head")
    case = _resolved(world, result="已请韩秀兰帮忙")
    Case.objects.filter(pk=case.pk).update(result_names=[])
    out = StringIO()
    call_command("appeals_result_names", stdout=out)
    fresh = Case.objects.get(pk=case.pk)
    assert fresh.result_names == ["韩秀兰"] and fresh.version == case.version
    assert "1 case(s) updated" in out.getvalue()
    html = Client().get(reverse("appeals:board", args=[world.a.community.pk])).content.decode()
    assert "韩秀兰" not in html
    # Nothing left to do; --all looks again and finds the same.
    call_command("appeals_result_names", stdout=StringIO())
    again = StringIO()
    call_command("appeals_result_names", "--all", stdout=again)
    assert "0 case(s) updated" in again.getvalue()
