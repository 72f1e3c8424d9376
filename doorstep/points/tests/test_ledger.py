"""The ledger's invariants, each stated as a test: the books sum to zero, no resident
goes below zero, every balance equals its journal, a key is used once, and a refused
transfer changes nothing."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from doorstep.accounts.models import AuditEvent
from doorstep.accounts.roles import Role
from doorstep.conftest import World
from doorstep.core.errors import Conflict, PermissionDenied, ValidationError
from doorstep.people.services import person_create

from ..checking import ledger_check
from ..choices import AccountKind, TransferKind
from ..models import Account, AppendOnlyError, Transfer
from ..services import (
    points_expire,
    points_grant,
    resident_account,
    transfer_create,
    transfer_reverse,
    unit_account,
)

pytestmark = pytest.mark.django_db


def snapshot() -> tuple[list[tuple[int, int]], int, int]:
    """Everything a refused request must leave as it was."""
    return (
        list(Account.objects.order_by("pk").values_list("pk", "balance")),
        Transfer.objects.count(),
        AuditEvent.objects.count(),
    )


def grant(world: World, account: Account, amount: Any, key: str, reason: str = "扫雪") -> Transfer:
    return points_grant(
        actor=world.user(Role.COMMUNITY_STAFF),
        account=account,
        amount=amount,
        reason=reason,
        idempotency_key=key,
    )


@pytest.fixture
def resident(world: World) -> Account:
    return resident_account(person=world.a.person)


def test_a_grant_moves_points_from_the_issuing_account_and_the_books_sum_to_zero(
    world: World, resident: Account
) -> None:
    transfer = grant(world, resident, 30, "g-1")
    issuing = unit_account(unit=world.a.community, kind=AccountKind.ISSUING)
    resident.refresh_from_db()
    issuing.refresh_from_db()
    assert (resident.balance, issuing.balance) == (30, -30)
    assert transfer.kind == TransferKind.GRANT and transfer.actor == world.user(
        Role.COMMUNITY_STAFF
    )
    check = ledger_check()
    assert check.ok and check.total == 0 and check.transfers == 1


def test_a_manual_grant_is_audited_with_its_reason(world: World, resident: Account) -> None:
    transfer = grant(world, resident, 12, "g-audit", reason="协助征地拆迁登记")
    event = AuditEvent.objects.get(object_type="points.transfer", object_id=str(transfer.pk))
    assert event.action == "points_adjusted"
    assert event.detail["reason"] == "协助征地拆迁登记" and event.detail["amount"] == 12
    grant(world, resident, 12, "g-audit", reason="协助征地拆迁登记")  # a replay: not again
    assert AuditEvent.objects.filter(action="points_adjusted").count() == 1


@pytest.mark.parametrize("amount", [0, -5, "3.5", "abc", None, True, 10**9])
def test_zero_negative_or_malformed_amounts_are_refused_and_change_nothing(
    world: World, resident: Account, amount: Any
) -> None:
    before = snapshot()
    with pytest.raises(ValidationError) as error:
        grant(world, resident, amount, f"bad-{amount}")
    assert error.value.field == "amount"
    assert snapshot() == before


def test_grant_needs_a_reason_and_a_key(world: World, resident: Account) -> None:
    before = snapshot()
    with pytest.raises(ValidationError, match="事由") as error:
        grant(world, resident, 5, "k-reason", reason="  ")
    assert error.value.field == "reason"
    with pytest.raises(ValidationError) as error:
        grant(world, resident, 5, "")
    assert error.value.field == "idempotency_key"
    assert snapshot() == before


def test_staff_of_another_tree_may_not_grant(world: World, resident: Account) -> None:
    from doorstep.conftest import outsider

    stranger = outsider(world)
    before = snapshot()
    with pytest.raises(PermissionDenied):
        points_grant(actor=stranger, account=resident, amount=5, reason="x", idempotency_key="o")
    with pytest.raises(PermissionDenied):
        points_grant(
            actor=world.user(Role.OUTLET_CLERK),
            account=resident,
            amount=5,
            reason="x",
            idempotency_key="c",
        )
    assert snapshot() == before


def test_same_key_and_same_body_returns_the_first_transfer(world: World, resident: Account) -> None:
    first = grant(world, resident, 10, "same")
    again = grant(world, resident, 10, "same")
    assert again.pk == first.pk
    resident.refresh_from_db()
    assert resident.balance == 10 and Transfer.objects.count() == 1


def test_same_key_with_a_different_body_is_refused(world: World, resident: Account) -> None:
    grant(world, resident, 10, "same")
    before = snapshot()
    with pytest.raises(Conflict, match="幂等键") as error:
        grant(world, resident, 11, "same")
    assert error.value.field == "idempotency_key"
    with pytest.raises(Conflict):
        grant(world, resident, 10, "same", reason="别的事由")
    assert snapshot() == before


def test_no_resident_balance_goes_below_zero(world: World, resident: Account) -> None:
    grant(world, resident, 10, "g")
    expiry = unit_account(unit=world.a.community, kind=AccountKind.EXPIRY)
    before = snapshot()
    with pytest.raises(ValidationError, match="余额不足") as error:
        transfer_create(
            debit=resident,
            credit=expiry,
            amount=11,
            kind=TransferKind.EXPIRE,
            reason="过期",
            idempotency_key="e",
        )
    assert error.value.code == "insufficient_points"
    assert snapshot() == before
    points_expire(
        actor=world.user(Role.COMMUNITY_STAFF),
        account=resident,
        amount=10,
        reason="年度过期",
        idempotency_key="e2",
    )
    resident.refresh_from_db()
    assert resident.balance == 0 and ledger_check().ok


def test_the_database_refuses_a_negative_resident_balance_even_bypassing_the_service(
    resident: Account,
) -> None:
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        Account.objects.filter(pk=resident.pk).update(balance=-1)


def test_a_transfer_cannot_be_edited_or_deleted(world: World, resident: Account) -> None:
    transfer = grant(world, resident, 10, "g")
    transfer.amount = 1000
    with pytest.raises(AppendOnlyError):
        transfer.save()
    with pytest.raises(AppendOnlyError):
        transfer.delete()
    assert Transfer.objects.get(pk=transfer.pk).amount == 10


def test_a_reversal_moves_the_points_back_once(world: World, resident: Account) -> None:
    transfer = grant(world, resident, 10, "g")
    staff = world.user(Role.COMMUNITY_STAFF)
    reversal = transfer_reverse(actor=staff, transfer=transfer, reason="误发", idempotency_key="r1")
    assert (reversal.debit_id, reversal.credit_id, reversal.amount) == (
        transfer.credit_id,
        transfer.debit_id,
        10,
    )
    assert (
        transfer_reverse(actor=staff, transfer=transfer, reason="误发", idempotency_key="r1").pk
        == reversal.pk
    )
    before = snapshot()
    with pytest.raises(Conflict, match="已经冲正"):
        transfer_reverse(actor=staff, transfer=transfer, reason="误发", idempotency_key="r2")
    with pytest.raises(ValidationError):
        transfer_reverse(actor=staff, transfer=reversal, reason="再冲", idempotency_key="r3")
    assert snapshot() == before
    resident.refresh_from_db()
    assert resident.balance == 0 and ledger_check().ok


def test_a_reversal_is_refused_when_the_points_were_already_spent(
    world: World, resident: Account
) -> None:
    transfer = grant(world, resident, 10, "g")
    points_expire(
        actor=world.user(Role.COMMUNITY_STAFF),
        account=resident,
        amount=5,
        reason="过期",
        idempotency_key="e",
    )
    before = snapshot()
    with pytest.raises(ValidationError, match="余额不足"):
        transfer_reverse(
            actor=world.user(Role.COMMUNITY_STAFF),
            transfer=transfer,
            reason="误发",
            idempotency_key="r",
        )
    assert snapshot() == before


def test_the_check_command_finds_a_balance_that_disagrees_with_the_journal(
    world: World, resident: Account, capsys: Any
) -> None:
    grant(world, resident, 10, "g")
    call_command("points_check")
    assert "consistent" in capsys.readouterr().out
    Account.objects.filter(pk=resident.pk).update(balance=9)  # a cache written behind our back
    with pytest.raises(CommandError, match="1 mismatched"):
        call_command("points_check")


def test_one_resident_account_per_person_opened_in_their_community(world: World) -> None:
    first = resident_account(person=world.a.person)
    assert resident_account(person=world.a.person).pk == first.pk
    assert first.unit == world.a.community and first.qr_token
    other = person_create(name="丙居民", unit=world.a.compound)
    assert resident_account(person=other).unit == world.a.community


def test_many_random_transfers_keep_every_invariant(world: World) -> None:
    import random

    rng = random.Random(7)
    accounts = [
        resident_account(person=person_create(name=f"居民{i}", unit=world.a.building))
        for i in range(6)
    ]
    expiry = unit_account(unit=world.a.community, kind=AccountKind.EXPIRY)
    for i in range(120):
        account = rng.choice(accounts)
        try:
            if rng.random() < 0.5:
                grant(world, account, rng.randint(1, 30), f"g{i}")
            else:
                transfer_create(
                    debit=account,
                    credit=expiry,
                    amount=rng.randint(1, 30),
                    kind=TransferKind.EXPIRE,
                    reason="过期",
                    idempotency_key=f"e{i}",
                )
        except ValidationError:
            pass
    check = ledger_check()
    assert check.ok and check.total == 0
    assert not Account.objects.filter(kind=AccountKind.RESIDENT, balance__lt=0).exists()
    assert connection.vendor in ("sqlite", "postgresql")
