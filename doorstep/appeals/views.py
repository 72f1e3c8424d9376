"""Appeals pages. Resident pages (phone-first): report, my cases, a case with its
timeline, rating and follow; the public board, the receipt lookup, the printable sheet
and the wish wall. Console: triage board, a case with its actions, overdue list, the
grid member's queue, month-end classification, joint cases and department tasks, and
proxy intake. Views call selectors and services only; rows come through the scoping
checkpoint, and one out of scope is 404."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from doorstep.accounts.audit import audit_record
from doorstep.accounts.models import AuditAction
from doorstep.accounts.roles import Role
from doorstep.accounts.rules import is_staff_user, require_staff
from doorstep.accounts.scope_rules import anchor_unit
from doorstep.accounts.scoping import get_scoped_or_404, grants, has_role, scoped
from doorstep.accounts.selectors import role_holders
from doorstep.core import timeutils
from doorstep.core.errors import DomainError, ValidationError
from doorstep.core.inputs import key_from_text
from doorstep.core.pages import render_page
from doorstep.orgs.choices import GRASSROOTS_KINDS
from doorstep.orgs.models import Department, Unit

from . import selectors
from .choices import (
    TRANSITIONS,
    Action,
    Actor,
    CaseKind,
    CaseState,
    Channel,
    ClaimantKind,
    Color,
    MediationOutcome,
)
from .forms import (
    BoardFilterForm,
    CategoryForm,
    ConcludeForm,
    MediatorForm,
    PeriodForm,
    ProxyForm,
    RateForm,
    ReceiptRateForm,
    ReportForm,
    SessionForm,
    SuggestionMarkForm,
    TransitionForm,
)
from .models import Case, Category, JointTask, MonthlyClassification
from .rules import actor_kinds, can_edit_categories, can_supervise_unit, department_ids
from .services import (
    case_follow,
    case_rate_by_receipt,
    case_submit,
    case_transition,
    case_unfollow,
    category_create,
    category_update,
    joint_task_add,
    joint_task_reply,
    mediation_assign,
    mediation_conclude,
    mediation_session_log,
    month_classify,
    month_publish,
    notifications_mark_read,
    suggestion_mark,
    wish_claim,
    wish_to_case,
)


def _form_errors(form: Any, exc: DomainError) -> None:
    if isinstance(exc, ValidationError):
        for field, errors in exc.errors.items():
            for message in errors:
                name = field if field in form.fields else None
                form.add_error(name, str(message))
    else:
        form.add_error(None, str(exc.message))


# --- Resident -----------------------------------------------------------------------------


@login_required
def report(request: HttpRequest) -> HttpResponse:
    """Report a problem, wish, suggestion or dispute. Duplicates of the same category
    near the place are shown before the case is made, once."""
    places = selectors.report_places()
    duplicates: list[dict[str, Any]] = []
    home = selectors.home_place(request.user)
    form = ReportForm(
        request.POST or None,
        request.FILES or None,
        places=places,
        initial={"unit": home.pk} if home is not None else {},
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        unit = Unit.objects.filter(pk=data["unit"]).first() if data["unit"] else None
        category = selectors.leaf_categories().filter(code=data["category"]).first()
        if category is not None and not data["confirm"]:
            duplicates = selectors.duplicates_near(
                category=category, lat=data["lat"], lng=data["lng"], unit=unit
            )
        if not duplicates:
            try:
                case = case_submit(
                    actor=request.user,
                    kind=data["kind"],
                    category=data["category"],
                    channel=Channel.ONLINE,
                    text=data["text"],
                    unit=unit,
                    lat=data["lat"],
                    lng=data["lng"],
                    idempotency_key=data["idempotency_key"],
                    photos=[data["photo"]] if data["photo"] else [],
                )
            except DomainError as exc:
                _form_errors(form, exc)
            else:
                messages.success(
                    request, _("已收到您的诉求，回执码 %(code)s。") % {"code": case.receipt_code}
                )
                return redirect("appeals:case", pk=case.pk)
    status = 400 if form.is_bound and form.errors else 200
    return render_page(
        request,
        "appeals/report.html",
        {
            "form": form,
            "duplicates": duplicates,
            "tile_url": _tile_url(),
            "map_places": _map_places(places),
        },
        status=status,
    )


def _map_places(places: list[Unit]) -> list[list[Any]]:
    """The places with a point, for the report map to draw: ``[id, name, lat, lng]``."""
    return [[u.pk, u.name, u.lat, u.lng] for u in places if u.lat is not None and u.lng is not None]


def _tile_url() -> str:
    from django.conf import settings

    return str(settings.DOORSTEP.get("MAP_TILE_URL", ""))


@login_required
def my_cases(request: HttpRequest) -> HttpResponse:
    page = selectors.paginate(selectors.my_cases(actor=request.user), request.GET.get("page"), 30)
    return render_page(request, "appeals/my_cases.html", {"page": page, "filters": request.GET})


def _visible_case(request: HttpRequest, pk: int) -> tuple[Case, bool]:
    """A case the user may see in full (scoped), or else its public face."""
    user = request.user
    if user.is_authenticated:
        case = selectors.scoped_case(actor=user, pk=pk)
        if case is not None:
            return case, True
    case = (
        selectors.public_cases()
        .select_related("category", "community", "compound")
        .filter(pk=pk)
        .first()
    )
    if case is None:
        raise Http404
    return case, False


def case_page(request: HttpRequest, pk: int) -> HttpResponse:
    """A case for its reporter and followers: its state, timeline and the rating form."""
    case, full = _visible_case(request, pk)
    user = request.user
    can_rate = (
        full and case.state == CaseState.RESOLVED and Actor.REPORTER in actor_kinds(user, case)
    )
    following = user.is_authenticated and (
        case.reporter_user_id == user.pk or case.follows.filter(user=user).exists()
    )
    return render_page(
        request,
        "appeals/case.html",
        {
            "case": case,
            "full": full,
            "events": selectors.case_timeline(case=case, public_only=True),
            "photos": case.photos.all() if full else [],
            "rate_form": RateForm(initial={"version": case.version}) if can_rate else None,
            "following": following,
            "result_text": case.result if full else selectors.public_result(case),
        },
    )


@login_required
@require_POST
def rate(request: HttpRequest, pk: int) -> HttpResponse:
    case, full = _visible_case(request, pk)
    if not full:
        raise Http404
    form = RateForm(request.POST)
    if form.is_valid():
        try:
            case_transition(
                actor=request.user,
                case=case,
                action=Action.RATE,
                version=form.cleaned_data["version"],
                score=form.cleaned_data["score"],
                comment=form.cleaned_data["comment"],
            )
        except DomainError as exc:
            messages.error(request, str(exc.message))
        else:
            messages.success(request, _("感谢您的评价。"))
    else:
        messages.error(request, _("请选择1到5分。"))
    return redirect("appeals:case", pk=pk)


@login_required
@require_POST
def follow(request: HttpRequest, pk: int) -> HttpResponse:
    case, _full = _visible_case(request, pk)
    try:
        if request.POST.get("unfollow"):
            case_unfollow(actor=request.user, case=case)
        else:
            case_follow(actor=request.user, case=case)
    except DomainError as exc:
        messages.error(request, str(exc.message))
    return redirect(request.POST.get("next") or reverse("appeals:case", args=[pk]))


# --- Public ----------------------------------------------------------------------------------


def _board_unit(pk: int) -> Unit:
    unit = Unit.objects.filter(pk=pk, is_active=True).first()
    if unit is None or unit.kind in ("building", "compound", "natural_village", "area"):
        raise Http404
    return unit


def board_index(request: HttpRequest) -> HttpResponse:
    """The public boards: the jurisdiction's cities/counties and their communities."""
    return render_page(request, "appeals/board_index.html", {"groups": selectors.board_directory()})


