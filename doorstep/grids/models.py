"""Grids of about fifty households, the households' assignment to grid members, and
the visits grid members make (入户走访) with the wishes they bring back.

A grid's leader and members are role assignments (accounts) scoped to the grid; a
building leader is a role assignment scoped to a building unit.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from doorstep.core.models import BaseModel
from doorstep.orgs.models import PartyOrg, Unit
from doorstep.people.models import Household


class Grid(BaseModel):
    """A grid within a community or village, with its boundary and grid party group."""

    unit = models.ForeignKey(
        Unit, verbose_name=_("所属社区/村"), on_delete=models.PROTECT, related_name="grids"
    )
    name = models.CharField(_("名称"), max_length=50)
    boundary = models.JSONField(_("边界（GeoJSON）"), null=True, blank=True)
    party_group = models.ForeignKey(
        PartyOrg,
        verbose_name=_("网格党小组"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="grids",
    )
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("网格")
        verbose_name_plural = _("网格")
        ordering = ["unit__path", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["unit", "name"],
                name="grids_grid_name_unique_in_unit",
                violation_error_message=_("该社区/村已有同名网格。"),
            )
        ]

    def __str__(self) -> str:
        return f"{self.unit.name}·{self.name}"


class GridHousehold(BaseModel):
    """A household's place in a grid, and the grid member who links it (about ten
    households per member)."""

    household = models.OneToOneField(
        Household, verbose_name=_("住户"), on_delete=models.PROTECT, related_name="grid_link"
    )
    grid = models.ForeignKey(
        Grid, verbose_name=_("网格"), on_delete=models.PROTECT, related_name="household_links"
    )
    member = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("联系网格员"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="linked_households",
    )

    class Meta:
        verbose_name = _("网格住户")
        verbose_name_plural = _("网格住户")
        indexes = [models.Index(fields=["grid", "member"], name="grids_gh_grid_member")]

    def __str__(self) -> str:
        return f"{self.grid} · {self.household}"


class Visit(BaseModel):
    """A door-to-door visit logged by a grid member. Append-only: a wrong entry is
    corrected by a later visit note, not edited."""

    household = models.ForeignKey(
        Household, verbose_name=_("住户"), on_delete=models.PROTECT, related_name="visits"
    )
    grid = models.ForeignKey(
        Grid, verbose_name=_("网格"), on_delete=models.PROTECT, related_name="visits"
    )
    visitor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("走访人"),
        on_delete=models.PROTECT,
        related_name="visits",
    )
    visited_on = models.DateField(_("走访日期"), db_index=True)
    notes = models.TextField(_("走访记录"), max_length=2000, blank=True)
    needs = models.TextField(_("发现的需求"), max_length=2000, blank=True)

    class Meta:
        verbose_name = _("入户走访")
        verbose_name_plural = _("入户走访")
        ordering = ["-visited_on", "-id"]
        indexes = [
            models.Index(fields=["household", "visited_on"], name="grids_visit_household_day")
        ]

    def __str__(self) -> str:
        return f"{self.household} {self.visited_on}"


class WishStatus(models.TextChoices):
    OPEN = "open", _("待认领")
    TAKEN_UP = "taken_up", _("已转为诉求")
    WITHDRAWN = "withdrawn", _("已撤回")


class Wish(BaseModel):
    """A wish (心愿) on a household's wish list, found on a visit; the appeals part turns
    wishes into cases that can be claimed."""

    household = models.ForeignKey(
        Household, verbose_name=_("住户"), on_delete=models.PROTECT, related_name="wishes"
    )
    visit = models.ForeignKey(
        Visit,
        verbose_name=_("走访"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="wishes",
    )
    text = models.CharField(_("心愿"), max_length=300)
    status = models.CharField(
        _("状态"), max_length=12, choices=WishStatus.choices, default=WishStatus.OPEN
    )

    class Meta:
        verbose_name = _("居民心愿")
        verbose_name_plural = _("居民心愿")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.text
