"""Writes of the points ledger. Every balance change goes through :func:`_post`, which
moves the cached balances with conditional UPDATEs in primary-key order and appends
the transfer, all in the caller's transaction (docs/adr/0009-points-ledger-double-entry.md).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import secrets
from collections.abc import Iterable, Mapping
from typing import Any

from django.db import DatabaseError, IntegrityError, connection, transaction
from django.db.models import F, Q, Sum
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from doorstep.accounts.audit import audit_record
from doorstep.core.errors import Conflict, NotFound, PermissionDenied, ValidationError
from doorstep.core.inputs import idempotency_key, order_lines, short_name
from doorstep.core.tree import ancestor_paths
from doorstep.orgs.choices import GRASSROOTS_KINDS
from doorstep.orgs.models import Unit
from doorstep.people.models import Person

from .choices import AccountKind, ActivityType, OutletKind, TransferKind
from .models import Account, EarningRule, Goods, Outlet, Redemption, RedemptionLine, Transfer
from .rules import can_manage_points, can_serve_outlet

# The audit action of manual grants and reversals. accounts.AuditAction has no value
# for it yet; the column takes any string, and the value joins the choices with the
# next accounts migration (until then the audit page shows the bare code).
POINTS_AUDIT_ACTION = "points_adjusted"
MAX_AMOUNT = 1_000_000  # one transfer; far above any real grant, below any overflow
MAX_KEY = 100
MAX_LINES = 50
MAX_QUANTITY = 999


# --- Validation helpers ------------------------------------------------------------------


def _positive_int(value: Any, field: str, *, maximum: int = MAX_AMOUNT) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        try:
            if isinstance(value, bool) or str(value).strip() != str(int(str(value).strip())):
                raise ValueError
            value = int(str(value).strip())
        except (TypeError, ValueError):
            raise ValidationError(_("请输入正整数。"), field=field) from None
    if value <= 0:
        raise ValidationError(_("必须为正整数。"), field=field)
    if value > maximum:
        raise ValidationError(_("数值过大。"), field=field)
    return value


def _key(value: Any, field: str = "idempotency_key") -> str:
    # Room for the prefix a redemption or payment puts before the client's key.
    return idempotency_key(value, max_length=MAX_KEY - 10, field=field)


def _reason(value: Any) -> str:
    reason = str(value or "").strip()
    if not reason:
        raise ValidationError(_("请填写事由。"), field="reason")
    if len(reason) > 200:
        raise ValidationError(_("事由不能超过200字。"), field="reason")
    return reason


def body_hash(body: Mapping[str, Any]) -> str:
    """A digest of what a request asked for, to tell a replay from a different request
    that reuses its idempotency key."""
    text = json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


# --- Accounts ----------------------------------------------------------------------------


def community_of(unit: Unit) -> Unit:
    """The community or village a unit belongs to (itself, when it is one)."""
    if unit.kind in GRASSROOTS_KINDS:
        return unit
    found = (
        Unit.objects.filter(path__in=ancestor_paths(unit.path), kind__in=sorted(GRASSROOTS_KINDS))
        .order_by("-depth")
        .first()
    )
    if found is None:
        raise ValidationError(_("该单元不属于任何社区或村。"), field="unit")
    return found


def unit_account(*, unit: Unit, kind: str) -> Account:
    """A community's issuing or expiry account, opened on first use."""
    if kind not in (AccountKind.ISSUING, AccountKind.EXPIRY):
        raise ValueError(kind)
    account, _created = Account.objects.get_or_create(unit=unit, kind=kind)
    return account


def resident_account(*, person: Person) -> Account:
    """The resident's points account, opened on first use in their community."""
    account = Account.objects.filter(person=person, kind=AccountKind.RESIDENT).first()
    if account is not None:
        return account
    if person.pseudonymized_at is not None:
        raise ValidationError(_("该人员信息已删除，不能开立积分账户。"), field="person")
    unit = community_of(person.unit)
    try:
        with transaction.atomic():
            return Account.objects.create(
                kind=AccountKind.RESIDENT,
                unit=unit,
                person=person,
                qr_token=secrets.token_urlsafe(16)[:22],  # QR_TOKEN_LENGTH
            )
    except IntegrityError:
        return Account.objects.get(person=person, kind=AccountKind.RESIDENT)


