"""Reads of the points ledger. Every protected read starts from :func:`scoped`."""

from __future__ import annotations

import datetime as dt
import string
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Q, QuerySet, Sum
from django.db.models.functions import TruncMonth
from django.utils.translation import gettext as _

from doorstep.accounts.scoping import get_scoped_or_404, scoped
from doorstep.core import timeutils
from doorstep.core.errors import ValidationError
from doorstep.orgs.models import Unit
from doorstep.people.models import Person
from doorstep.people.selectors import NameHasGrams, prefix_range
from doorstep.people.services import phone_hash_of

from .choices import AccountKind, TransferKind
from .models import Account, EarningRule, Goods, Outlet, Redemption, Transfer

COUNTER_HITS = 8
QR_TOKEN_LENGTH = 22
QR_TOKEN_CHARS = frozenset(string.ascii_letters + string.digits + "-_")


def mask_name(name: str) -> str:
    """``张秀英`` → ``张*英``, ``李明`` → ``李*``: enough to tell neighbours apart."""
    if len(name) <= 1:
        return name
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


# --- A resident's own points --------------------------------------------------------------


def own_account(*, actor: Any) -> Account | None:
    """The signed-in resident's account, if they have one."""
    if not getattr(actor, "is_authenticated", False):
        return None
    return (
        scoped(actor, Account)
        .filter(kind=AccountKind.RESIDENT, person__user_id=actor.pk)
        .select_related("unit", "person")
        .first()
    )


def account_history(account: Account) -> QuerySet[Transfer]:
    """The account's transfers, newest first: two index range scans merged by the
    database (``points_transfer_debit_id``, ``points_transfer_credit_id``)."""
    return (
        Transfer.objects.filter(Q(debit_id=account.pk) | Q(credit_id=account.pk))
        .select_related("debit", "credit", "redemption__outlet")
        .order_by("-id")
    )


@dataclass(frozen=True)
class HistoryRow:
    transfer: Transfer
    delta: int  # signed, as the account sees it


def history_rows(account: Account, transfers: Any) -> list[HistoryRow]:
    return [HistoryRow(t, t.amount if t.credit_id == account.pk else -t.amount) for t in transfers]


def account_detail(*, actor: Any, account_id: int) -> Account:
    return get_scoped_or_404(
        actor, Account, queryset=Account.objects.select_related("unit", "person"), pk=account_id
    )


def affordable_goods(*, actor: Any, account: Account) -> QuerySet[Goods]:
    """Goods in the resident's community that their balance pays for, in stock."""
    return (
        scoped(actor, Goods)
        .filter(
            outlet__unit_id=account.unit_id,
            outlet__is_active=True,
            is_active=True,
            stock__gt=0,
            points_price__lte=account.balance,
        )
        .select_related("outlet")
        .order_by("points_price", "name")
    )


# --- Outlets, goods and rules -------------------------------------------------------------


def outlet_list(*, actor: Any, unit: Unit | None = None) -> QuerySet[Outlet]:
    qs = scoped(actor, Outlet).select_related("unit")
    if unit is not None:
        qs = qs.filter(unit.subtree_q(field="unit__path"))
    return qs.order_by("unit__path", "kind", "name")


def outlet_goods(*, actor: Any, outlet: Outlet, active_only: bool = False) -> QuerySet[Goods]:
    qs = scoped(actor, Goods).filter(outlet=outlet)
    if active_only:
        qs = qs.filter(is_active=True)
    return qs.order_by("points_price", "name")


def rule_list(*, actor: Any, unit: Unit | None = None) -> QuerySet[EarningRule]:
    qs = scoped(actor, EarningRule).select_related("unit")
    if unit is not None:
        qs = qs.filter(unit.subtree_q(field="unit__path"))
    return qs.order_by("unit__path", "activity_type")


# --- The counter: find one resident, never browse ------------------------------------------


@dataclass(frozen=True)
class CounterHit:
    account: Account
    masked_name: str
    place: str  # the compound or building, never the room
    phone_masked: str
    age: int | None


