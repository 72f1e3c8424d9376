"""Residents whose case staff entered for them (no account) rate it with the receipt
code and the last four digits of the phone they gave."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from doorstep.accounts.models import AuditAction, AuditEvent
from doorstep.accounts.roles import Role
from doorstep.appeals.choices import Action, CaseState, Level
from doorstep.appeals.models import Case, CaseEvent, Rating
from doorstep.appeals.services import RECEIPT_MAX_FAILURES
from doorstep.conftest import World
from doorstep.core.testing import alerts

from .factories import proxy_submit, step, submit

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_throttle() -> Iterator[None]:
    cache.clear()
    yield
    cache.clear()


def _intake(world: World, phone: str = "139 1234 5678") -> Case:
    client = Client()
    client.force_login(world.user(Role.GRID_MEMBER))
    response = client.post(
        reverse("appeals:intake"),
        {
            "channel": "hotline",
            "kind": "problem",
            "category": "sanitation",
            "unit": world.a.compound.pk,
            "text": "热线来电：垃圾桶满了",
            "idempotency_key": f"hotline-{phone}",
            "reporter_phone": phone,
        },
    )
    assert response.status_code == 302, response.content.decode()[-2000:]
    return Case.objects.latest("id")


def _resolve(world: World, case: Case) -> Case:
    member = world.user(Role.GRID_MEMBER)
    step(case, member, Action.ACCEPT)
    return step(case, member, Action.RESOLVE, result="已清运")


def _rate(code: str, last4: str, score: Any = 5, comment: str = "") -> Any:
    return Client().post(
        reverse("appeals:receipt-rate"),
        {"code": code, "phone_last4": last4, "score": score, "comment": comment},
    )


def test_resident_rates_with_receipt_code_and_phone_digits(world: World) -> None:
    case = _intake(world)
    assert case.receipt_check and "5678" not in case.receipt_check
    page = Client().get(f"{reverse('appeals:receipt')}?code={case.receipt_code}")
    assert "登记电话后四位" not in page.content.decode()  # not resolved yet
    _resolve(world, case)
    page = Client().get(f"{reverse('appeals:receipt')}?code={case.receipt_code.lower()}")
    assert "登记电话后四位" in page.content.decode()
    response = _rate(case.receipt_code, "5678", 5, "很快")
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.state == CaseState.CLOSED and case.rating == 5
    rating = Rating.objects.get(case=case)
    assert rating.user is None and rating.comment == "很快"
    event = CaseEvent.objects.get(case=case, action=Action.RATE)
    assert event.data == {"score": 5, "via": "receipt"}
    # One rating: the case is closed now.
    again = _rate(case.receipt_code, "5678", 1)
    assert (
        again.status_code == 400 and "只有已办结、尚未评价的诉求可以评价" in again.content.decode()
    )
    assert Rating.objects.filter(case=case).count() == 1


def test_unsatisfied_rating_by_receipt_reopens_one_level_up(world: World) -> None:
    case = _resolve(world, _intake(world))
    assert _rate(case.receipt_code, "5678", 2).status_code == 302
    case.refresh_from_db()
    assert case.state == CaseState.ACCEPTED and case.level == Level.COMMUNITY


def test_wrong_digits_are_refused_counted_audited_and_lock(world: World) -> None:
    case = _resolve(world, _intake(world))
    for _i in range(RECEIPT_MAX_FAILURES):
        response = _rate(case.receipt_code, "0000")
        assert response.status_code == 403
        assert "电话后四位与登记时不一致" in response.content.decode()
    assert (
        AuditEvent.objects.filter(action=AuditAction.ACCESS_DENIED, object_id=str(case.pk)).count()
        == RECEIPT_MAX_FAILURES
    )
    # Locked now, even with the right digits.
    locked = _rate(case.receipt_code, "5678")
    assert locked.status_code == 429 and "尝试次数过多" in locked.content.decode()
    case.refresh_from_db()
    assert case.state == CaseState.RESOLVED and not Rating.objects.exists()
    assert case.receipt_locked_until is not None


def test_bad_input_names_the_field(world: World) -> None:
    case = _resolve(world, _intake(world))
    for last4, score in (("56a8", 5), ("5678", 9), ("", 5), ("5678", "")):
        response = _rate(case.receipt_code, last4, score)
        assert response.status_code == 400, (last4, score)
    assert "请输入登记电话的后四位数字" in _rate(case.receipt_code, "56a8").content.decode()
    missing = _rate("NOPE2345", "5678")
    assert missing.status_code == 404 and "没有找到该回执码" in missing.content.decode()
    case.refresh_from_db()
    assert case.state == CaseState.RESOLVED and case.receipt_failures == 0


def test_case_without_phone_cannot_be_rated_by_receipt(world: World) -> None:
    """A case reported online is rated in the app; nobody can rate it by receipt code."""
    case = _resolve(world, submit(world))
    page = Client().get(f"{reverse('appeals:receipt')}?code={case.receipt_code}")
    assert page.status_code == 200 and "登记电话后四位" not in page.content.decode()
    response = _rate(case.receipt_code, "0000")
    assert response.status_code == 400 and "没有留下电话" in response.content.decode()
    case.refresh_from_db()
    assert case.state == CaseState.RESOLVED


def test_intake_phone_must_be_a_phone_and_person_phone_is_used(world: World) -> None:
    client = Client()
    client.force_login(world.user(Role.GRID_MEMBER))
    response = client.post(
        reverse("appeals:intake"),
        {
            "channel": "hotline",
            "kind": "problem",
            "category": "sanitation",
            "unit": world.a.compound.pk,
            "text": "来电",
            "idempotency_key": "bad-phone",
            "reporter_phone": "12345",
        },
    )
    assert response.status_code == 400 and "电话号码格式不正确" in response.content.decode()
    assert not Case.objects.exists()
    # Entered for a registered person without typing a phone: the person's phone counts.
    case = _resolve(world, proxy_submit(world, world.a, world.user(Role.GRID_MEMBER)))
    assert _rate(case.receipt_code, "0000").status_code == 302


def test_a_refused_rating_says_why_in_an_alert(world: World) -> None:
    """A rating sent without a code (the page's hidden field lost) is told the code
    found nothing; a comment too long is told so beside the comment; both announced."""
    case = _resolve(world, _intake(world))
    no_code = _rate("", "5678")
    assert no_code.status_code == 400
    assert alerts(no_code) == ["没有找到该回执码对应的诉求，请核对后重试。"]
    long_comment = _rate(case.receipt_code, "5678", 5, "长" * 2001)
    assert long_comment.status_code == 400
    assert alerts(long_comment) == ["确保该变量包含不超过 2000 字符 (目前字符数 2001)。"]
    case.refresh_from_db()
    assert case.state == CaseState.RESOLVED and not Rating.objects.exists()


def test_too_many_tries_from_one_address_say_so_whatever_the_code(world: World) -> None:
    """Past the hourly limit, a guessed code is not answered with "not found" (which
    would invite the next guess) but with the limit."""
    from doorstep.appeals.views import RECEIPT_RATE_PER_HOUR

    for n in range(RECEIPT_RATE_PER_HOUR):
        assert _rate(f"NOPE{n:04d}", "5678").status_code == 404
    throttled = _rate("NOPE9999", "5678")
    assert throttled.status_code == 429
    assert alerts(throttled) == ["尝试次数过多，请一小时后再试。"]


def test_a_rating_keeps_its_case_s_path_and_older_ones_are_given_it(world: World) -> None:
    import importlib

    from django.apps import apps

    staff, resident = world.user(Role.COMMUNITY_STAFF), world.user(Role.RESIDENT)
    case = submit(world)
    for action, extra in ((Action.ACCEPT, {}), (Action.ASSIGN, {"assignee": staff}),
                          (Action.START, {}), (Action.RESOLVE, {"result": "已处理"})):  # fmt: skip
        step(case, staff, action, **extra)
    step(case, resident, Action.RATE, score=5, comment="")
    rating = Rating.objects.get(case=case)
    assert rating.unit_path == case.unit_path != ""
    # A rating written before the path was kept gets its case's from the migration.
    Rating.objects.filter(pk=rating.pk).update(unit_path="")
    migration = importlib.import_module("doorstep.appeals.migrations.0011_rating_unit_path")
    migration.copy_case_paths(apps, None)
    rating.refresh_from_db()
    assert rating.unit_path == case.unit_path
