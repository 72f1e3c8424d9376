"""The registry's import page (upload, error report, result), its templates, and the
.xlsx export of a registry search. Views call the importer, the exporter and the
selectors; scope and permission checks live there."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from doorstep.accounts.rules import is_staff_user
from doorstep.accounts.scoping import scoped
from doorstep.core.errors import PermissionDenied, ValidationError
from doorstep.core.pages import render_page, xlsx_response
from doorstep.orgs.choices import GRASSROOTS_KINDS
from doorstep.orgs.models import Unit

from .exporting import export_filename, persons_export_xlsx
from .importing import ImportKind, ImportReport, import_template, max_bytes, registry_import
from .rules import can_edit_registry, can_reveal
from .selectors import person_search

UNIT_LIMIT = 500
SESSION_KEY = "people_import_report"


class ImportForm(forms.Form):
    kind = forms.ChoiceField(label=gettext_lazy("导入内容"), choices=ImportKind.choices)
    unit = forms.IntegerField(label=gettext_lazy("社区/村"), widget=forms.Select)
    file = forms.FileField(
        label=gettext_lazy("文件（.xlsx 或 .csv）"),
        widget=forms.ClearableFileInput(attrs={"accept": ".xlsx,.csv"}),
    )

    def __init__(self, *args: Any, units: list[Unit], **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["unit"].widget.choices = [(u.pk, u.name) for u in units]


def _importer(request: HttpRequest) -> None:
    """The page exists only for those who may edit the registry."""
    if not can_edit_registry(request.user):
        raise Http404


@login_required
@require_http_methods(["GET", "POST"])
def import_page(request: HttpRequest) -> HttpResponse:
    _importer(request)
    units = list(
        scoped(request.user, Unit)
        .filter(kind__in=GRASSROOTS_KINDS, is_active=True)
        .only("id", "name", "path")
        .order_by("path")[:UNIT_LIMIT]
    )
    report: ImportReport | None = None
    status = 200
    if request.method == "POST":
        form = ImportForm(request.POST, request.FILES, units=units)
        if form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                report = registry_import(
                    actor=request.user,
                    unit_id=form.cleaned_data["unit"],
                    kind=form.cleaned_data["kind"],
                    source=upload,
                    request=request,
                )
            except ValidationError as exc:
                form.add_error(exc.field if exc.field in form.fields else None, str(exc.message))
            except PermissionDenied:
                raise Http404 from None
            else:
                if report.ok:
                    request.session[SESSION_KEY] = report.as_dict()
                    return redirect(f"{request.path}?done=1")
                status = 422
    else:
        form = ImportForm(units=units, initial={"kind": request.GET.get("kind", "persons")})
        if request.GET.get("done") and SESSION_KEY in request.session:
            report = ImportReport.from_dict(request.session.pop(SESSION_KEY))
    return render_page(
        request,
        "people/import.html",
        {
            "form": form,
            "report": report,
            "kinds": ImportKind.choices,
            "max_mb": max_bytes() // (1024 * 1024),
        },
        fragment="people/_import_report.html",
        status=status,
    )


@login_required
@require_GET
def import_template_download(request: HttpRequest, kind: str) -> HttpResponse:
    _importer(request)
    if kind not in ImportKind.values:
        raise Http404
    return xlsx_response(import_template(kind), f"import-{kind}.xlsx")


@login_required
@require_GET
def export_xlsx(request: HttpRequest) -> HttpResponse:
    """The registry search (?q=&tag=&age_group=&within=&party=&status=) as .xlsx;
    ?reveal=1 asks for full numbers, which only roles that may reveal get."""
    if not is_staff_user(request.user):
        raise Http404
    params = request.GET
    within_raw = params.get("within", "").strip()
    try:
        within = int(within_raw) if within_raw else None
    except ValueError:
        raise Http404 from None
    party = {"1": True, "yes": True, "0": False, "no": False}.get(params.get("party", ""))
    tags = [t for t in params.getlist("tag") if t]
    status = params.get("status", "") or "current"
    try:
        qs = person_search(
            actor=request.user,
            q=params.get("q", "").strip(),
            tags=tags,
            age_group=params.get("age_group", ""),
            within=within,
            party=party,
            status=status,
        )
    except ValidationError as exc:
        return HttpResponse(str(exc.message), status=400, content_type="text/plain; charset=utf-8")
    reveal = params.get("reveal") == "1"
    if reveal and not can_reveal(request.user):
        reveal = False  # masked, as for everyone who may not reveal; the file says so
    filters = {
        "has_query": bool(params.get("q", "").strip()),
        "tags": tags,
        "age_group": params.get("age_group", ""),
        "within": within,
        "party": party,
        "status": status,
    }
    content = persons_export_xlsx(
        actor=request.user, queryset=qs, reveal=reveal, request=request, filters=filters
    )
    return xlsx_response(content, export_filename(reveal=reveal))


__all__ = ["export_xlsx", "import_page", "import_template_download"]
