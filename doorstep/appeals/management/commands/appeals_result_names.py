"""Find the registered residents named in results written before ``result_names``
existed (or, with --all, in every result again), so that the public pages mask them."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from doorstep.appeals.services import result_names_refresh


class Command(BaseCommand):
    help = "Look up the registered residents named in published results, for masking."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--all", action="store_true", help="Every result again, not only those with none kept."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        changed = result_names_refresh(every=options["all"])
        self.stdout.write(f"{changed} case(s) updated")
