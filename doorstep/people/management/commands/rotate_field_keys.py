"""Reseal every ID and phone number that was sealed under an older key.

Rotation: put a new key first in DOORSTEP_FIELD_KEYS (keeping the old ones after it),
deploy, run this command, then drop the old keys. Lookup hashes are keyed separately
(DOORSTEP_HASH_KEY) and are not touched: changing that key means rehashing from the
opened values, which this command does not do (docs/adr/0006-personal-data.md)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand
from django.db import transaction

from doorstep.core import crypto
from doorstep.people.models import Person

FIELDS = ("id_number_sealed", "phone_sealed")


class Command(BaseCommand):
    help = "Reseal personal numbers under the current field key."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--batch", type=int, default=2000)

    def handle(self, *args: Any, **options: Any) -> None:
        current = crypto.current_key_id()
        resealed = 0
        last_pk = 0
        while True:
            with transaction.atomic():
                batch = list(
                    Person.objects.select_for_update()
                    .filter(pk__gt=last_pk)
                    .order_by("pk")
                    .only("pk", *FIELDS)[: options["batch"]]
                )
                if not batch:
                    break
                changed = []
                for person in batch:
                    dirty = False
                    for name in FIELDS:
                        token = getattr(person, name)
                        if token and crypto.sealed_key_id(token) != current:
                            setattr(person, name, crypto.seal(crypto.open_sealed(token)))
                            dirty = True
                    if dirty:
                        changed.append(person)
                Person.objects.bulk_update(changed, list(FIELDS))
                resealed += len(changed)
                last_pk = batch[-1].pk
        self.stdout.write(f"Resealed {resealed} person record(s) under key {current!r}.")