def board(request: HttpRequest, unit_pk: int) -> HttpResponse:
    """The public board (公示) of a community, village, street, county or city."""
    unit = _board_unit(unit_pk)
    form = BoardFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    page = selectors.public_board(unit=unit, filters=filters, page=request.GET.get("page"))
    return render_page(
        request,
        "appeals/board.html",
        {
            "unit": unit,
            "page": page,
            "form": form,
            "filters": request.GET,
            "summary": selectors.public_summary(unit=unit),
            "sheets": selectors.published_months(community=unit),
        },
        fragment="appeals/_board_rows.html",
    )


def board_print(request: HttpRequest, unit_pk: int) -> HttpResponse:
    """An A4 sheet for the physical bulletin board, with a QR code to the online board.
    ``?month=YYYY-MM`` prints that month's published classification sheet."""
    import segno

    unit = _board_unit(unit_pk)
    month = request.GET.get("month", "")
    record: MonthlyClassification | None = None
    rows: list[Any] = []
    if month:
        year, mon = _parse_month(month)
        record, rows = selectors.published_sheet(community=unit, year=year, month=mon)
        if record is None:
            raise Http404
    else:
        rows = selectors.public_board(unit=unit, filters={}, page=1, size=40).rows
    url = request.build_absolute_uri(reverse("appeals:board", args=[unit.pk]))
    buffer = io.BytesIO()
    segno.make(url, error="m").save(buffer, kind="svg", scale=4, xmldecl=False, svgns=True)
    return render_page(
        request,
        "appeals/board_print.html",
        {
            "unit": unit,
            "rows": rows,
            "record": record,
            "qr_svg": buffer.getvalue().decode(),
            "url": url,
            "printed_at": timeutils.now(),
        },
    )


def receipt(request: HttpRequest) -> HttpResponse:
    """Find a case by its receipt code, without an account; a resolved case entered for
    a resident by staff can be rated here."""
    return _receipt_page(request, request.GET.get("code", ""))


