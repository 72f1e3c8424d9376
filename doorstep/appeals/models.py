"""Appeals (诉求) of every kind and their closed loop: categories, cases, the append-only
event history, joint cases with departments, follows, ratings, month-end
classifications, wish claims, mediation, photos and in-app notifications.

A case's ``unit_path`` copies the path of the most specific place known (household's
building, compound or community) so that "cases in this subtree" is one range scan on
one table, whatever the size; see docs/adr/0008-appeals-closed-loop.md.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from doorstep.core.models import BaseModel
from doorstep.grids.models import Grid, Wish
from doorstep.orgs.choices import DepartmentKind
from doorstep.orgs.models import Department, PartyOrg, Unit
from doorstep.people.models import Household, Person

from .choices import (
    Action,
    CaseKind,
    CaseState,
    CategoryChangeAction,
    Channel,
    ClaimantKind,
    Color,
    Level,
    MediationOutcome,
    NotificationKind,
    PhotoKind,
    TaskState,
)

# Open311 clients may send descriptions of up to 4,000 characters; so may everyone.
TEXT_MAX = 4000


# The default categories (migration 0002) by their Chinese names, in the reader's
# language. A category added or renamed by staff is shown as written; keyed by name, so
# that rows read with ``values("category__name")`` can be labelled too.
DEFAULT_CATEGORY_NAMES = {
    "人居环境": _("人居环境"),
    "环境卫生": _("环境卫生"),
    "物业管理": _("物业管理"),
    "设施维修": _("设施维修"),
    "平安法治": _("平安法治"),
    "治安安全": _("治安安全"),
    "邻里纠纷": _("邻里纠纷"),
    "发展保障": _("发展保障"),
    "征地拆迁安置": _("征地拆迁安置"),
    "渔船与海域使用": _("渔船与海域使用"),
    "就业创业": _("就业创业"),
    "民生服务": _("民生服务"),
    "养老服务": _("养老服务"),
    "政务服务咨询": _("政务服务咨询"),
    "微心愿": _("微心愿"),
    "金点子": _("金点子"),
    "其他": _("其他"),
}


def category_label(name: str) -> str:
    label = DEFAULT_CATEGORY_NAMES.get(name)
    return str(label) if label is not None else name


class Category(BaseModel):
    """A configurable category (service) with the color and level a new case gets."""

    code = models.SlugField(_("代码"), max_length=40, unique=True)
    name = models.CharField(_("名称"), max_length=50)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("上级类别"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    description = models.CharField(_("说明"), max_length=300, blank=True)
    default_color = models.CharField(
        _("默认颜色"), max_length=10, choices=Color.choices, default=Color.GREEN
    )
    default_level = models.CharField(
        _("默认责任层级"), max_length=12, choices=Level.choices, default=Level.GRID
    )
    lead_department_kind = models.CharField(
        _("红色案件牵头部门类型"), max_length=30, choices=DepartmentKind.choices, blank=True
    )
    # Hours a new case of this category gets; empty means the default of its color.
    deadline_hours = models.PositiveIntegerField(_("办理时限（小时）"), null=True, blank=True)
    order = models.PositiveSmallIntegerField(_("排序"), default=0)
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = pgettext_lazy("singular", "诉求类别")
        verbose_name_plural = _("诉求类别")
        ordering = ["order", "code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(deadline_hours__isnull=True)
                | (Q(deadline_hours__gte=1) & Q(deadline_hours__lte=24 * 366)),
                name="appeals_category_deadline_range",
                violation_error_message=_("办理时限应在1小时到366天之间。"),
            )
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def label(self) -> str:
        """The name shown on pages, in the reader's language (see ``category_label``)."""
        return category_label(self.name)