@transaction.atomic
def account_rotate_qr(*, account: Account) -> Account:
    """A new QR token for a resident whose code was lost or photographed."""
    if account.kind != AccountKind.RESIDENT:
        raise ValidationError(_("只有居民账户有积分码。"), field="account")
    token = secrets.token_urlsafe(16)[:22]
    Account.objects.filter(pk=account.pk).update(qr_token=token)
    account.qr_token = token
    return account


# --- The journal -------------------------------------------------------------------------


def _replay(key: str, digest: str) -> Transfer | None:
    """The transfer already made under ``key``; refused if it was asked with another body."""
    existing = Transfer.objects.filter(idempotency_key=key).first()
    if existing is None:
        return None
    if existing.body_hash != digest:
        raise Conflict(
            _("该幂等键已用于另一笔不同的请求。"),
            field="idempotency_key",
            code="idempotency_conflict",
        )
    return existing


def _insufficient() -> ValidationError:
    return ValidationError(_("积分余额不足。"), field="amount", code="insufficient_points")


def _move(*, debit_id: int, debit_guarded: bool, credit_id: int, amount: int) -> None:
    """Move two cached balances by conditional UPDATEs in primary-key order.

    On PostgreSQL the UPDATE takes the row lock itself and re-checks ``balance >=
    amount`` against the committed row after waiting, so no read-decide-write race is
    possible, and the fixed order means two transfers never wait on each other in
    opposite orders (no deadlock). On SQLite the IMMEDIATE transaction already
    serialises writers. The check constraint is the last line on both."""
    if debit_id == credit_id:
        raise ValidationError(_("转出与转入账户不能相同。"), field="credit")
    for account_id, delta, guarded in sorted(
        [(debit_id, -amount, debit_guarded), (credit_id, amount, False)]
    ):
        rows = Account.objects.filter(pk=account_id)
        if guarded:
            rows = rows.filter(balance__gte=-delta)
        if rows.update(balance=F("balance") + delta) != 1:
            raise _insufficient()


def _append(
    *,
    debit_id: int,
    credit_id: int,
    amount: int,
    kind: str,
    reason: str,
    key: str,
    digest: str,
    unit: Unit | int,
    actor: Any = None,
    at: dt.datetime | None = None,
    **extra: Any,
) -> Transfer:
    transfer = Transfer(
        debit_id=debit_id,
        credit_id=credit_id,
        amount=amount,
        kind=kind,
        reason=reason,
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        unit_id=unit if isinstance(unit, int) else unit.pk,
        idempotency_key=key,
        body_hash=digest,
        created_at=at or timezone.now(),
        **extra,
    )
    transfer.save()
    return transfer


def _post(*, debit: Account, credit: Account, amount: int, **fields: Any) -> Transfer:
    """Append the transfer, then move the balances. Must run inside a transaction.

    The journal row goes in first: a replayed key fails on its unique index before any
    balance row is locked, and the locks on the (possibly hot) account rows are taken
    last, so they are held only for the UPDATEs and the commit."""
    if debit.pk == credit.pk:
        raise ValidationError(_("转出与转入账户不能相同。"), field="credit")
    transfer = _append(debit_id=debit.pk, credit_id=credit.pk, amount=amount, **fields)
    _move(
        debit_id=debit.pk,
        debit_guarded=debit.kind != AccountKind.ISSUING,
        credit_id=credit.pk,
        amount=amount,
    )
    return transfer