def _counter_q(q: str) -> Q:
    """What the clerk typed, which must point at a few people: a whole or last-four
    phone number, a name of two characters or more, a pinyin or initials prefix of two
    letters or more. Anything vaguer is refused (a clerk finds; they do not browse)."""
    text = q.strip().replace(" ", "")
    if text.isdigit() and len(text) == 11:
        try:
            return Q(phone_hash=phone_hash_of(text))
        except ValidationError:
            raise ValidationError(_("电话号码格式不正确。"), field="q") from None
    if text.isdigit() and len(text) == 4:
        return Q(phone_last4=text)
    if text.isascii() and text.isalpha() and len(text) >= 2:
        key = text.lower()
        return prefix_range("name_pinyin", key) | prefix_range("name_initials", key)
    if not text.isascii() and len(text) >= 2 and not any(c.isdigit() for c in text):
        return Q(NameHasGrams(text), name__contains=text)
    raise ValidationError(
        _("请输入至少两个字的姓名、拼音、电话后四位或完整电话，或扫描积分码。"), field="q"
    )


def counter_find(*, actor: Any, outlet: Outlet, q: str) -> list[CounterHit]:
    """Residents of the outlet's community matching ``q``, at most a handful, masked.

    A QR token finds exactly its account. Persons are matched here, not through the
    registry's scoped search, because a clerk may not see the registry at all: only
    this narrow lookup, limited to accounts of the outlet's community and to a few
    rows, read-only (nothing is opened or written by a search)."""
    text = (q or "").strip()
    if not text:
        raise ValidationError(_("请输入查询内容。"), field="q")
    if len(text) > 40:
        raise ValidationError(_("查询内容过长。"), field="q")
    accounts = scoped(actor, Account).filter(kind=AccountKind.RESIDENT, unit_id=outlet.unit_id)
    token_hit = accounts.filter(qr_token=text).select_related("person__unit").first()
    if token_hit is not None:
        return [_hit(token_hit, token_hit.person)]  # type: ignore[arg-type]
    if len(text) == QR_TOKEN_LENGTH and set(text) <= QR_TOKEN_CHARS and not text.isdigit():
        return []  # a scanned code of no resident of this community
    # Residents with an account here: a resident who never earned has nothing to spend.
    matching = Person.objects.filter(
        _counter_q(text),
        outlet.unit.subtree_q(field="unit__path"),
        pseudonymized_at__isnull=True,
    ).values("pk")
    found = (
        accounts.filter(person_id__in=matching)
        .select_related("person__unit")
        .order_by("person__name_pinyin", "pk")[:COUNTER_HITS]
    )
    return [_hit(account, account.person) for account in found]  # type: ignore[arg-type]


def _hit(account: Account, person: Person) -> CounterHit:
    return CounterHit(
        account=account,
        masked_name=mask_name(person.name),
        place=person.unit.name,
        phone_masked=person.phone_masked,
        age=person.age_on(timeutils.local_today()),
    )


def counter_account(*, actor: Any, outlet: Outlet, account_id: int) -> Account:
    """A resident account of the outlet's community, as the counter shows it (404 else)."""
    return get_scoped_or_404(
        actor,
        Account,
        queryset=Account.objects.select_related("person__unit"),
        pk=account_id,
        kind=AccountKind.RESIDENT,
        unit_id=outlet.unit_id,
    )


def receipt(*, actor: Any, redemption_id: int) -> Redemption:
    return get_scoped_or_404(
        actor,
        Redemption,
        queryset=Redemption.objects.select_related(
            "outlet__unit", "account__person", "transfer", "clerk"
        ).prefetch_related("lines"),
        pk=redemption_id,
    )


# --- Reports ------------------------------------------------------------------------------


@dataclass(frozen=True)
class PointsReport:
    issued: int  # earned and granted, less their reversals
    redeemed: int  # taken at outlets for goods and payments, less their reversals
    value_fen: int  # yuan value of the goods, in fen
    person_times: int  # redemptions (receipts) not reversed
    persons: int  # distinct residents who redeemed
    rows: list[dict[str, Any]]  # per outlet


def _period(start: dt.date | None, end: dt.date | None) -> Q:
    q = Q()
    if start is not None:
        q &= Q(created_at__gte=dt.datetime.combine(start, dt.time(), tzinfo=timeutils.LOCAL_TZ))
    if end is not None:
        q &= Q(
            created_at__lt=dt.datetime.combine(
                end + dt.timedelta(days=1), dt.time(), tzinfo=timeutils.LOCAL_TZ
            )
        )
    return q