def _receipt_page(
    request: HttpRequest, code: str, rate_form: Any = None, status: int | None = None
) -> HttpResponse:
    row = selectors.receipt_lookup(code) if code else None
    timeline = selectors.public_timeline(row["id"]) if row else []
    if row is not None and rate_form is None and selectors.receipt_rateable(row["id"]):
        rate_form = ReceiptRateForm(initial={"code": row["receipt_code"]})
    if status is None:
        status = 404 if code and row is None else 200
    return render_page(
        request,
        "appeals/receipt.html",
        {
            "code": code,
            "row": row,
            "timeline": timeline,
            # A code typed into the search, or sent with a rating, that names no case;
            # unless the rating was refused before the code was looked at (too many
            # tries), which is then what the page says.
            "not_found": (code or rate_form is not None) and row is None and status != 429,
            "refusal": rate_form.non_field_errors() if row is None and status == 429 else [],
            "rate_form": rate_form if row is not None else None,
        },
        status=status,
    )


def wish_wall(request: HttpRequest) -> HttpResponse:
    page = selectors.wish_wall_rows(page=request.GET.get("page"))
    return render_page(
        request,
        "appeals/wish_wall.html",
        {"page": page, "filters": request.GET, "claimant_kinds": ClaimantKind.choices},
    )


@login_required
@require_POST
def claim(request: HttpRequest, pk: int) -> HttpResponse:
    case = selectors.wish_wall().filter(pk=pk).first()
    if case is None:
        raise Http404
    try:
        wish_claim(
            actor=request.user,
            case=case,
            claimant_kind=request.POST.get("claimant_kind", ""),
            label=request.POST.get("label", ""),
        )
    except DomainError as exc:
        messages.error(request, str(exc.message))
    else:
        messages.success(request, _("认领成功，请尽快帮助实现这个心愿。"))
    return redirect("appeals:wish-wall")


# --- Console ------------------------------------------------------------------------------------


def _console_unit(request: HttpRequest) -> Unit:
    """The unit whose cases the page shows: ``?unit=`` (in scope), else the user's own."""
    raw = request.GET.get("unit") or request.POST.get("unit") or ""
    if raw:
        pk = key_from_text(raw)
        if pk is None:  # "x", "²", 2**70: no unit has that key
            raise Http404
        return get_scoped_or_404(request.user, Unit, pk=pk)
    for grant in grants(request.user):
        unit = anchor_unit(grant)
        if unit is not None:
            return unit
    raise Http404


@login_required
def triage(request: HttpRequest) -> HttpResponse:
    """The triage board: open cases by color and state, filtered with HTMX."""
    require_staff(request)
    unit = _console_unit(request)
    form = BoardFilterForm(request.GET or None, open_first=True)
    filters = form.cleaned_data if form.is_valid() else {}
    if not filters.get("state"):
        filters = {**filters, "state": "open"}  # what the board shows unless told otherwise
    page = selectors.triage_board(
        actor=request.user, unit=unit, filters=filters, page=request.GET.get("page")
    )
    return render_page(
        request,
        "appeals/triage.html",
        {
            "unit": unit,
            "page": page,
            "form": form,
            "filters": request.GET,
            "count_rows": _count_rows(selectors.board_counts(actor=request.user, unit=unit)),
            "now": timeutils.now(),
        },
        fragment="appeals/_triage_rows.html",
    )


def _count_rows(counts: dict[str, dict[str, int]]) -> list[tuple[str, list[tuple[Any, Any]]]]:
    """Open cases per color, then per open state (labels worked out once, not per cell)."""
    states = [(v, label) for v, label in CaseState.choices if v in selectors.OPEN_STATES]
    return [
        (color, [(label, counts.get(color, {}).get(v, 0)) for v, label in states])
        for color in Color.values
    ]


@login_required
def overdue(request: HttpRequest) -> HttpResponse:
    require_staff(request)
    unit = _console_unit(request)
    page = selectors.paginate(
        selectors.overdue_cases(actor=request.user, unit=unit), request.GET.get("page"), 50
    )
    return render_page(
        request,
        "appeals/overdue.html",
        {"unit": unit, "page": page, "filters": request.GET, "now": timeutils.now()},
        fragment="appeals/_triage_rows.html",
    )


@login_required
def queue(request: HttpRequest) -> HttpResponse:
    """The grid member's queue on the phone: the grid's open cases, due first."""
    require_staff(request)
    page = selectors.paginate(selectors.grid_queue(actor=request.user), request.GET.get("page"), 50)
    return render_page(
        request,
        "appeals/queue.html",
        {
            "wishes": selectors.wishes_waiting(actor=request.user)[:50],
            "page": page,
            "filters": request.GET,
            "now": timeutils.now(),
            "has_grid": has_role(request.user, Role.GRID_MEMBER, Role.GRID_LEADER),
        },
    )


def _assignee_choices(case: Case) -> list[Any]:
    users: dict[int, Any] = {}
    if case.grid_id:
        for role in (Role.GRID_MEMBER, Role.GRID_LEADER):
            for a in role_holders(role=role, scope_kind="grid", scope_ids=[case.grid_id]):
                users[a.user_id] = a.user
    for a in role_holders(
        role=Role.COMMUNITY_STAFF, scope_kind="unit", scope_ids=[case.community_id]
    ):
        users[a.user_id] = a.user
    if case.party_org_id:
        for a in role_holders(
            role=Role.PARTY_SECRETARY, scope_kind="party_org", scope_ids=[case.party_org_id]
        ):
            users[a.user_id] = a.user
    return list(users.values())