class CategoryChange(models.Model):
    """One change to the category tree: who, when, what (each changed field with its
    old and new value). Append-only; categories are never deleted, only deactivated."""

    category = models.ForeignKey(
        Category, verbose_name=_("类别"), on_delete=models.PROTECT, related_name="changes"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("操作人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    at = models.DateTimeField(_("时间"))
    action = models.CharField(_("动作"), max_length=12, choices=CategoryChangeAction.choices)
    changes = models.JSONField(_("变更内容"), default=dict, blank=True)

    class Meta:
        verbose_name = _("类别变更记录")
        verbose_name_plural = _("类别变更记录")
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.category_id} {self.action}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise RuntimeError("category changes are append-only")
        super().save(*args, **kwargs)


class Case(BaseModel):
    """One appeal (诉求) of any kind, from intake to closing."""

    kind = models.CharField(_("类型"), max_length=15, choices=CaseKind.choices)
    category = models.ForeignKey(
        Category, verbose_name=_("类别"), on_delete=models.PROTECT, related_name="cases"
    )
    channel = models.CharField(_("渠道"), max_length=15, choices=Channel.choices)
    text = models.TextField(_("内容"), max_length=TEXT_MAX)
    lat = models.FloatField(_("纬度"), null=True, blank=True)
    lng = models.FloatField(_("经度"), null=True, blank=True)
    unit = models.ForeignKey(
        Unit, verbose_name=_("发生地"), on_delete=models.PROTECT, related_name="cases"
    )
    unit_path = models.CharField(max_length=250, editable=False)
    community = models.ForeignKey(
        Unit, verbose_name=_("社区/村"), on_delete=models.PROTECT, related_name="community_cases"
    )
    compound = models.ForeignKey(
        Unit,
        verbose_name=_("小区/自然村"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="compound_cases",
    )
    household = models.ForeignKey(
        Household,
        verbose_name=_("住户"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="cases",
    )
    grid = models.ForeignKey(
        Grid,
        verbose_name=_("网格"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="cases",
    )
    party_org = models.ForeignKey(
        PartyOrg,
        verbose_name=pgettext_lazy("singular", "党组织"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="cases",
    )
    color = models.CharField(_("颜色"), max_length=10, choices=Color.choices)
    level = models.CharField(_("责任层级"), max_length=12, choices=Level.choices)
    state = models.CharField(
        _("状态"), max_length=15, choices=CaseState.choices, default=CaseState.SUBMITTED
    )
    is_joint = models.BooleanField(_("会办"), default=False)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("承办人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="assigned_cases",
    )
    clock_started_at = models.DateTimeField(_("计时起点"))
    deadline = models.DateTimeField(_("办理期限"), null=True, blank=True)
    reminded_deadline = models.DateTimeField(_("已提醒的期限"), null=True, blank=True)
    escalations = models.PositiveSmallIntegerField(_("升级次数"), default=0)
    version = models.PositiveIntegerField(_("版本"), default=1)
    receipt_code = models.CharField(_("回执码"), max_length=12, unique=True)
    # A keyed hash of the receipt code and the last four digits of the phone given at
    # proxy intake: a resident without an account rates with both (never stored in the
    # clear). Wrong guesses are counted per case and lock the check for a while.
    # Database defaults too, so that bulk loads written in SQL need not name them.
    receipt_check = models.CharField(
        _("回执校验"), max_length=64, blank=True, editable=False, default="", db_default=""
    )
    receipt_failures = models.PositiveSmallIntegerField(
        _("回执校验失败次数"), default=0, db_default=0
    )
    receipt_locked_until = models.DateTimeField(_("回执校验锁定至"), null=True, blank=True)
    idempotency_key = models.CharField(_("幂等键"), max_length=64, blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("录入人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="submitted_cases",
    )
    reporter_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("报告人账号"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="reported_cases",
    )
    reporter_person = models.ForeignKey(
        Person,
        verbose_name=_("报告人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="cases",
    )
    result = models.TextField(_("办理结果"), max_length=TEXT_MAX, blank=True)
    # Registered residents of the community the result names, masked when published.
    result_names = models.JSONField(_("结果中的居民姓名"), default=list, blank=True, editable=False)
    resolved_at = models.DateTimeField(_("办结时间"), null=True, blank=True)
    # Whether it was resolved by the deadline then in force (which resolving clears);
    # unknown (null) while open, and for a case that had no deadline.
    resolved_on_time = models.BooleanField(_("按期办结"), null=True, blank=True)
    closed_at = models.DateTimeField(_("关闭时间"), null=True, blank=True)
    closed_unrated = models.BooleanField(_("未评价关闭"), default=False)
    rating = models.PositiveSmallIntegerField(_("满意度"), null=True, blank=True)
    merged_into = models.ForeignKey(
        "self",
        verbose_name=_("合并到"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="merged_cases",
    )
    wish = models.OneToOneField(
        Wish,
        verbose_name=_("走访心愿"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="case",
    )
    # Suggestions (金点子): adopted or not, and whether the problem it named is solved.
    adopted = models.BooleanField(_("是否采纳"), null=True, blank=True)
    problem_solved = models.BooleanField(_("解决了问题"), default=False)
    is_public = models.BooleanField(_("公示"), default=True)

    class Meta:
        verbose_name = pgettext_lazy("singular", "诉求")
        verbose_name_plural = _("诉求")
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["submitted_by", "idempotency_key"],
                condition=~Q(idempotency_key=""),
                name="appeals_case_idempotency_unique",
                violation_error_message=_("同一提交人的幂等键不能重复。"),
            ),
            models.CheckConstraint(
                condition=Q(rating__isnull=True) | (Q(rating__gte=1) & Q(rating__lte=5)),
                name="appeals_case_rating_1_5",
                violation_error_message=_("满意度应为1到5分。"),
            ),
            models.CheckConstraint(
                condition=(Q(lat__isnull=True) & Q(lng__isnull=True))
                | (Q(lat__gte=-90) & Q(lat__lte=90) & Q(lng__gte=-180) & Q(lng__lte=180)),
                name="appeals_case_coordinates_valid",
                violation_error_message=_("坐标无效。"),
            ),
        ]
        indexes = [
            models.Index(fields=["unit_path", "id"], name="appeals_case_path_id"),
            models.Index(fields=["state", "deadline"], name="appeals_case_state_deadline"),
            # The triage board, its counts and the overdue list: open cases of a subtree
            # are one contiguous range per state, whatever the size of the table.
            models.Index(
                fields=["state", "unit_path", "color", "deadline"], name="appeals_case_open_board"
            ),
            models.Index(fields=["community", "state", "color"], name="appeals_case_board"),
            models.Index(fields=["grid", "state"], name="appeals_case_grid_state"),
            models.Index(fields=["reporter_user", "id"], name="appeals_case_reporter"),
            models.Index(fields=["category", "state"], name="appeals_case_category_state"),
            models.Index(fields=["state", "resolved_at"], name="appeals_case_state_resolved"),
            # A place's figures over a period (received by color and state, resolved and
            # on time, closed unrated), per month and per unit below: index-only counts
            # over the subtree's range, so that a city's year of cases is counted in
            # a fraction of a second rather than by reading the table.
            models.Index(
                fields=["unit_path", "created_at", "color", "state"],
                name="appeals_case_path_created",
            ),
            models.Index(
                fields=["unit_path", "resolved_at", "resolved_on_time"],
                condition=Q(resolved_at__isnull=False),
                name="appeals_case_path_resolved",
            ),
            models.Index(
                fields=["unit_path", "closed_at"],
                condition=Q(closed_unrated=True),
                name="appeals_case_path_unrated",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.receipt_code} {self.category}"

    @property
    def is_open(self) -> bool:
        from .choices import OPEN_STATES

        return self.state in OPEN_STATES


class CaseEvent(models.Model):
    """One step of a case's history. Append-only: who, when, from, to, what was said.
    ``at`` is when the step took effect (an escalation takes effect at the deadline it
    follows, even when a sweep records it later); ``recorded_at`` is when it was written."""

    case = models.ForeignKey(
        Case,
        verbose_name=pgettext_lazy("singular", "诉求"),
        on_delete=models.PROTECT,
        related_name="events",
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("操作人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    action = models.CharField(_("动作"), max_length=12, choices=Action.choices)
    at = models.DateTimeField(_("时间"))
    recorded_at = models.DateTimeField(_("记录时间"), auto_now_add=True)
    from_state = models.CharField(_("原状态"), max_length=15, choices=CaseState.choices)
    to_state = models.CharField(_("新状态"), max_length=15, choices=CaseState.choices)
    from_color = models.CharField(_("原颜色"), max_length=10, choices=Color.choices)
    to_color = models.CharField(_("新颜色"), max_length=10, choices=Color.choices)
    note = models.TextField(_("说明"), max_length=TEXT_MAX, blank=True)
    is_public = models.BooleanField(_("公开"), default=True)
    data = models.JSONField(_("附加信息"), default=dict, blank=True)

    class Meta:
        verbose_name = _("诉求办理记录")
        verbose_name_plural = _("诉求办理记录")
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["case", "at"], name="appeals_event_case_at")]

    def __str__(self) -> str:
        return f"{self.case_id} {self.action}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise RuntimeError("case events are append-only")
        super().save(*args, **kwargs)


class JointTask(BaseModel):
    """A department's part in a joint (会办) red case: one lead, several assisting."""

    case = models.ForeignKey(
        Case,
        verbose_name=pgettext_lazy("singular", "诉求"),
        on_delete=models.PROTECT,
        related_name="tasks",
    )
    department = models.ForeignKey(
        Department, verbose_name=_("部门"), on_delete=models.PROTECT, related_name="appeal_tasks"
    )
    is_lead = models.BooleanField(_("牵头"), default=False)
    instructions = models.CharField(_("任务"), max_length=500, blank=True)
    deadline = models.DateTimeField(_("答复期限"))
    state = models.CharField(
        _("状态"), max_length=10, choices=TaskState.choices, default=TaskState.OPEN
    )
    reply = models.TextField(_("答复"), max_length=TEXT_MAX, blank=True)
    replied_at = models.DateTimeField(_("答复时间"), null=True, blank=True)
    replied_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("答复人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        verbose_name = _("会办任务")
        verbose_name_plural = _("会办任务")
        ordering = ["-is_lead", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["case", "department"],
                name="appeals_task_department_once",
                violation_error_message=_("该部门已在本案会办中。"),
            ),
            models.UniqueConstraint(
                fields=["case"],
                condition=Q(is_lead=True),
                name="appeals_task_one_lead",
                violation_error_message=_("一个会办案件只能有一个牵头部门。"),
            ),
        ]
        indexes = [
            models.Index(fields=["department", "state"], name="appeals_task_dept_state"),
        ]

    def __str__(self) -> str:
        return f"{self.case_id} {self.department}"


class Follow(BaseModel):
    """A user following a case: they are told of its public updates."""

    case = models.ForeignKey(
        Case,
        verbose_name=pgettext_lazy("singular", "诉求"),
        on_delete=models.CASCADE,
        related_name="follows",
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("关注人"),
        on_delete=models.CASCADE,
        related_name="followed_cases",
    )

    class Meta:
        verbose_name = _("关注")
        verbose_name_plural = _("关注")
        constraints = [
            models.UniqueConstraint(
                fields=["case", "user"],
                name="appeals_follow_once",
                violation_error_message=_("已关注该诉求。"),
            )
        ]

    def __str__(self) -> str:
        return f"{self.user_id} → {self.case_id}"


class Rating(BaseModel):
    """A resident's rating of a result (1–5 and a comment); a reopened case may be
    rated again after it is resolved again."""

    case = models.ForeignKey(
        Case,
        verbose_name=pgettext_lazy("singular", "诉求"),
        on_delete=models.PROTECT,
        related_name="ratings",
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("评价人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    score = models.PositiveSmallIntegerField(_("满意度"))
    comment = models.CharField(_("评价"), max_length=500, blank=True)
    # The case's ``unit_path`` (kept equal to it when the place moves in the tree), so that
    # a place's ratings over a period are one range of an index, not a join.
    unit_path = models.CharField(max_length=250, editable=False, default="")

    class Meta:
        verbose_name = _("满意度评价")
        verbose_name_plural = _("满意度评价")
        ordering = ["-id"]
        indexes = [
            models.Index(
                fields=["unit_path", "created_at", "score"], name="appeals_rating_path_created"
            )
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(score__gte=1) & Q(score__lte=5),
                name="appeals_rating_score_1_5",
                violation_error_message=_("满意度应为1到5分。"),
            )
        ]

    def __str__(self) -> str:
        return f"{self.case_id}: {self.score}"


class MonthlyClassification(BaseModel):
    """A community's month-end red/yellow/green review: who confirmed it, when, which
    month, the counts, and when the month's sheet was published."""

    community = models.ForeignKey(
        Unit, verbose_name=_("社区/村"), on_delete=models.PROTECT, related_name="classifications"
    )
    month = models.DateField(_("月份"))
    classified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("分类人"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    classified_at = models.DateTimeField(_("分类时间"))
    counts = models.JSONField(_("各颜色件数"), default=dict)
    changed = models.PositiveIntegerField(_("调整颜色件数"), default=0)
    published_at = models.DateTimeField(_("公示时间"), null=True, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("公示人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        verbose_name = _("月末分类")
        verbose_name_plural = _("月末分类")
        ordering = ["-month"]
        constraints = [
            models.UniqueConstraint(
                fields=["community", "month"],
                name="appeals_classification_once_a_month",
                violation_error_message=_("该月已完成分类。"),
            ),
            models.CheckConstraint(
                condition=Q(month__day=1),
                name="appeals_classification_first_of_month",
                violation_error_message=_("月份应为该月1日。"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.community} {self.month:%Y-%m}"


class WishClaim(BaseModel):
    """A party member, volunteer or partner claiming (认领) a wish and reporting it
    fulfilled."""

    case = models.ForeignKey(
        Case, verbose_name=_("心愿"), on_delete=models.PROTECT, related_name="claims"
    )
    claimant = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("认领人"),
        on_delete=models.PROTECT,
        related_name="wish_claims",
    )
    claimant_kind = models.CharField(_("认领人身份"), max_length=15, choices=ClaimantKind.choices)
    claimant_label = models.CharField(_("公示名称"), max_length=50)
    fulfilled_at = models.DateTimeField(_("圆梦时间"), null=True, blank=True)
    note = models.CharField(_("说明"), max_length=500, blank=True)
    withdrawn_at = models.DateTimeField(_("放弃时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("心愿认领")
        verbose_name_plural = _("心愿认领")
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["case"],
                condition=Q(withdrawn_at__isnull=True),
                name="appeals_wish_claimed_once",
                violation_error_message=_("该心愿已被认领。"),
            )
        ]

    def __str__(self) -> str:
        return f"{self.case_id} ← {self.claimant_label}"


class Mediation(BaseModel):
    """The mediation of a dispute (纠纷): the mediator (和事佬), the outcome and the
    agreement text. The mediator is a user (staff, or a 和事佬 with an account) or a
    resident from the registry without one (an old party member the neighbours trust),
    whose sessions and outcome the staff then record; never both, never neither."""

    case = models.OneToOneField(
        Case, verbose_name=_("纠纷"), on_delete=models.PROTECT, related_name="mediation"
    )
    mediator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("调解员"),
        on_delete=models.PROTECT,
        related_name="mediations",
        null=True,
        blank=True,
    )
    mediator_person = models.ForeignKey(
        "people.Person",
        verbose_name=_("调解员（居民）"),
        on_delete=models.PROTECT,
        related_name="mediations",
        null=True,
        blank=True,
    )
    parties = models.CharField(_("当事各方"), max_length=300)
    outcome = models.CharField(
        _("结果"),
        max_length=15,
        choices=MediationOutcome.choices,
        default=MediationOutcome.PENDING,
    )
    agreement = models.TextField(_("协议内容"), max_length=TEXT_MAX, blank=True)
    concluded_at = models.DateTimeField(_("调解结束时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("纠纷调解")
        verbose_name_plural = _("纠纷调解")
        constraints = [
            models.CheckConstraint(
                condition=Q(mediator__isnull=False, mediator_person__isnull=True)
                | Q(mediator__isnull=True, mediator_person__isnull=False),
                name="appeals_mediation_one_mediator",
            )
        ]

    def __str__(self) -> str:
        return f"{self.case_id} {self.outcome}"

    @property
    def mediator_name(self) -> str:
        if self.mediator_person_id:
            return str(self.mediator_person.name) if self.mediator_person else ""
        return str(self.mediator) if self.mediator_id else ""


class MediationSession(BaseModel):
    """One mediation session with the parties."""

    mediation = models.ForeignKey(
        Mediation, verbose_name=_("调解"), on_delete=models.PROTECT, related_name="sessions"
    )
    held_at = models.DateTimeField(_("时间"))
    place = models.CharField(_("地点"), max_length=100, blank=True)
    attendees = models.CharField(_("参加人"), max_length=300, blank=True)
    notes = models.TextField(_("记录"), max_length=TEXT_MAX, blank=True)

    class Meta:
        verbose_name = _("调解会")
        verbose_name_plural = _("调解会")
        ordering = ["held_at", "id"]

    def __str__(self) -> str:
        return f"{self.mediation_id} {self.held_at:%Y-%m-%d}"


class CasePhoto(BaseModel):
    """A photo of the problem or of the result, re-encoded without metadata."""

    case = models.ForeignKey(
        Case,
        verbose_name=pgettext_lazy("singular", "诉求"),
        on_delete=models.PROTECT,
        related_name="photos",
    )
    kind = models.CharField(
        _("类型"), max_length=10, choices=PhotoKind.choices, default=PhotoKind.REPORT
    )
    image = models.FileField(_("图片"), upload_to="appeals/%Y/%m/")
    width = models.PositiveIntegerField(_("宽"))
    height = models.PositiveIntegerField(_("高"))

    class Meta:
        verbose_name = _("诉求照片")
        verbose_name_plural = _("诉求照片")
        ordering = ["id"]

    def __str__(self) -> str:
        return self.image.name


class Notification(BaseModel):
    """An in-app notification; other channels (SMS, WeChat) are sent alongside."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("接收人"),
        on_delete=models.CASCADE,
        related_name="appeal_notifications",
    )
    case = models.ForeignKey(
        Case,
        verbose_name=pgettext_lazy("singular", "诉求"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="notifications",
    )
    # The Chinese rendering, fixed when the notification is made: what rows from before
    # ``kind`` show, and what the outside channels (SMS, WeChat) were sent.
    text = models.CharField(_("内容"), max_length=300)
    # What the notification says, to be put in words in the reader's language when it is
    # shown: the kind picks the sentence, params hold its values as codes (receipt code,
    # action, state), never as translated labels.
    kind = models.CharField(
        _("类型"), max_length=12, choices=NotificationKind.choices, blank=True, default=""
    )
    params = models.JSONField(_("参数"), default=dict, blank=True)
    read_at = models.DateTimeField(_("已读时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("通知")
        verbose_name_plural = _("通知")
        ordering = ["-id"]
        indexes = [models.Index(fields=["user", "read_at"], name="appeals_notice_user_read")]

    def __str__(self) -> str:
        return self.text

    def display_text(self) -> str:
        """The notification in the active language (the stored text for a legacy row)."""
        from .notify import render  # notify imports the models

        return render(self.kind, self.params, self.text)
