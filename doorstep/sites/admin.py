"""The configurable lists of the sites app in the Django admin, for system
administrators: service categories (eight by default), station types ("nine in one")
and amenities, and the circle's parameters. Sites, bookings and requests are run in the
console, scoped and recorded."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from doorstep.accounts.admin import SystemAdminOnly, site

from .models import Amenity, CircleSettings, ServiceCategory, StationType


class VocabularyAdmin(SystemAdminOnly, admin.ModelAdmin):
    list_display = ["code", "name", "sort", "is_active"]
    list_editable = ["name", "sort", "is_active"]
    list_filter = ["is_active"]
    search_fields = ["code", "name"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        # Filters, imports and the API refer to the code: fixed once created.
        return ["code"] if obj is not None else []

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # retire an entry by making it inactive; sites and records refer to it


site.register(ServiceCategory, VocabularyAdmin)
site.register(StationType, VocabularyAdmin)
site.register(Amenity, VocabularyAdmin)


@admin.register(CircleSettings, site=site)
class CircleSettingsAdmin(SystemAdminOnly, admin.ModelAdmin):
    list_display = ["walking_speed_m_per_min", "detour_factor", "minutes"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return not CircleSettings.objects.exists() and super().has_add_permission(request)
