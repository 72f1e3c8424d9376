"""Check every cached points balance against the journal; exit 1 when the books are off."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from doorstep.points.checking import ledger_check


class Command(BaseCommand):
    help = "Check that every points balance equals its journal and all balances sum to zero."

    def handle(self, *args: Any, **options: Any) -> None:
        result = ledger_check()
        for pk, cached, journal in result.mismatched[:50]:
            self.stderr.write(f"account {pk}: cached balance {cached}, journal {journal}")
        for pk in result.negative[:50]:
            self.stderr.write(f"account {pk}: negative balance")
        if result.total:
            self.stderr.write(f"balances sum to {result.total}, not 0")
        if not result.ok:
            raise CommandError(
                f"points ledger inconsistent: {len(result.mismatched)} mismatched, "
                f"{len(result.negative)} negative, sum {result.total}"
            )
        self.stdout.write(
            f"points ledger consistent: {result.accounts} accounts, "
            f"{result.transfers} transfers, balances sum to 0"
        )
