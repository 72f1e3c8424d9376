"""Load a registry spreadsheet from the command line, with the same checks and report as
the import page: ``manage.py import_people FILE --unit CODE_OR_ID --kind persons --user NAME``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.http import Http404

from doorstep.accounts.models import User
from doorstep.core.errors import DomainError
from doorstep.orgs.models import Unit
from doorstep.people.importing import ImportKind, registry_import


class Command(BaseCommand):
    help = "Import persons, party members or mobile registrations from .xlsx or .csv."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument("--unit", required=True, help="community/village code or id")
        parser.add_argument("--kind", default=ImportKind.PERSONS, choices=ImportKind.values)
        parser.add_argument("--user", required=True, help="the username the import runs as")

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        if not path.is_file():
            raise CommandError(f"{path}: no such file")
        try:
            user = User.objects.get(username=options["user"], is_active=True)
        except User.DoesNotExist:
            raise CommandError(f"no active user {options['user']!r}") from None
        unit_ref = options["unit"].strip()
        unit = Unit.objects.filter(code=unit_ref).exclude(code="").first()
        if unit is None and unit_ref.isdigit():
            unit = Unit.objects.filter(pk=int(unit_ref)).first()
        if unit is None:
            raise CommandError(f"no unit with code or id {unit_ref!r}")
        try:
            with path.open("rb") as source:
                report = registry_import(
                    actor=user, unit_id=unit.pk, kind=options["kind"], source=source
                )
        except Http404:
            raise CommandError(f"unit {unit_ref!r} is outside {user}'s scope") from None
        except DomainError as exc:
            raise CommandError(str(exc.message)) from None
        if report.ok:
            self.stdout.write(
                f"imported {report.unit_name}: {report.rows} rows, {report.created} created, "
                f"{report.unchanged} unchanged, {report.households_created} households created"
            )
            return
        self.stdout.write("行\t列\t问题")
        for error in report.errors:
            self.stdout.write(f"{error.line or '-'}\t{error.column or '-'}\t{error.message}")
        raise CommandError(f"{len(report.errors)} problem(s); nothing was imported")
