"""The administrative tree, party organizations and departments."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from doorstep.core.models import BaseModel
from doorstep.core.tree import TreeNode

from .choices import OFFICIAL_CODE_KINDS, DepartmentKind, PartyOrgKind, UnitKind


class Unit(TreeNode, BaseModel):
    """A node of the administrative tree: city → district/county → street/town →
    community/village → area, compound/natural village → building.

    ``path`` (see :mod:`doorstep.core.tree`) makes every subtree one range query.
    """

    kind = models.CharField(_("类型"), max_length=20, choices=UnitKind.choices)
    name = models.CharField(_("名称"), max_length=100)
    code = models.CharField(_("代码"), max_length=32, blank=True)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("上级"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    lat = models.FloatField(_("纬度"), null=True, blank=True)
    lng = models.FloatField(_("经度"), null=True, blank=True)
    boundary = models.JSONField(_("边界（GeoJSON）"), null=True, blank=True)
    spans = models.ManyToManyField(
        "self",
        verbose_name=_("跨区域覆盖"),
        symmetrical=False,
        blank=True,
        related_name="served_by_areas",
    )
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("行政单元")
        verbose_name_plural = _("行政单元")
        ordering = ["path"]
        constraints = [
            models.UniqueConstraint(
                fields=["code"],
                condition=Q(kind__in=sorted(OFFICIAL_CODE_KINDS)) & ~Q(code=""),
                name="orgs_unit_official_code_unique",
                violation_error_message=_("该行政区划代码已被使用。"),
            ),
            models.UniqueConstraint(
                fields=["parent", "name"],
                name="orgs_unit_name_unique_under_parent",
                violation_error_message=_("同一上级下已有同名单元。"),
            ),
            models.CheckConstraint(
                condition=(Q(lat__isnull=True) & Q(lng__isnull=True))
                | (Q(lat__gte=-90) & Q(lat__lte=90) & Q(lng__gte=-180) & Q(lng__lte=180)),
                name="orgs_unit_coordinates_valid",
                violation_error_message=_("坐标无效。"),
            ),
        ]
        indexes = [models.Index(fields=["kind", "path"], name="orgs_unit_kind_path")]

    def __str__(self) -> str:
        return self.name


class PartyOrg(TreeNode, BaseModel):
    """A party organization: committee, general branch, branch, group, or a functional
    party organization based at a service site (功能型党组织)."""

    kind = models.CharField(_("类型"), max_length=20, choices=PartyOrgKind.choices)
    name = models.CharField(_("名称"), max_length=100)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("上级党组织"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    unit = models.ForeignKey(
        Unit, verbose_name=_("所属单元"), on_delete=models.PROTECT, related_name="party_orgs"
    )
    secretary_name = models.CharField(_("书记"), max_length=50, blank=True)
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = pgettext_lazy("singular", "党组织")
        verbose_name_plural = _("党组织")
        ordering = ["path"]
        constraints = [
            models.UniqueConstraint(
                fields=["unit", "name"],
                name="orgs_partyorg_name_unique_in_unit",
                violation_error_message=_("该单元已有同名党组织。"),
            )
        ]

    def __str__(self) -> str:
        return self.name


class Department(BaseModel):
    """A township or county department (police, urban management, fisheries …) that
    takes red cases. ``unit`` is the town or county it serves."""

    kind = models.CharField(_("类型"), max_length=30, choices=DepartmentKind.choices)
    name = models.CharField(_("名称"), max_length=100)
    unit = models.ForeignKey(
        Unit, verbose_name=_("服务单元"), on_delete=models.PROTECT, related_name="departments"
    )
    office_phone = models.CharField(_("办公电话"), max_length=30, blank=True)
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("职能部门")
        verbose_name_plural = _("职能部门")
        ordering = ["unit__path", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["unit", "name"],
                name="orgs_department_name_unique_in_unit",
                violation_error_message=_("该单元已有同名部门。"),
            )
        ]

    def __str__(self) -> str:
        return self.name
