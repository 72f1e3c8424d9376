"""Report (and with --apply, apply) a balancing of a community's households into grids.

    manage.py balance_grids --unit 510502001001 [--max 50] [--per-member 10] [--apply]

``--unit`` takes a unit's code or name; a street or district balances every community
and village below it, one plan (and one transaction) each.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db.models import Q

from doorstep.core.errors import DomainError
from doorstep.grids.balancing import DEFAULT_MAX_SIZE, DEFAULT_PER_MEMBER
from doorstep.grids.selectors import balance_plan, grassroots_units_under
from doorstep.grids.services import grid_balance_apply
from doorstep.orgs.models import Unit


class Command(BaseCommand):
    help = "Split a community's households into grids of at most N households (report; --apply)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--unit", required=True, help="code or name of the unit")
        parser.add_argument("--max", type=int, default=DEFAULT_MAX_SIZE, dest="max_size")
        parser.add_argument("--per-member", type=int, default=DEFAULT_PER_MEMBER)
        parser.add_argument("--apply", action="store_true", help="apply the plan")
        parser.add_argument("--moves", type=int, default=20, help="moves to list per plan")

    def handle(self, *args: Any, **options: Any) -> None:
        wanted = options["unit"].strip()
        matches = list(Unit.objects.filter(Q(code=wanted) | Q(name=wanted)).order_by("path")[:5])
        if not matches:
            raise CommandError(f"no unit with code or name {wanted!r}")
        if len(matches) > 1:
            listing = ", ".join(f"{u.name} ({u.code or u.pk})" for u in matches)
            raise CommandError(f"{wanted!r} names several units: {listing}; use the code")
        if options["max_size"] < 1 or options["per_member"] < 1:
            raise CommandError("--max and --per-member must be at least 1")
        units = grassroots_units_under(matches[0])
        if not units:
            raise CommandError(f"no community or village at or under {matches[0].name}")
        for unit in units:
            plan = balance_plan(
                unit=unit, max_size=options["max_size"], per_member=options["per_member"]
            )
            for line in plan.report_lines(moves_limit=options["moves"]):
                self.stdout.write(line)
            if not options["apply"]:
                self.stdout.write("not applied (pass --apply to apply)")
                continue
            try:
                result = grid_balance_apply(plan=plan)
            except DomainError as error:
                raise CommandError(str(error.message)) from None
            self.stdout.write(
                f"applied: {len(result.created)} grids created, {result.moved} households "
                f"moved or relinked"
            )