def _case_actions(user: Any, case: Case) -> list[str]:
    """The actions of the transition table this user may take on the case now."""
    kinds = actor_kinds(user, case)
    return [
        t.action
        for t in TRANSITIONS.values()
        if case.state in t.sources and kinds & t.actors and Actor.SYSTEM not in kinds
    ]


# The fields of the action forms, each with the action whose form shows it (the note is
# on every form).
_ACT_FIELDS: dict[str, str | None] = {
    "assignee": Action.ASSIGN,
    "result": Action.RESOLVE,
    "target": Action.MERGE,
    "note": None,
}


def _act_field_label(action: str, field: str) -> str:
    """The field's label as its form shows it, without the hints in brackets."""
    if field == "note":
        return _("不予受理的理由") if action == Action.REJECT else _("说明")
    return {"assignee": _("承办人"), "result": _("办理结果"), "target": _("合并到的诉求编号")}[
        field
    ]


def _act_refusal(
    request: HttpRequest, actions: list[str], errors: dict[str | None, list[str]]
) -> dict[str, Any]:
    """A refused action: what was typed, the errors of the fields its form shows (put
    next to them), and every error for the top of the page, naming its field."""
    action = request.POST.get("action", "")
    by_field: dict[str, list[str]] = {}
    summary: list[dict[str, str]] = []
    for field, texts in errors.items():
        on_form = (
            action in actions and field in _ACT_FIELDS and _ACT_FIELDS[field] in (None, action)
        )
        for text in texts:
            if field is None or field not in _ACT_FIELDS:
                summary.append({"anchor": "", "text": text})
                continue
            named = _("%(field)s：%(message)s") % {
                "field": _act_field_label(action, field),
                "message": text,
            }
            if on_form:
                by_field.setdefault(field, []).append(text)
            summary.append({"anchor": f"{field}-{action}" if on_form else "", "text": named})
    return {
        "action": action,
        "values": {f: request.POST.get(f, "") for f in _ACT_FIELDS},
        "errors": by_field,
        "summary": summary,
    }


def _render_console_case(
    request: HttpRequest, case: Case, *, refused: dict[str, Any] | None = None, status: int = 200
) -> HttpResponse:
    actions = _case_actions(request.user, case)
    if case.reporter_person_id:
        # The reporter's name and masked phone are personal data shown to staff.
        audit_record(
            action=AuditAction.REVEAL,
            actor=request.user,
            obj=case,
            request=request,
            detail={"shown": "reporter name, masked phone"},
        )
    action_forms = [
        {"action": a, "label": Action(a).label, "values": {}, "errors": {}} for a in actions
    ]
    for f in action_forms:
        if refused and refused["action"] == f["action"]:
            f.update(values=refused["values"], errors=refused["errors"])
    household, household_page = selectors.case_household(actor=request.user, case=case)
    return render_page(
        request,
        "appeals/console_case.html",
        {
            "case": case,
            "household": household,
            "household_page": household_page,
            "events": selectors.case_timeline(case=case),
            "actions": action_forms,
            "error_summary": refused["summary"] if refused else [],
            "assignees": _assignee_choices(case) if Action.ASSIGN in actions else [],
            "tasks": case.tasks.select_related("department"),
            "departments": selectors.task_departments(actor=request.user, case=case),
            "photos": case.photos.all(),
            "duplicates": [
                d
                for d in selectors.duplicates_near(
                    category=case.category,
                    lat=case.lat,
                    lng=case.lng,
                    unit=case.compound or case.community,
                )
                if d["id"] != case.pk
            ]
            if case.is_open
            else [],
        },
        status=status,
    )


@login_required
def console_case(request: HttpRequest, pk: int) -> HttpResponse:
    """A case for staff: everything, its full history and the actions the user may take."""
    require_staff(request)
    return _render_console_case(request, selectors.case_detail(actor=request.user, pk=pk))


@login_required
@require_POST
def console_act(request: HttpRequest, pk: int) -> HttpResponse:
    """Take an action on a case; success redirects back to the case. A refusal shows the
    case page again (400, or the refusal's own status such as 409) with each error
    next to its field and named at the top, and what was typed kept."""
    require_staff(request)
    case = selectors.case_detail(actor=request.user, pk=pk)
    form = TransitionForm(request.POST)
    errors: dict[str | None, list[str]] = {}
    status = 400
    if not form.is_valid():
        for field, texts in form.errors.items():
            if field in _ACT_FIELDS:
                errors.setdefault(field, []).extend(str(t) for t in texts)
            else:
                errors[None] = [_("提交的内容不完整。")]
    else:
        data = form.cleaned_data
        try:
            case_transition(
                actor=request.user,
                case=case,
                action=data["action"],
                version=data["version"],
                note=data["note"],
                result=data["result"],
                assignee=data["assignee"],
                target=data["target"],
                request=request,
            )
        except DomainError as exc:
            status = exc.status_code
            if isinstance(exc, ValidationError):
                for name, refusals in exc.errors.items():
                    errors.setdefault(name, []).extend(str(t) for t in refusals)
            else:
                errors[None] = [str(exc.message)]
        else:
            messages.success(
                request, _("已%(action)s。") % {"action": Action(data["action"]).label}
            )
            return redirect("appeals:console-case", pk=pk)
    # Read again: the action may have been refused because the case moved on meanwhile.
    case = selectors.case_detail(actor=request.user, pk=pk)
    refused = _act_refusal(request, _case_actions(request.user, case), errors)
    return _render_console_case(request, case, refused=refused, status=status)