def transfer_create(
    *,
    debit: Account,
    credit: Account,
    amount: Any,
    kind: str,
    reason: str,
    idempotency_key: str,
    actor: Any = None,
    unit: Unit | None = None,
    extra_body: Mapping[str, Any] | None = None,
    **extra: Any,
) -> Transfer:
    """Append one transfer, exactly once per idempotency key: the same key with the same
    request returns the first transfer; with a different request it is refused. A
    refused transfer changes nothing."""
    amount = _positive_int(amount, "amount")
    key = _key(idempotency_key)
    reason = _reason(reason)
    if kind not in TransferKind.values:
        raise ValidationError(_("未知的转账类型。"), field="kind")
    body = {
        "debit": debit.pk,
        "credit": credit.pk,
        "amount": amount,
        "kind": kind,
        "reason": reason,
        **{k: v for k, v in extra.items() if k != "reverses"},
        **dict(extra_body or {}),
    }
    digest = body_hash(body)
    existing = _replay(key, digest)
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            return _post(
                debit=debit,
                credit=credit,
                amount=amount,
                kind=kind,
                reason=reason,
                key=key,
                digest=digest,
                unit=unit
                if unit is not None
                else (credit.unit_id if credit.kind == AccountKind.RESIDENT else debit.unit_id),
                actor=actor,
                **extra,
            )
    except IntegrityError:
        # Another request with this key committed first (or a database check refused).
        existing = _replay(key, digest)
        if existing is not None:
            return existing
        raise Conflict(_("转账未能完成，请重试。"), field=None) from None


def transfer_reverse(
    *,
    actor: Any,
    transfer: Transfer,
    reason: str,
    idempotency_key: str,
    request: HttpRequest | None = None,
) -> Transfer:
    """Correct a transfer by moving the same points back. A transfer is reversed at most
    once, and only while the account that received it still holds the points."""
    if transfer.kind == TransferKind.REVERSAL:
        raise ValidationError(_("冲正记录不能再冲正。"), field="transfer")
    if not can_manage_points(actor, transfer.unit):
        raise PermissionDenied(_("您无权冲正该社区的积分。"), field="transfer")
    key = _key(idempotency_key)
    existing_reversal = Transfer.objects.filter(reverses=transfer).first()
    if existing_reversal is not None and existing_reversal.idempotency_key != key:
        raise Conflict(_("该笔转账已经冲正。"), field="transfer", code="already_reversed")
    reversal = transfer_create(
        debit=transfer.credit,
        credit=transfer.debit,
        amount=transfer.amount,
        kind=TransferKind.REVERSAL,
        reason=reason,
        idempotency_key=key,
        actor=actor,
        unit=transfer.unit,
        reverses=transfer,
        extra_body={"reverses": transfer.pk},
    )
    audit_record(
        action=POINTS_AUDIT_ACTION,
        actor=actor,
        obj=reversal,
        request=request,
        detail={
            "op": "points_reversal",
            "reverses": transfer.pk,
            "amount": transfer.amount,
            "reason": reversal.reason,
        },
    )
    return reversal


@transaction.atomic
def points_grant(
    *,
    actor: Any,
    account: Account,
    amount: Any,
    reason: str,
    idempotency_key: str,
    request: HttpRequest | None = None,
) -> Transfer:
    """A manual grant from the community's issuing account, with a reason; audited."""
    if account.kind != AccountKind.RESIDENT:
        raise ValidationError(_("只能向居民账户发放积分。"), field="account")
    if not can_manage_points(actor, account.unit):
        raise PermissionDenied(_("您无权向该社区的居民发放积分。"), field="account")
    issuing = unit_account(unit=account.unit, kind=AccountKind.ISSUING)
    before = Transfer.objects.filter(idempotency_key=str(idempotency_key or "").strip()).exists()
    transfer = transfer_create(
        debit=issuing,
        credit=account,
        amount=amount,
        kind=TransferKind.GRANT,
        reason=reason,
        idempotency_key=idempotency_key,
        actor=actor,
        unit=account.unit,
    )
    if not before:
        audit_record(
            action=POINTS_AUDIT_ACTION,
            actor=actor,
            obj=transfer,
            request=request,
            detail={
                "op": "points_grant",
                "account": account.pk,
                "amount": transfer.amount,
                "reason": transfer.reason,
            },
        )
    return transfer


