"""Load a year's holiday calendar (public holidays and adjusted working days).

    manage.py load_holiday_calendar 2026 holidays-2026.csv

The file format (CSV or JSON) is described in doorstep/sites/calendar_file.py and
docs/adr/0010. The year's existing days are replaced; a file with any bad line loads
nothing and every bad line is listed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from doorstep.core.errors import ValidationError
from doorstep.sites.services import holiday_calendar_load


class Command(BaseCommand):
    help = "Load a year's holiday calendar from a CSV or JSON file."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("year", type=int)
        parser.add_argument("file")

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"no such file: {path}")
        try:
            days = holiday_calendar_load(
                actor=None, year=options["year"], content=path.read_bytes(), filename=path.name
            )
        except ValidationError as exc:
            lines = [str(m) for messages in exc.errors.values() for m in messages]
            raise CommandError("\n".join(lines)) from None
        self.stdout.write(f"Loaded {days} days for {options['year']}.")