def points_report(
    *,
    actor: Any,
    unit: Unit | None = None,
    outlet: Outlet | None = None,
    start: dt.date | None = None,
    end: dt.date | None = None,
) -> PointsReport:
    """Points issued and redeemed, the yuan value exchanged and the person-times, per
    outlet, for what the actor sees within ``unit`` and the period (local dates,
    inclusive). "¥80,000 exchanged by 2,000 person-times" is ``value_fen`` and
    ``person_times`` of a village's year."""
    period = _period(start, end)
    transfers = scoped(actor, Transfer).filter(period)
    redemptions = (
        scoped(actor, Redemption).filter(period).filter(transfer__reversed_by__isnull=True)
    )
    if unit is not None:
        transfers = transfers.filter(unit.subtree_q(field="unit__path"))
        redemptions = redemptions.filter(unit.subtree_q(field="outlet__unit__path"))
    if outlet is not None:
        transfers = transfers.filter(Q(credit__outlet=outlet) | Q(debit__outlet=outlet))
        redemptions = redemptions.filter(outlet=outlet)
    sums = transfers.order_by().aggregate(
        issued=Sum("amount", filter=Q(kind__in=[TransferKind.EARN, TransferKind.GRANT])),
        issued_back=Sum(
            "amount",
            filter=Q(
                kind=TransferKind.REVERSAL,
                reverses__kind__in=[TransferKind.EARN, TransferKind.GRANT],
            ),
        ),
        spent=Sum("amount", filter=Q(kind__in=[TransferKind.REDEEM, TransferKind.PAYMENT])),
        spent_back=Sum(
            "amount",
            filter=Q(
                kind=TransferKind.REVERSAL,
                reverses__kind__in=[TransferKind.REDEEM, TransferKind.PAYMENT],
            ),
        ),
    )
    totals = redemptions.order_by().aggregate(
        value=Sum("value_fen"), n=Count("pk"), persons=Count("account_id", distinct=True)
    )
    rows = list(
        redemptions.order_by()
        .values("outlet_id", "outlet__name", "outlet__kind", "outlet__unit__name")
        .annotate(points=Sum("points"), value=Sum("value_fen"), n=Count("pk"))
        .order_by("outlet__unit__name", "outlet__name")
    )
    return PointsReport(
        issued=(sums["issued"] or 0) - (sums["issued_back"] or 0),
        redeemed=(sums["spent"] or 0) - (sums["spent_back"] or 0),
        value_fen=totals["value"] or 0,
        person_times=totals["n"],
        persons=totals["persons"],
        rows=rows,
    )


def monthly_redemptions(*, actor: Any, unit: Unit | None = None, year: int) -> list[dict[str, Any]]:
    """Person-times and value per month of a year (local time)."""
    start, _end = timeutils.month_bounds(year, 1)
    end, _ = timeutils.month_bounds(year + 1, 1)
    qs = scoped(actor, Redemption).filter(
        created_at__gte=start, created_at__lt=end, transfer__reversed_by__isnull=True
    )
    if unit is not None:
        qs = qs.filter(unit.subtree_q(field="outlet__unit__path"))
    return list(
        qs.order_by()
        .annotate(month=TruncMonth("created_at", tzinfo=timeutils.LOCAL_TZ))
        .values("month")
        .annotate(n=Count("pk"), value=Sum("value_fen"), points=Sum("points"))
        .order_by("month")
    )


def leaderboard(*, unit: Unit, limit: int = 10) -> list[dict[str, Any]]:
    """The residents of a community who earned the most points, names masked: what the
    public board of a community shows."""
    rows = (
        Transfer.objects.filter(
            credit__unit=unit, credit__kind=AccountKind.RESIDENT, kind=TransferKind.EARN
        )
        .order_by()
        .values("credit_id", "credit__person__name")
        .annotate(points=Sum("amount"))
        .order_by("-points", "credit_id")[:limit]
    )
    return [
        {"rank": i, "name": mask_name(r["credit__person__name"]), "points": r["points"]}
        for i, r in enumerate(rows, start=1)
    ]