@transaction.atomic
def points_expire(
    *, actor: Any, account: Account, amount: Any, reason: str, idempotency_key: str
) -> Transfer:
    """Move points a resident can no longer spend to the community's expiry account."""
    if account.kind != AccountKind.RESIDENT:
        raise ValidationError(_("只有居民账户的积分会过期。"), field="account")
    if not can_manage_points(actor, account.unit):
        raise PermissionDenied(_("您无权处理该社区的积分。"), field="account")
    expiry = unit_account(unit=account.unit, kind=AccountKind.EXPIRY)
    return transfer_create(
        debit=account,
        credit=expiry,
        amount=amount,
        kind=TransferKind.EXPIRE,
        reason=reason,
        idempotency_key=idempotency_key,
        actor=actor,
        unit=account.unit,
    )


# --- Earning rules and earned points -------------------------------------------------------


def _cap(value: Any, field: str) -> int | None:
    if value in (None, ""):
        return None
    return _positive_int(value, field, maximum=100_000)


def _non_negative(value: Any, field: str) -> int:
    if value in (None, ""):
        return 0
    if str(value).strip() == "0":
        return 0
    return _positive_int(value, field, maximum=100_000)


@transaction.atomic
def earning_rule_set(
    *,
    actor: Any,
    unit: Unit,
    activity_type: str,
    points_per_time: Any = 0,
    points_per_hour: Any = 0,
    daily_cap: Any = None,
    monthly_cap: Any = None,
    is_active: bool = True,
) -> EarningRule:
    """Create or change the rule of one activity type for a unit's subtree."""
    if actor is not None and not can_manage_points(actor, unit):
        raise PermissionDenied(_("您无权设置该单元的积分规则。"), field="unit")
    if activity_type not in ActivityType.values:
        raise ValidationError(_("未知的活动类型。"), field="activity_type")
    per_time = _non_negative(points_per_time, "points_per_time")
    per_hour = _non_negative(points_per_hour, "points_per_hour")
    if not per_time and not per_hour:
        raise ValidationError(_("每次积分与每小时积分不能都为零。"), field="points_per_time")
    daily = _cap(daily_cap, "daily_cap")
    monthly = _cap(monthly_cap, "monthly_cap")
    if daily is not None and monthly is not None and monthly < daily:
        raise ValidationError(_("每月上限不能小于每日上限。"), field="monthly_cap")
    rule, _created = EarningRule.objects.update_or_create(
        unit=unit,
        activity_type=activity_type,
        defaults={
            "points_per_time": per_time,
            "points_per_hour": per_hour,
            "daily_cap": daily,
            "monthly_cap": monthly,
            "is_active": is_active,
        },
    )
    return rule


def rule_for(*, unit: Unit, activity_type: str) -> EarningRule | None:
    """The active rule nearest above ``unit`` (itself first) for an activity type."""
    return (
        EarningRule.objects.filter(
            unit__path__in=ancestor_paths(unit.path), activity_type=activity_type, is_active=True
        )
        .select_related("unit")
        .order_by("-unit__depth")
        .first()
    )


def points_for(rule: EarningRule, minutes: int) -> int:
    """Points for one participation: per time, plus per whole hour pro rata (down)."""
    return rule.points_per_time + rule.points_per_hour * minutes // 60


