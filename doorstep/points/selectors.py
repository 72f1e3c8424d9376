"""Reads of the points ledger. Every protected read starts from :func:`scoped`."""

from __future__ import annotations

import datetime as dt
import string
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Q, QuerySet, Sum
from django.db.models.functions import TruncMonth
from django.http import Http404
from django.utils.translation import gettext as _

from doorstep.accounts.scoping import get_scoped_or_404, scoped
from doorstep.core import tickets, timeutils
from doorstep.core.errors import ValidationError
from doorstep.core.tree import per_branch
from doorstep.orgs.models import Unit
from doorstep.people.selectors import CounterCandidate, mask_name
from doorstep.people.services import counter_search

from .choices import AccountKind, TransferKind
from .models import Account, EarningRule, Goods, Outlet, Redemption, Transfer
from .rules import can_manage_points, can_serve_outlet

COUNTER_HITS = 8
QR_TOKEN_LENGTH = 22
QR_TOKEN_CHARS = frozenset(string.ascii_letters + string.digits + "-_")
COUNTER_TICKET_AGE = tickets.SHIFT


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
    """The account's transfers, newest first by when they happened (a transfer written
    later for an earlier moment — hours confirmed from an import, a backdated entry —
    takes its place in time), then by the order they were written. Two index range
    scans merged by the database (``points_transfer_debit_id``,
    ``points_transfer_credit_id``) and the account's rows sorted."""
    return (
        Transfer.objects.filter(Q(debit_id=account.pk) | Q(credit_id=account.pk))
        .select_related("debit", "credit", "redemption__outlet")
        .order_by("-created_at", "-id")
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
    # Proof that this counter found this account by a search: a clerk opens an account
    # with it, never by a bare id (see :func:`counter_account`).
    ticket: str = ""


def _counter_salt(outlet: Outlet) -> str:
    return f"points.counter:{outlet.pk}"


def counter_ticket(*, actor: Any, outlet: Outlet, account: Account) -> str:
    """A pass to one resident account at one outlet's counter, for the user who found it."""
    return tickets.issue(actor=actor, salt=_counter_salt(outlet), value=account.pk)


def _ticket_account_id(*, actor: Any, outlet: Outlet, ticket: str) -> int | None:
    return tickets.redeem(
        actor=actor, salt=_counter_salt(outlet), ticket=ticket, max_age=COUNTER_TICKET_AGE
    )


def _counter_accounts(*, actor: Any, outlet: Outlet) -> QuerySet[Account]:
    """The counter's own checkpoint: the resident accounts of the outlet's community,
    for a user who serves that counter (its clerk, or staff who run the community), and
    nothing for anyone else. A clerk's scope holds no resident account (they cannot open
    or list one by id); this is the only door, and the views and APIs pass through it
    one search or one ticket at a time."""
    if not can_serve_outlet(actor, outlet):
        raise Http404
    return Account.objects.filter(kind=AccountKind.RESIDENT, unit_id=outlet.unit_id)


def counter_find(*, actor: Any, outlet: Outlet, q: str) -> list[CounterHit]:
    """Residents of the outlet's community matching ``q``, at most a handful, masked,
    each with a ticket that opens that account at this counter.

    A QR token finds exactly its account. Persons are matched by the registry's counter
    lookup (``people.services.counter_search``, counted and audited), not its scoped
    search, because a clerk may not see the registry at all: only that narrow lookup,
    limited to residents with an account in the outlet's community and to a few rows."""
    text = (q or "").strip()
    if not text:
        raise ValidationError(_("请输入查询内容。"), field="q")
    if len(text) > 40:
        raise ValidationError(_("查询内容过长。"), field="q")
    accounts = _counter_accounts(actor=actor, outlet=outlet)
    token_hit = accounts.filter(qr_token=text).values_list("pk", "person_id").first()
    if token_hit is not None:
        found = counter_search(
            actor=actor, counter=f"points:outlet:{outlet.pk}", unit=outlet.unit,
            person_ids=[token_hit[1]], limit=1,
        )  # fmt: skip
        by_person = {token_hit[1]: token_hit[0]}
    elif len(text) == QR_TOKEN_LENGTH and set(text) <= QR_TOKEN_CHARS and not text.isdigit():
        return []  # a scanned code of no resident of this community
    else:
        # Residents with an account here: a resident who never earned has nothing to spend.
        found = counter_search(
            actor=actor, counter=f"points:outlet:{outlet.pk}", unit=outlet.unit, q=text,
            among=accounts.values("person_id"), limit=COUNTER_HITS,
        )  # fmt: skip
        by_person = dict(
            accounts.filter(person_id__in=[c.person_id for c in found]).values_list(
                "person_id", "pk"
            )
        )
    rows = accounts.in_bulk([by_person[c.person_id] for c in found if c.person_id in by_person])
    hits = []
    for candidate in found:
        account = rows.get(by_person.get(candidate.person_id, 0))
        if account is None:
            continue
        hits.append(
            CounterHit(
                account=account,
                masked_name=candidate.masked_name,
                place=candidate.place,
                phone_masked=candidate.phone_masked,
                age=candidate.age,
                ticket=counter_ticket(actor=actor, outlet=outlet, account=account),
            )
        )
    return hits


def counter_account(
    *, actor: Any, outlet: Outlet, account_id: int | None = None, ticket: str = ""
) -> Account:
    """A resident account of the outlet's community, as the counter shows it (404 else).

    A clerk opens it with the ``ticket`` a search of theirs at this counter gave them
    (an ``account_id``, if also given, must be the same account); staff who run the
    community may also open it by id, since their scope covers it anyway."""
    accounts = _counter_accounts(actor=actor, outlet=outlet).select_related("person__unit")
    if ticket:
        found = _ticket_account_id(actor=actor, outlet=outlet, ticket=ticket)
        if found is None or (account_id is not None and account_id != found):
            raise Http404
        account_id = found
    elif account_id is None or not can_manage_points(actor, outlet.unit):
        raise Http404
    account = accounts.filter(pk=account_id).first()
    if account is None:
        raise Http404
    return account


def counter_holder(account: Account) -> CounterCandidate:
    """What the counter shows of the holder of an account it opened."""
    person = account.person
    if person is None:
        raise Http404  # not a resident's account
    return CounterCandidate(
        person_id=person.pk,
        masked_name=mask_name(person.name),
        place=person.unit.name,
        phone_masked=person.phone_masked,
        age=person.age_on(timeutils.local_today()),
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


def redemptions_by_branch(
    *, actor: Any, unit: Unit, start: dt.date, end: dt.date
) -> dict[str, int]:
    """``points_report``'s value exchanged (fen) per unit directly below ``unit`` (keyed
    by its path; ``unit.path`` for outlets at the unit itself). One query."""
    redemptions = scoped(actor, Redemption).filter(
        _period(start, end), transfer__reversed_by__isnull=True
    )
    rows = per_branch(
        redemptions, field="outlet__unit__path", path=unit.path, value=Sum("value_fen")
    )
    return {branch: row["value"] or 0 for branch, row in rows.items()}


def monthly_redemptions(*, actor: Any, unit: Unit | None = None, year: int) -> list[dict[str, Any]]:
    """Person-times and value per month of a year (local time)."""
    start, _end = timeutils.month_bounds(year, 1)
    end, _ = timeutils.month_bounds(year + 1, 1)
    return redemptions_by_month(actor=actor, unit=unit, start=start, end=end)


def redemptions_by_month(
    *, actor: Any, unit: Unit | None = None, start: dt.datetime, end: dt.datetime
) -> list[dict[str, Any]]:
    """Person-times, value and points per local month from ``start`` (inclusive) to
    ``end`` (exclusive); reversed redemptions do not count. One query."""
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
            credit__unit=unit,
            credit__kind=AccountKind.RESIDENT,
            kind=TransferKind.EARN,
            credit__person__pseudonymized_at__isnull=True,
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
