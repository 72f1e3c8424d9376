"""``manage.py open311_key create NAME`` prints a new key; ``revoke NAME`` revokes it;
``list`` shows the keys (never the keys themselves)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from doorstep.core.errors import DomainError
from doorstep.open311.models import ApiKey
from doorstep.open311.services import api_key_create, api_key_revoke


class Command(BaseCommand):
    help = "Issue, revoke or list the Open311 API keys of integrating systems."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["create", "revoke", "list"])
        parser.add_argument("name", nargs="?", default="")

    def handle(self, *args: Any, **options: Any) -> None:
        action, name = options["action"], options["name"]
        try:
            if action == "create":
                _row, key = api_key_create(actor=None, name=name)
                self.stdout.write(key)
            elif action == "revoke":
                api_key_revoke(actor=None, name=name)
                self.stdout.write(f"revoked: {name}")
            else:
                for row in ApiKey.objects.all():
                    state = "active" if row.is_active else f"revoked {row.revoked_at:%Y-%m-%d}"
                    self.stdout.write(f"{row.name}\t{row.prefix}…\t{state}")
        except DomainError as error:
            raise CommandError(str(error.message)) from error
