"""The ledger's invariants, computed from the journal (``manage.py points_check``)."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Sum

from .choices import NON_NEGATIVE_KINDS
from .models import Account, Transfer


@dataclass
class LedgerCheck:
    accounts: int = 0
    transfers: int = 0
    total: int = 0  # sum of all cached balances: zero when the books balance
    mismatched: list[tuple[int, int, int]] = field(default_factory=list)  # (id, cached, journal)
    negative: list[int] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.total == 0 and not self.mismatched and not self.negative


def ledger_check() -> LedgerCheck:
    """Every cached balance against its journal (credits minus debits), the sum of all
    balances, and no non-negative account below zero. Three aggregate queries."""
    credits = dict(Transfer.objects.order_by().values_list("credit_id").annotate(n=Sum("amount")))
    debits = dict(Transfer.objects.order_by().values_list("debit_id").annotate(n=Sum("amount")))
    result = LedgerCheck(transfers=Transfer.objects.count())
    for pk, kind, balance in Account.objects.order_by("pk").values_list("pk", "kind", "balance"):
        result.accounts += 1
        result.total += balance
        journal = (credits.get(pk) or 0) - (debits.get(pk) or 0)
        if journal != balance:
            result.mismatched.append((pk, balance, journal))
        if kind in NON_NEGATIVE_KINDS and balance < 0:
            result.negative.append(pk)
    return result
