"""Tags in the Django admin, for system administrators: the extensible list of labels
(disability, veteran, new-employment group …). Persons are not here: personal data is
maintained in the console, scoped and audited."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from doorstep.accounts.admin import SystemAdminOnly, site

from .models import Tag


@admin.register(Tag, site=site)
class TagAdmin(SystemAdminOnly, admin.ModelAdmin):
    list_display = ["code", "name", "is_active"]
    list_filter = ["is_active"]
    search_fields = ["code", "name"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        # A tag's code is what filters and imports refer to: fixed once created.
        return ["code"] if obj is not None else []