@login_required
def intake(request: HttpRequest) -> HttpResponse:
    """Staff enter a case for a resident (hotline, visit, suggestion box, WeChat group);
    the resident gets the receipt code."""
    require_staff(request)
    places = selectors.console_places(actor=request.user)
    # For a household (?household= from a household page): it must be one the user sees.
    household = selectors.intake_household(
        actor=request.user, raw=request.POST.get("household") or request.GET.get("household")
    )
    form = ProxyForm(
        request.POST or None,
        request.FILES or None,
        places=places,
        initial={"household": household.pk, "channel": Channel.VISIT} if household else {},
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        unit = next((u for u in places if u.pk == data["unit"]), None)
        try:
            if data["household"] and household is None:
                raise ValidationError(_("住户不存在。"), field="household")
            case = case_submit(
                actor=request.user,
                kind=data["kind"],
                category=data["category"],
                channel=data["channel"],
                text=data["text"],
                unit=None if household else unit,
                household=household,
                reporter_person=household.head if household else None,
                lat=data["lat"],
                lng=data["lng"],
                idempotency_key=data["idempotency_key"],
                photos=[data["photo"]] if data["photo"] else [],
                reporter_phone=data["reporter_phone"],
            )
        except DomainError as exc:
            _form_errors(form, exc)
        else:
            messages.success(
                request, _("已登记，请把回执码 %(code)s 告诉居民。") % {"code": case.receipt_code}
            )
            return redirect("appeals:console-case", pk=case.pk)
    return render_page(
        request,
        "appeals/intake.html",
        {
            "form": form,
            "household": household,
            "tile_url": _tile_url(),
            "map_places": _map_places(places),
        },
        status=400 if form.is_bound and form.errors else 200,
    )


def _parse_month(value: str) -> tuple[int, int]:
    try:
        moment = dt.datetime.strptime(value, "%Y-%m")
    except ValueError:
        raise Http404 from None
    # A month whose bounds the calendar can hold (9999-12 has no month after it).
    if not timeutils.plausible_day(moment.date()):
        raise Http404
    return moment.year, moment.month


@login_required
def month(request: HttpRequest) -> HttpResponse:
    """Month-end classification: the month's cases, colors confirmed or changed in bulk."""
    require_staff(request)
    unit = _console_unit(request)
    if unit.kind not in GRASSROOTS_KINDS:
        # A street, district or city: pick the community or village to classify.
        choices = (
            scoped(request.user, Unit)
            .filter(unit.subtree_q(), kind__in=sorted(GRASSROOTS_KINDS), is_active=True)
            .order_by("path")[:500]
        )
        return render_page(
            request, "appeals/month_choose.html", {"unit": unit, "choices": list(choices)}
        )
    if not can_supervise_unit(request.user, unit):
        raise Http404
    today = timeutils.local_today()
    default = (today.replace(day=1) - dt.timedelta(days=1)) if today.day < 20 else today
    value = request.GET.get("month") or request.POST.get("month") or f"{default:%Y-%m}"
    year, mon = _parse_month(value)
    cases = list(selectors.month_cases(community=unit, year=year, month=mon)[:2000])
    record = MonthlyClassification.objects.filter(
        community=unit, month=dt.date(year, mon, 1)
    ).first()
    error = ""
    if request.method == "POST":
        try:
            if request.POST.get("publish") and record is not None:
                month_publish(actor=request.user, classification=record)
                messages.success(request, _("已公示。"))
            else:
                colors = {
                    c.pk: request.POST.get(f"color-{c.pk}", c.color)
                    for c in cases
                    if request.POST.get(f"color-{c.pk}", c.color) != c.color
                }
                month_classify(
                    actor=request.user, community=unit, year=year, month=mon, colors=colors
                )
                messages.success(request, _("月末分类已确认。"))
        except DomainError as exc:
            error = str(exc.message)
        else:
            return redirect(f"{reverse('appeals:month')}?unit={unit.pk}&month={value}")
    return render_page(
        request,
        "appeals/month.html",
        {
            "unit": unit,
            "cases": cases,
            "record": record,
            "month": value,
            "colors": Color.choices,
            "error": error,
            "history": selectors.classifications(community=unit)[:12],
        },
        status=409 if error else 200,
    )


@login_required
def joint(request: HttpRequest) -> HttpResponse:
    """Joint (会办) cases for the party organization and the levels above; tasks for
    department staff."""
    require_staff(request)
    is_department = bool(department_ids(request.user))
    tasks = selectors.department_tasks(actor=request.user, state=request.GET.get("state", ""))
    cases = selectors.paginate(
        selectors.joint_cases(actor=request.user), request.GET.get("page"), 30
    )
    return render_page(
        request,
        "appeals/joint.html",
        {
            "is_department": is_department,
            "tasks": tasks[:200] if is_department else [],
            "page": cases,
            "tasks_of": selectors.tasks_of(cases.rows),
            "filters": request.GET,
        },
    )


@login_required
@require_POST
def task_reply(request: HttpRequest, pk: int) -> HttpResponse:
    require_staff(request)
    try:
        joint_task_reply(actor=request.user, task_id=pk, reply=request.POST.get("reply", ""))
    except DomainError as exc:
        if exc.status_code == 404:
            raise Http404 from None
        messages.error(request, str(exc.message))
    else:
        messages.success(request, _("已答复。"))
    return redirect("appeals:joint")


__all__ = ["CaseKind", "JointTask"]


@login_required
def notifications(request: HttpRequest) -> HttpResponse:
    """The user's in-app notifications, newest first; POST marks them all read."""
    if request.method == "POST":
        notifications_mark_read(actor=request.user)
        return redirect("appeals:notifications")
    page = selectors.paginate(
        selectors.my_notifications(actor=request.user), request.GET.get("page"), 50
    )
    base = "web/console_base.html" if is_staff_user(request.user) else "web/base.html"
    # "Mark all read" is offered only when there is something to mark.
    unread = selectors.my_notifications(actor=request.user).filter(read_at__isnull=True)
    return render_page(
        request,
        "appeals/notifications.html",
        {"page": page, "filters": request.GET, "base": base, "has_unread": unread.exists()},
    )


@login_required
@require_POST
def wish_take_up(request: HttpRequest, pk: int) -> HttpResponse:
    """Turn a wish logged on a visit into a wish case (once)."""
    require_staff(request)
    from doorstep.grids.models import Wish

    wish = get_scoped_or_404(request.user, Wish, pk=pk)
    try:
        case = wish_to_case(actor=request.user, wish=wish)
    except DomainError as exc:
        messages.error(request, str(exc.message))
        return redirect("appeals:queue")
    messages.success(request, _("心愿已登记，回执码 %(code)s。") % {"code": case.receipt_code})
    return redirect("appeals:queue")


@login_required
@require_POST
def task_add(request: HttpRequest, pk: int) -> HttpResponse:
    """The party organization brings a department into a red case (会办)."""
    require_staff(request)
    case = selectors.case_detail(actor=request.user, pk=pk)
    raw = request.POST.get("department", "")
    department = get_scoped_or_404(request.user, Department, pk=int(raw)) if raw.isdigit() else None
    try:
        if department is None:
            raise ValidationError(_("请选择部门。"), field="department")
        joint_task_add(
            actor=request.user,
            case=case,
            department=department,
            is_lead=bool(request.POST.get("is_lead")),
            instructions=request.POST.get("instructions", ""),
        )
    except DomainError as exc:
        messages.error(request, str(exc.message))
    else:
        messages.success(request, _("已交部门会办。"))
    return redirect("appeals:console-case", pk=pk)


# --- Console: disputes, suggestions, categories ----------------------------------------------


def _period(request: HttpRequest) -> tuple[PeriodForm, dt.datetime, dt.datetime]:
    """The period asked for (local dates, both ends included), this year by default."""
    form = PeriodForm(request.GET or None)
    today = timeutils.local_today()
    start_day, end_day = today.replace(month=1, day=1), today
    if form.is_valid():
        start_day = form.cleaned_data.get("start") or start_day
        end_day = form.cleaned_data.get("end") or end_day
        if start_day > end_day:
            start_day = end_day
    tz = timeutils.LOCAL_TZ
    start = dt.datetime.combine(start_day, dt.time.min, tzinfo=tz)
    end = dt.datetime.combine(end_day + dt.timedelta(days=1), dt.time.min, tzinfo=tz)
    if not form.is_bound:
        form = PeriodForm(initial={"start": start_day, "end": end_day})
    return form, start, end


@login_required
def disputes(request: HttpRequest) -> HttpResponse:
    """Disputes (纠纷) of a unit: their mediation, and those resolved in a period."""
    require_staff(request)
    unit = _console_unit(request)
    period_form, start, end = _period(request)
    outcome = request.GET.get("outcome", "")
    page = selectors.paginate(
        selectors.dispute_list(actor=request.user, unit=unit, outcome=outcome),
        request.GET.get("page"),
        50,
    )
    concluded = selectors.disputes_concluded(actor=request.user, unit=unit, start=start, end=end)
    return render_page(
        request,
        "appeals/disputes.html",
        {
            "unit": unit,
            "page": page,
            "filters": request.GET,
            "outcome": outcome,
            "outcomes": [("none", _("未安排调解")), *MediationOutcome.choices],
            "period_form": period_form,
            "start": start,
            "end": end - dt.timedelta(days=1),
            "figures": selectors.disputes_resolved(
                actor=request.user, unit=unit, start=start, end=end
            ),
            "months": selectors.disputes_by_month(
                actor=request.user, unit=unit, start=start, end=end
            ),
            "concluded": concluded[:200],
        },
        status=400 if period_form.is_bound and period_form.errors else 200,
    )


def _mediator_from(request: HttpRequest, form: Any, choices: list[Any]) -> dict[str, Any]:
    """The mediator the form names: an account typed in, a registry resident typed in,
    or one of the listed staff."""
    from doorstep.accounts.models import User

    data = form.cleaned_data
    typed = [name for name in ("mediator_username", "mediator_person") if data.get(name)]
    if len(typed) > 1:
        raise ValidationError(
            _("调解员只能选一位：账号或居民，不能两者都填。"), field="mediator_person"
        )
    if data.get("mediator_username"):
        user = User.objects.filter(username=data["mediator_username"].strip(), is_active=True)
        found = user.first()
        if found is None:
            raise ValidationError(_("没有这个账号。"), field="mediator_username")
        return {"mediator": found}
    if data.get("mediator_person"):
        person = selectors.mediator_person_lookup(actor=request.user, text=data["mediator_person"])
        return {"mediator_person": person}
    return {"mediator": next((u for u in choices if u.pk == data.get("mediator")), None)}


@login_required
def dispute(request: HttpRequest, pk: int) -> HttpResponse:
    """One dispute: assign the mediator (和事佬), log sessions with the parties, record
    the outcome and the agreement text."""
    require_staff(request)
    case, mediation = selectors.mediation_detail(actor=request.user, case_pk=pk)
    mediators = selectors.mediator_choices(case=case)
    assign_form = MediatorForm(
        initial={
            "mediator": mediation.mediator_id if mediation else None,
            "parties": mediation.parties if mediation else "",
        },
        mediators=mediators,
    )
    session_form = SessionForm()
    conclude_form = ConcludeForm()
    status = 200
    if request.method == "POST":
        step = request.POST.get("step", "")
        if step == "session":
            session_form = SessionForm(request.POST)
        elif step == "conclude":
            conclude_form = ConcludeForm(request.POST)
        else:
            assign_form = MediatorForm(request.POST, mediators=mediators)
        target = {"session": session_form, "conclude": conclude_form}.get(step, assign_form)
        try:
            if step != "assign" and mediation is None:
                messages.error(request, _("请先安排调解员。"))
            elif step == "assign":
                if assign_form.is_valid():
                    mediation_assign(
                        actor=request.user,
                        case=case,
                        parties=assign_form.cleaned_data["parties"],
                        **_mediator_from(request, assign_form, mediators),
                    )
                    messages.success(request, _("已安排调解员。"))
                    return redirect("appeals:dispute", pk=pk)
            elif step == "session" and mediation is not None:
                if session_form.is_valid():
                    data = session_form.cleaned_data
                    mediation_session_log(
                        actor=request.user,
                        mediation=mediation,
                        held_at=data["held_at"],
                        place=data["place"],
                        attendees=data["attendees"],
                        notes=data["notes"],
                    )
                    messages.success(request, _("已登记调解会。"))
                    return redirect("appeals:dispute", pk=pk)
            elif step == "conclude" and mediation is not None:
                if conclude_form.is_valid():
                    mediation_conclude(
                        actor=request.user,
                        mediation=mediation,
                        outcome=conclude_form.cleaned_data["outcome"],
                        agreement=conclude_form.cleaned_data["agreement"],
                    )
                    messages.success(request, _("已登记调解结果。"))
                    return redirect("appeals:dispute", pk=pk)
            else:
                raise ValidationError(_("未知的操作。"), field="step")
        except DomainError as exc:
            target.is_valid()
            _form_errors(target, exc)
            status = exc.status_code
        else:
            status = 400
    return render_page(
        request,
        "appeals/dispute.html",
        {
            "case": case,
            "mediation": mediation,
            "sessions": mediation.sessions.all() if mediation else [],
            "assign_form": assign_form,
            "session_form": session_form,
            "conclude_form": conclude_form,
            "pending": mediation is None or mediation.outcome == MediationOutcome.PENDING,
        },
        status=status,
    )


@login_required
def suggestions(request: HttpRequest) -> HttpResponse:
    """Suggestions (金点子) of a unit: how many were collected, adopted and solved a
    problem in a period, and each one to mark adopted or not."""
    require_staff(request)
    unit = _console_unit(request)
    period_form, start, end = _period(request)
    adopted = request.GET.get("adopted", "")
    status = 200
    errors: dict[int, str] = {}
    if request.method == "POST":
        raw = request.POST.get("case", "")
        case = selectors.case_detail(actor=request.user, pk=int(raw)) if raw.isdigit() else None
        if case is None:
            raise Http404
        form = SuggestionMarkForm(request.POST)
        try:
            if not form.is_valid():
                field, problems = next(iter(form.errors.items()))
                raise ValidationError(str(problems[0]), field=field)
            suggestion_mark(
                actor=request.user,
                case=case,
                version=form.cleaned_data["version"],
                adopted=form.cleaned_data["adopted"],
                problem_solved=form.cleaned_data["problem_solved"],
                note=form.cleaned_data["note"],
            )
        except DomainError as exc:
            errors[case.pk] = str(exc.message)
            status = exc.status_code
        else:
            messages.success(request, _("已标记。"))
            return redirect(f"{reverse('appeals:suggestions')}?{request.GET.urlencode()}")
    page = selectors.paginate(
        selectors.suggestion_list(actor=request.user, unit=unit, adopted=adopted),
        request.GET.get("page"),
        50,
    )
    return render_page(
        request,
        "appeals/suggestions.html",
        {
            "unit": unit,
            "page": page,
            "filters": request.GET,
            "adopted": adopted,
            "adopted_choices": [
                ("pending", _("待定")),
                ("yes", _("已采纳")),
                ("no", _("未采纳")),
                ("solved", _("解决了问题")),
            ],
            "period_form": period_form,
            "start": start,
            "end": end - dt.timedelta(days=1),
            "figures": selectors.suggestion_figures(
                actor=request.user, unit=unit, start=start, end=end
            ),
            "total": selectors.suggestion_figures(actor=request.user, unit=unit),
            "errors": errors,
            "can_mark": can_supervise_unit(request.user, unit),
        },
        status=status,
    )


def _require_category_editor(request: HttpRequest) -> None:
    require_staff(request)
    if not can_edit_categories(request.user):
        raise Http404


def _category_fields(data: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": data["name"],
        "description": data["description"],
        "default_color": data["default_color"],
        "default_level": data["default_level"],
        "deadline_hours": data["deadline_hours"],
        "lead_department_kind": data["lead_department_kind"],
        "order": data["order"],
    }


@login_required
def categories(request: HttpRequest) -> HttpResponse:
    """The category tree: each category's color, level and deadline; add one."""
    _require_category_editor(request)
    tree = selectors.category_tree()
    parents = [top for top, _children in tree if top.is_active]
    form = CategoryForm(request.POST or None, parents=parents)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        parent = next((p for p in parents if p.pk == data["parent"]), None)
        try:
            made = category_create(
                actor=request.user, code=data["code"], parent=parent, **_category_fields(data)
            )
        except DomainError as exc:
            _form_errors(form, exc)
        else:
            messages.success(request, _("已新增类别“%(name)s”。") % {"name": made.name})
            return redirect("appeals:categories")
    return render_page(
        request,
        "appeals/categories.html",
        {"tree": tree, "form": form, "sla_defaults": _sla_defaults()},
        status=400 if form.is_bound and form.errors else 200,
    )


def _sla_defaults() -> list[tuple[str, int]]:
    from .conf import conf

    hours = conf("SLA_HOURS")
    return [(str(label), hours[value]) for value, label in Color.choices]


@login_required
def category_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Rename a category, set its color, level and deadline, or (de)activate it."""
    _require_category_editor(request)
    category = Category.objects.select_related("parent").filter(pk=pk).first()
    if category is None:
        raise Http404
    initial = {
        "code": category.code,
        "name": category.name,
        "parent": category.parent_id,
        "description": category.description,
        "default_color": category.default_color,
        "default_level": category.default_level,
        "deadline_hours": category.deadline_hours or "",
        "lead_department_kind": category.lead_department_kind,
        "order": category.order,
        "is_active": category.is_active,
    }
    parents = [category.parent] if category.parent else []
    form = CategoryForm(request.POST or None, initial=initial, parents=parents)
    form.fields["code"].disabled = True
    form.fields["parent"].disabled = True
    if request.method == "POST" and form.is_valid():
        try:
            category_update(
                actor=request.user,
                category=category,
                is_active=form.cleaned_data["is_active"],
                **_category_fields(form.cleaned_data),
            )
        except DomainError as exc:
            _form_errors(form, exc)
        else:
            messages.success(request, _("已保存。"))
            return redirect("appeals:category-edit", pk=pk)
    return render_page(
        request,
        "appeals/category_edit.html",
        {
            "category": category,
            "form": form,
            "history": selectors.category_history(category=category),
        },
        status=400 if form.is_bound and form.errors else 200,
    )


# --- Rating with the receipt code ------------------------------------------------------------

RECEIPT_RATE_PER_HOUR = 30


def _receipt_throttled(request: HttpRequest) -> bool:
    """At most RECEIPT_RATE_PER_HOUR attempts an hour from one address (in the shared
    cache; the per-case lock in the service holds whatever the cache)."""
    from doorstep.core.net import client_ip
    from doorstep.core.ratelimit import exceeded

    key = f"appeals:receipt-rate:{client_ip(request) or 'unknown'}"
    return exceeded(key, RECEIPT_RATE_PER_HOUR, 3600)


@require_POST
def receipt_rate(request: HttpRequest) -> HttpResponse:
    """A resident without an account rates a resolved case: receipt code and the last
    four digits of the phone given at intake."""
    form = ReceiptRateForm(request.POST)
    code = request.POST.get("code", "")
    status = 400
    if _receipt_throttled(request):
        form.is_valid()
        form.add_error(None, _("尝试次数过多，请一小时后再试。"))
        status = 429
    elif form.is_valid():
        data = form.cleaned_data
        try:
            case_rate_by_receipt(
                code=data["code"],
                phone_last4=data["phone_last4"],
                score=data["score"],
                comment=data["comment"],
                request=request,
            )
        except DomainError as exc:
            _form_errors(form, exc)
            status = exc.status_code
        else:
            messages.success(request, _("感谢您的评价。"))
            return redirect(f"{reverse('appeals:receipt')}?code={code.strip().upper()}")
    return _receipt_page(request, code, rate_form=form, status=status)