def points_earn(
    *,
    person: Person,
    activity_type: str,
    minutes: int,
    occurred_on: dt.date,
    source_type: str,
    source_id: Any,
    actor: Any = None,
    reason: str = "",
    unit: Unit | None = None,
    rule: EarningRule | None = None,
    at: dt.datetime | None = None,
) -> Transfer | None:
    """Pay a confirmed participation by the community's rule, within its daily and
    monthly caps. Called by the app that confirmed the record (volunteers), once per
    record: the record is the idempotency key. ``rule`` is the rule the activity was
    announced with (else the one in force). None when no rule or the caps leave
    nothing to pay."""
    if not source_type or source_id in (None, ""):
        raise ValidationError(_("积分只能来自已确认的参与记录。"), field="source")
    if minutes < 0:
        raise ValidationError(_("时长不能为负。"), field="minutes")
    account = resident_account(person=person)
    if rule is None or not rule.is_active or rule.activity_type != activity_type:
        rule = rule_for(unit=unit or account.unit, activity_type=activity_type)
    if rule is None:
        return None
    key = f"earn:{source_type}:{source_id}"
    existing = Transfer.objects.filter(idempotency_key=key).first()
    if existing is not None:
        return existing
    issuing = unit_account(unit=account.unit, kind=AccountKind.ISSUING)
    with transaction.atomic():
        # Lock both accounts (pk order) before reading what was already earned, so two
        # confirmations at once cannot both fit under the same cap.
        list(
            Account.objects.select_for_update()
            .filter(pk__in=[issuing.pk, account.pk])
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        amount = points_for(rule, minutes)
        if rule.daily_cap is not None or rule.monthly_cap is not None:
            first = occurred_on.replace(day=1)
            following = (first + dt.timedelta(days=32)).replace(day=1)
            earned = Transfer.objects.filter(
                credit=account,
                kind=TransferKind.EARN,
                activity_type=activity_type,
                occurred_on__gte=first,
                occurred_on__lt=following,
            ).aggregate(day=Sum("amount", filter=Q(occurred_on=occurred_on)), month=Sum("amount"))
            if rule.daily_cap is not None:
                amount = min(amount, max(0, rule.daily_cap - (earned["day"] or 0)))
            if rule.monthly_cap is not None:
                amount = min(amount, max(0, rule.monthly_cap - (earned["month"] or 0)))
        if amount <= 0:
            return None
        text = reason or _("%(type)s %(minutes)d 分钟") % {
            "type": ActivityType(activity_type).label,
            "minutes": minutes,
        }
        body = {
            "source_type": source_type,
            "source_id": str(source_id),
            "activity_type": activity_type,
        }
        return _post(
            debit=issuing,
            credit=account,
            amount=amount,
            kind=TransferKind.EARN,
            reason=text[:200],
            key=key,
            digest=body_hash(body),
            unit=account.unit,
            actor=actor,
            activity_type=activity_type,
            occurred_on=occurred_on,
            source_type=source_type,
            source_id=str(source_id),
            at=at,
        )


# --- Outlets and goods ---------------------------------------------------------------------


def _name(value: Any, field: str = "name", maximum: int = 60) -> str:
    return short_name(value, field=field, maximum=maximum)


@transaction.atomic
def outlet_create(*, actor: Any, unit: Unit, kind: str, name: str, address: str = "") -> Outlet:
    """An outlet of a community with its points account."""
    if unit.kind not in GRASSROOTS_KINDS:
        raise ValidationError(_("兑换点须设在社区或村。"), field="unit")
    if actor is not None and not can_manage_points(actor, unit):
        raise PermissionDenied(_("您无权在该社区设立兑换点。"), field="unit")
    if kind not in OutletKind.values:
        raise ValidationError(_("未知的兑换点类型。"), field="kind")
    name = _name(name)
    if Outlet.objects.filter(unit=unit, name=name).exists():
        raise ValidationError(_("该社区/村已有同名兑换点。"), field="name")
    outlet = Outlet.objects.create(
        unit=unit, kind=kind, name=name, address=str(address or "").strip()[:120]
    )
    Account.objects.create(kind=AccountKind.OUTLET, unit=unit, outlet=outlet)
    return outlet


def outlet_account(outlet: Outlet) -> Account:
    return Account.objects.get(outlet=outlet, kind=AccountKind.OUTLET)


def outlet_account_id(outlet: Outlet) -> int:
    """The outlet's account id, remembered on the instance (it never changes)."""
    cached = getattr(outlet, "_account_id", None)
    if cached is None:
        cached = Account.objects.filter(outlet=outlet, kind=AccountKind.OUTLET).values_list(
            "pk", flat=True
        )[0]
        outlet._account_id = cached  # type: ignore[attr-defined]
    return cached


def _out_of_stock(item: Goods) -> ValidationError:
    return ValidationError(
        _("“%(name)s”库存不足（剩余 %(stock)d）。") % {"name": item.name, "stock": item.stock},
        field="items",
        code="out_of_stock",
    )


@transaction.atomic
def goods_save(
    *,
    actor: Any,
    outlet: Outlet,
    name: str,
    points_price: Any,
    value_fen: Any = 0,
    stock: Any = 0,
    goods: Goods | None = None,
    is_active: bool = True,
) -> Goods:
    """Add goods to an outlet, or change them (``goods``)."""
    if actor is not None and not can_manage_points(actor, outlet.unit):
        raise PermissionDenied(_("您无权管理该兑换点的商品。"), field="outlet")
    name = _name(name)
    price = _positive_int(points_price, "points_price", maximum=100_000)
    value = _non_negative(value_fen, "value_fen")
    count = _non_negative(stock, "stock")
    clash = Goods.objects.filter(outlet=outlet, name=name)
    if goods is not None:
        clash = clash.exclude(pk=goods.pk)
    if clash.exists():
        raise ValidationError(_("该兑换点已有同名商品。"), field="name")
    if goods is None:
        goods = Goods(outlet=outlet)
    elif goods.outlet_id != outlet.pk:
        raise NotFound(_("未找到该商品。"), field="goods")
    goods.name, goods.points_price, goods.value_fen = name, price, value
    goods.stock, goods.is_active = count, is_active
    goods.save()
    return goods


@transaction.atomic
def goods_restock(*, actor: Any, goods: Goods, quantity: Any) -> Goods:
    """Add delivered goods to the stock (an UPDATE relative to the current stock)."""
    if actor is not None and not can_manage_points(actor, goods.outlet.unit):
        raise PermissionDenied(_("您无权管理该兑换点的商品。"), field="goods")
    n = _positive_int(quantity, "quantity", maximum=100_000)
    Goods.objects.filter(pk=goods.pk).update(stock=F("stock") + n)
    goods.refresh_from_db(fields=["stock"])
    return goods


# --- Redemptions and payments --------------------------------------------------------------


def _items(items: Iterable[tuple[Any, Any]] | Mapping[Any, Any]) -> dict[int, int]:
    return order_lines(
        items,
        parse_id=lambda value: _positive_int(value, "items", maximum=2**62),
        parse_quantity=lambda value: _positive_int(value, "items", maximum=MAX_QUANTITY),
        max_lines=MAX_LINES,
        empty=_("请选择要兑换的商品。"),
        too_many=_("一次兑换的商品种类过多。"),
    )


def redemption_create(
    *,
    actor: Any,
    outlet: Outlet,
    account: Account,
    items: Iterable[tuple[Any, Any]] | Mapping[Any, Any],
    idempotency_key: str,
    at: dt.datetime | None = None,
) -> Redemption:
    """Goods for points at an outlet's counter: the stock of each line and the balance
    change in one transaction, or nothing at all. The same key again returns the first
    receipt; the same key for other goods is refused. ``actor`` None is the system
    loading historical books (the demo, an import); ``at`` backdates only for them."""
    if actor is None and at is None:
        raise PermissionDenied(_("您不能在此兑换点办理兑换。"), field="outlet")
    if actor is not None and not can_serve_outlet(actor, outlet):
        raise PermissionDenied(_("您不能在此兑换点办理兑换。"), field="outlet")
    if not outlet.is_active:
        raise ValidationError(_("该兑换点已停业。"), field="outlet")
    if account.kind != AccountKind.RESIDENT:
        raise ValidationError(_("只能从居民账户兑换。"), field="account")
    if account.unit_id != outlet.unit_id:
        raise ValidationError(_("该居民不属于本兑换点所在的社区/村。"), field="account")
    wanted = _items(items)
    key = "redeem:" + _key(idempotency_key)
    body = {"outlet": outlet.pk, "account": account.pk, "items": sorted(wanted.items())}
    digest = body_hash(body)
    if connection.vendor == "postgresql":
        return _redeem_in_one_statement(
            actor=actor,
            outlet=outlet,
            account=account,
            wanted=wanted,
            key=key,
            digest=digest,
            at=at,
        )
    existing = _replay(key, digest)
    if existing is not None:
        return existing.redemption
    try:
        with transaction.atomic():
            goods = list(
                Goods.objects.filter(outlet=outlet, pk__in=list(wanted), is_active=True).order_by(
                    "pk"
                )
            )
            if len(goods) != len(wanted):
                raise ValidationError(_("所选商品不存在或已下架。"), field="items")
            for item in goods:
                if item.stock < wanted[item.pk]:
                    raise _out_of_stock(item)
            points = sum(item.points_price * wanted[item.pk] for item in goods)
            value = sum(item.value_fen * wanted[item.pk] for item in goods)
            # Appends first (no contention), hot rows last: stock in goods order, then the
            # two balances in account order, so every redemption locks in one order.
            transfer = _append(
                debit_id=account.pk,
                credit_id=outlet_account_id(outlet),
                amount=points,
                kind=TransferKind.REDEEM,
                reason=_("在%(outlet)s兑换") % {"outlet": outlet.name},
                key=key,
                digest=digest,
                unit=outlet.unit_id,
                actor=actor,
                at=at if actor is None else None,
            )
            redemption = Redemption(
                outlet=outlet,
                account=account,
                transfer=transfer,
                clerk=actor if getattr(actor, "is_authenticated", False) else None,
                points=points,
                value_fen=value,
                created_at=transfer.created_at,
            )
            redemption.save()
            RedemptionLine.objects.bulk_create(
                RedemptionLine(
                    redemption=redemption,
                    goods=item,
                    name=item.name,
                    quantity=wanted[item.pk],
                    points_price=item.points_price,
                    value_fen=item.value_fen,
                )
                for item in goods
            )
            for item in goods:
                taken = Goods.objects.filter(pk=item.pk, stock__gte=wanted[item.pk]).update(
                    stock=F("stock") - wanted[item.pk]
                )
                if taken != 1:
                    item.refresh_from_db(fields=["stock"])
                    raise _out_of_stock(item)
            _move(
                debit_id=account.pk,
                debit_guarded=True,
                credit_id=transfer.credit_id,
                amount=points,
            )
            return redemption
    except IntegrityError:
        existing = _replay(key, digest)
        if existing is not None:
            return existing.redemption
        raise Conflict(_("兑换未能完成，请重试。")) from None


REDEEM_SQL = (
    "SELECT status, transfer_id, redemption_id, body_hash, points, value_fen FROM points_redeem("
    "%s, %s, %s::bigint, %s::bigint, %s::bigint, %s::bigint, %s, %s, %s::bigint[], %s::integer[])"
)


def _redeem_in_one_statement(
    *,
    actor: Any,
    outlet: Outlet,
    account: Account,
    wanted: dict[int, int],
    key: str,
    digest: str,
    at: dt.datetime | None,
) -> Redemption:
    """The PostgreSQL path of :func:`redemption_create`: one call of ``points_redeem``
    (migration 0002), which takes the same steps in the same lock order as the ORM path
    below, server-side. Outside a transaction it is one round trip and its own
    transaction; inside one it runs under a savepoint, so that a refusal leaves the
    caller's transaction usable. A refusal raises in the database: nothing changed."""
    clerk = actor if getattr(actor, "is_authenticated", False) else None
    moment = (at if actor is None else None) or timezone.now()
    goods_ids = sorted(wanted)
    params = [
        key,
        digest,
        outlet.pk,
        outlet.unit_id,
        account.pk,
        clerk.pk if clerk is not None else None,
        _("在%(outlet)s兑换") % {"outlet": outlet.name},
        moment,
        goods_ids,
        [wanted[g] for g in goods_ids],
    ]
    try:
        if connection.in_atomic_block:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(REDEEM_SQL, params)
                row = cursor.fetchone()
        else:
            with connection.cursor() as cursor:
                cursor.execute(REDEEM_SQL, params)
                row = cursor.fetchone()
    except IntegrityError:
        # Another request with this key committed between our look-up and our insert.
        existing = _replay(key, digest)
        if existing is not None:
            return existing.redemption
        raise Conflict(_("兑换未能完成，请重试。")) from None
    except DatabaseError as exc:
        raise _refusal(exc) from None
    status, transfer_id, redemption_id, stored_hash, points, value = row
    if status == "replay":
        if stored_hash != digest:
            raise Conflict(
                _("该幂等键已用于另一笔不同的请求。"),
                field="idempotency_key",
                code="idempotency_conflict",
            )
        return Redemption.objects.get(pk=redemption_id)
    redemption = Redemption(
        pk=redemption_id,
        outlet=outlet,
        account=account,
        transfer_id=transfer_id,
        clerk=clerk,
        points=points,
        value_fen=value,
        created_at=moment,
    )
    redemption._state.adding = False
    redemption._state.db = connection.alias
    return redemption


def _refusal(exc: DatabaseError) -> Exception:
    """The domain error that ``points_redeem`` raised (``points:<what>``), or the
    database error itself when it is something else."""
    diag = getattr(exc.__cause__, "diag", None)
    message = getattr(diag, "message_primary", None) or ""
    detail = getattr(diag, "message_detail", None) or ""
    if message == "points:insufficient":
        return _insufficient()
    if message == "points:out_of_stock" and detail.isdigit():
        item = Goods.objects.filter(pk=int(detail)).first()
        if item is not None:
            return _out_of_stock(item)
    if message in ("points:missing", "points:out_of_stock"):
        return ValidationError(_("所选商品不存在或已下架。"), field="items")
    return exc


def redemption_reverse(
    *, actor: Any, redemption: Redemption, reason: str, request: HttpRequest | None = None
) -> Transfer:
    """Undo a redemption (goods returned, a wrong item rung up): the points go back to
    the resident and the goods back into stock, in one transaction."""
    if not can_manage_points(actor, redemption.outlet.unit):
        raise PermissionDenied(_("您无权冲正该社区的积分。"), field="redemption")
    with transaction.atomic():
        # Locking the original (never updated) journal row serialises two reversals of
        # the same receipt without touching a hot row; then stock, then balances: the
        # order every redemption takes its locks in.
        list(Transfer.objects.select_for_update().filter(pk=redemption.transfer_id))
        done = Transfer.objects.filter(reverses_id=redemption.transfer_id).first()
        if done is not None:
            return done
        for line in redemption.lines.order_by("goods_id"):
            Goods.objects.filter(pk=line.goods_id).update(stock=F("stock") + line.quantity)
        reversal = transfer_reverse(
            actor=actor,
            transfer=redemption.transfer,
            reason=reason,
            idempotency_key=f"reverse-redemption:{redemption.pk}",
            request=request,
        )
    return reversal


def payment_create(
    *,
    actor: Any,
    outlet: Outlet,
    account: Account,
    amount: Any,
    reason: str,
    idempotency_key: str,
    source_type: str = "",
    source_id: Any = "",
) -> Transfer:
    """Pay part of a bill with points at an outlet (a canteen meal): a transfer from the
    resident to the outlet, with the bill as its source."""
    if not can_serve_outlet(actor, outlet):
        raise PermissionDenied(_("您不能在此兑换点办理兑换。"), field="outlet")
    if account.kind != AccountKind.RESIDENT:
        raise ValidationError(_("只能从居民账户兑换。"), field="account")
    return transfer_create(
        debit=account,
        credit=outlet_account(outlet),
        amount=amount,
        kind=TransferKind.PAYMENT,
        reason=reason,
        idempotency_key="pay:" + _key(idempotency_key),
        actor=actor,
        unit=outlet.unit,
        source_type=source_type,
        source_id=str(source_id),
    )
