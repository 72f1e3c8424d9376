"""The registry pages for staff (search, person, household, party members, mobile party
members) and a resident's own record. Views call selectors and services, nothing else."""

from __future__ import annotations

import functools
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ObjectDoesNotExist
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from doorstep.accounts.models import AuditAction
from doorstep.accounts.roles import PLACE_LEADER_ROLES, Role
from doorstep.accounts.scoping import has_role, roles_of, rule_for, scoped
from doorstep.core.errors import DomainError, PermissionDenied, ValidationError
from doorstep.core.inputs import key_from_text
from doorstep.core.pages import render_page
from doorstep.orgs.models import Unit

from .choices import CHILD_AGE, Gender, LeftReason, Relation
from .forms import (
    DeletionConfirmForm,
    OwnRecordForm,
    PersonEditForm,
    PersonLeaveForm,
    PersonMoveForm,
    PersonRegisterForm,
    RegistrySearchForm,
    ReinstateForm,
    RevealForm,
)
from .models import Person
from .rules import can_edit_registry, can_reveal
from .selectors import (
    RegistryPaginator,
    address_choices,
    count_limit,
    empty_household_list,
    guardian_choices,
    household_at_address,
    household_detail,
    mobile_registration_counts,
    mobile_registration_list,
    own_person,
    party_member_counts,
    party_member_list,
    person_detail,
    person_history,
    person_search,
    registry_summary,
    tag_label_map,
    with_list_relations,
)
from .services import (
    household_close,
    person_leave,
    person_move,
    person_pseudonymize,
    person_register,
    person_reinstate,
    person_reveal,
    person_update,
    person_update_own,
    person_version,
)

FILTER_UNIT_KINDS = ("community", "village", "compound", "natural_village")
FILTER_UNIT_LIMIT = 300


def _registry_staff(request: HttpRequest) -> None:
    """The registry is for staff whose role sees persons; for anyone else it does not
    exist (404), residents included."""
    roles = roles_of(request.user) - {Role.RESIDENT}
    if not any(rule_for(Person, role) for role in roles):
        raise Http404


def _with_ages(persons: Any, today: Any) -> None:
    """Ages are computed from the birth date on each read, never stored (the age at
    death for someone deceased)."""
    for person in persons:
        person.display_age = person.age_shown(today)


@login_required
def registry(request: HttpRequest) -> HttpResponse:
    _registry_staff(request)
    units = list(
        scoped(request.user, Unit)
        .filter(kind__in=FILTER_UNIT_KINDS)
        .only("id", "name", "path")
        .order_by("path")[:FILTER_UNIT_LIMIT]
    )
    today = timezone.localdate()
    form = RegistrySearchForm(request.GET or None, units=units)
    error = ""
    page = None
    within = None
    if form.is_bound and not form.is_valid():
        error = " ".join(str(m) for errors in form.errors.values() for m in errors)
    else:
        data = form.cleaned_data if form.is_bound else {}
        within = data.get("within")
        search = functools.partial(
            person_search,
            actor=request.user,
            q=data.get("q", ""),
            tags=data.get("tag") or (),
            age_group=data.get("age_group", ""),
            within=within,
            party=form.party_filter() if form.is_bound else None,
            status=data.get("status") or "current",
        )
        try:
            qs = search()
            count_qs = search(for_count=True)
        except ValidationError as exc:
            error = str(exc.message)
        else:
            size = data.get("page_size") or 50
            paginator = RegistryPaginator(
                with_list_relations(qs),
                size,
                count_queryset=count_qs,
                limit=count_limit(request.user, within),
            )
            page = paginator.get_page(request.GET.get("page"))
            _with_ages(page, today)
    context: dict[str, Any] = {
        "form": form,
        "page": page,
        "error": error,
        "may_edit": can_edit_registry(request.user),
        "may_reveal": can_reveal(request.user),
    }
    htmx = getattr(request, "htmx", None)
    if not (htmx and not htmx.boosted):
        context["summary"] = registry_summary(actor=request.user, within=within)
    return render_page(
        request, "people/registry.html", context, fragment="people/_person_rows.html"
    )


@login_required
def person_page(request: HttpRequest, pk: int) -> HttpResponse:
    _registry_staff(request)
    person = person_detail(actor=request.user, person_id=pk)
    today = timezone.localdate()
    _with_ages([person], today)
    age_groups = [
        label
        for label, applies in (
            (_("60岁及以上"), person.is_elderly),
            (_("14岁以下"), person.is_child),
        )
        if applies(today)
    ]
    try:
        party_member = person.party_member
    except ObjectDoesNotExist:
        party_member = None
    return render(
        request,
        "people/person_detail.html",
        {
            "person": person,
            "age_groups": age_groups,
            "party_member": party_member,
            "may_reveal": can_reveal(request.user),
            "may_edit": can_edit_registry(request.user) and person.pseudonymized_at is None,
            "version": person_version(person),
            "history": _history_lines(person_history(person=person)),
        },
    )


def _field_labels() -> dict[str, str]:
    return {
        "name": _("姓名"),
        "gender": _("性别"),
        "birth_date": _("出生日期"),
        "id_number": _("身份证号"),
        "phone": _("电话"),
        "relation": _("与户主关系"),
        "guardian": _("监护人"),
        "tags": _("标签"),
    }


def _shown(field: str, value: Any) -> str:
    if field == "relation":
        return str(Relation(value).label) if value in Relation.values else "—"
    if field == "gender":
        return str(Gender(value).label) if value in Gender.values else "—"
    return str(value) if value not in ("", None) else "—"


def _history_lines(events: list[Any], *, reader: Any = None) -> list[dict[str, Any]]:
    """Each change to a record in words: what changed, from what to what. Numbers were
    written to the log masked, and are shown so. For the resident reading their own
    record (``reader``), the staff are named by their office, not their account."""
    labels = _field_labels()
    tag_labels = tag_label_map()
    lines = []
    for event in events:
        detail = event.detail or {}
        parts: list[str] = []
        if event.action == AuditAction.PERSON_REGISTERED:
            parts.append(_("登记于 %(address)s") % {"address": detail.get("address", "—")})
            if detail.get("household_created"):
                parts.append(_("新建住户"))
        elif event.action == AuditAction.PERSON_MOVED:
            parts.append(f"{detail.get('from', '—')} → {detail.get('to', '—')}")
        elif event.action in (AuditAction.PERSON_LEFT, AuditAction.PERSON_REINSTATED):
            if event.action == AuditAction.PERSON_REINSTATED:
                parts.append(_("撤销"))
            reason = detail.get("reason", "")
            parts.append(
                f"{detail.get('on', '—')} "
                f"{LeftReason(reason).label if reason in LeftReason.values else '—'}"
            )
            if detail.get("note"):
                parts.append(detail["note"])
            if detail.get("relation"):
                parts.append(_("该户已有新户主，与户主关系改为空"))
        elif event.action == AuditAction.PERSON_CHANGED:
            if detail.get("by") == "self":
                parts.append(_("本人修改"))
            for field in detail.get("changed", []):
                value = detail.get(field)
                if field == "tags" and isinstance(value, dict):
                    signs = [f"+{tag_labels.get(c, c)}" for c in value.get("added", [])]
                    signs += [f"−{tag_labels.get(c, c)}" for c in value.get("removed", [])]
                    parts.append(
                        _("%(field)s（%(change)s）")
                        % {"field": labels["tags"], "change": " ".join(signs)}
                    )
                elif isinstance(value, list) and len(value) == 2 and field != "guardian":
                    old, new = (_shown(field, v) for v in value)
                    parts.append(
                        _("%(field)s（%(change)s）")
                        % {"field": labels.get(field, field), "change": f"{old} → {new}"}
                    )
                else:
                    parts.append(str(labels.get(field, field)))
        lines.append(
            {
                "at": event.at,
                "who": (
                    (_("本人") if event.actor_id == reader.pk else _("社区工作人员"))
                    if reader is not None
                    else _staff_name(event)
                ),
                "action": event.get_action_display(),
                "text": pgettext("list separator", "；").join(parts),
            }
        )
    return lines


def _staff_name(event: Any) -> str:
    """Who did it, as colleagues know them: the account's display name and username."""
    actor = event.actor
    if actor is None:
        return event.actor_username or "—"
    name = getattr(actor, "display_name", "") or ""
    username = actor.get_username()
    return _("%(name)s（%(note)s）") % {"name": name, "note": username} if name else username


def _registry_editor(request: HttpRequest) -> None:
    """The registry's forms are for the roles that keep it; the others (who may read it)
    do not see them, and reach none (404)."""
    _registry_staff(request)
    if not can_edit_registry(request.user):
        raise Http404


def _record_on_register(request: HttpRequest, pk: int) -> Person | None:
    """The record a correction, a move or a leaving starts from: erased ones do not
    exist (404); for one off the register the caller sends the staff back to the record,
    which says so and offers to reinstate it (None)."""
    person = person_detail(actor=request.user, person_id=pk)
    if person.pseudonymized_at is not None:
        raise Http404
    if person.left_on is not None:
        messages.info(request, _("该人员已不在册：如登记有误，请先恢复在册。"))
        return None
    return person


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def person_new(request: HttpRequest) -> HttpResponse:
    """Register a person at an address: the household there, or a new one. From a
    household's page the address is filled in (``?household=``) and its members are the
    guardians offered."""
    _registry_editor(request)
    household = None
    if (household_id := key_from_text(request.GET.get("household", ""))) is not None:
        household = household_detail(actor=request.user, household_id=household_id).household
    # The guardians offered are the members of the household at the address: the one
    # the page came from, or, once posted, the one at the address typed.
    at = household
    if request.method == "POST":
        at = household_at_address(
            actor=request.user,
            unit_id=request.POST.get("unit"),
            entrance=request.POST.get("entrance", ""),
            room=request.POST.get("room", ""),
        )
    choices = {
        "units": address_choices(actor=request.user, include=household.unit if household else None),
        "guardians": guardian_choices(actor=request.user, household=at),
    }
    initial = (
        {"unit": household.unit_id, "entrance": household.entrance, "room": household.room}
        if household is not None
        else {"relation": "head"}
    )
    form = PersonRegisterForm(initial=initial, **choices)
    status = 200
    if request.method == "POST":
        form = PersonRegisterForm(request.POST, **choices)
        status = 400
        if form.is_valid():
            data = form.cleaned_data
            try:
                person = person_register(
                    actor=request.user,
                    unit_id=data["unit"],
                    entrance=data["entrance"],
                    room=data["room"],
                    relation=data["relation"],
                    name=data["name"],
                    id_number=data["id_number"],
                    phone=data["phone"],
                    gender=data["gender"],
                    birth_date=data["birth_date"],
                    guardian_id=data["guardian"],
                    tags=data["tags"],
                    request=request,
                )
            except DomainError as exc:
                status = form.refuse(exc)
            else:
                messages.success(request, _("已登记%(name)s。") % {"name": person.name})
                return redirect("people:person-detail", person.pk)
    return render(
        request,
        "people/person_form.html",
        {"form": form, "household": household, "mode": "new"},
        status=status,
    )


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def person_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Correct a record. The page carries the version it showed: a record someone else
    changed meanwhile is refused (409) with what was typed kept."""
    _registry_editor(request)
    person = _record_on_register(request, pk)
    if person is None:
        return redirect("people:person-detail", pk)
    has_id = bool(person.id_number_hash)
    choices: dict[str, Any] = {
        "guardians": guardian_choices(
            actor=request.user, household=person.household, person=person
        ),
        "tags": list(person.tags.all()),
        "has_id": has_id,
    }
    form = PersonEditForm(
        initial={
            "name": person.name,
            "relation": person.relation,
            "gender": person.gender,
            "birth_date": person.birth_date,
            "guardian": person.guardian_id,
            "tags": [t.code for t in person.tags.all()],
            "version": person_version(person),
        },
        **choices,
    )
    status = 200
    if request.method == "POST":
        form = PersonEditForm(request.POST, initial=form.initial, **choices)
        status = 400
        if form.is_valid():
            data = form.cleaned_data
            try:
                _person, changed = person_update(
                    actor=request.user,
                    person_id=pk,
                    version=data["version"],
                    name=data["name"],
                    relation=data["relation"],
                    id_number=data["id_number"],
                    phone=data["phone"],
                    # With an ID number on file both come from it (the inputs are
                    # read-only); a new number brings its own.
                    gender="" if has_id else data["gender"],
                    birth_date=None if has_id else data["birth_date"],
                    guardian_id=data["guardian"],
                    tags=data["tags"],
                    request=request,
                )
            except DomainError as exc:
                status = form.refuse(exc)
            else:
                if changed:
                    messages.success(request, _("已保存修改。"))
                else:
                    messages.info(request, _("没有需要保存的修改。"))
                return redirect("people:person-detail", pk)
    return render(
        request,
        "people/person_form.html",
        {"form": form, "person": person, "mode": "edit"},
        status=status,
    )


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def person_move_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Move a resident to another address of the actor's area (人户迁移)."""
    _registry_editor(request)
    person = _record_on_register(request, pk)
    if person is None:
        return redirect("people:person-detail", pk)
    choices = {"units": address_choices(actor=request.user)}
    # Most moves stay in the building or compound: the current one is chosen to begin with.
    form = PersonMoveForm(
        initial={"version": person_version(person), "unit": person.unit_id}, **choices
    )
    status = 200
    if request.method == "POST":
        form = PersonMoveForm(request.POST, **choices)
        status = 400
        if form.is_valid():
            data = form.cleaned_data
            try:
                person_move(
                    actor=request.user,
                    person_id=pk,
                    version=data["version"],
                    unit_id=data["unit"],
                    entrance=data["entrance"],
                    room=data["room"],
                    relation=data["relation"],
                    request=request,
                )
            except DomainError as exc:
                status = form.refuse(exc)
            else:
                messages.success(request, _("已迁移到新地址。"))
                return redirect("people:person-detail", pk)
    return render(
        request,
        "people/person_form.html",
        {"form": form, "person": person, "mode": "move"},
        status=status,
    )


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def person_leave_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Take a person off the register: moved out of the area, or deceased. What is left
    to do (close an empty household, name a new guardian) is said on the person's page."""
    _registry_editor(request)
    person = _record_on_register(request, pk)
    if person is None:
        return redirect("people:person-detail", pk)
    form = PersonLeaveForm(initial={"version": person_version(person), "on": timezone.localdate()})
    status = 200
    if request.method == "POST":
        form = PersonLeaveForm(request.POST)
        status = 400
        if form.is_valid():
            data = form.cleaned_data
            try:
                leaving = person_leave(
                    actor=request.user,
                    person_id=pk,
                    version=data["version"],
                    reason=data["reason"],
                    on=data["on"],
                    note=data["note"],
                    request=request,
                )
            except DomainError as exc:
                status = form.refuse(exc)
            else:
                messages.success(
                    request,
                    _("已登记%(name)s%(reason)s。")
                    % {"name": person.name, "reason": LeftReason(data["reason"]).label},
                )
                for ward in leaving.wards:
                    messages.warning(
                        request,
                        _("%(name)s未满%(age)d周岁，请为其登记新的监护人。")
                        % {"name": ward.name, "age": CHILD_AGE},
                    )
                for said in leaving.followups:
                    messages.info(request, said)
                if leaving.household_empty:
                    messages.info(request, _("该户已没有在册成员，可在住户页面注销住户。"))
                return redirect("people:person-detail", pk)
    return render(
        request,
        "people/person_leave.html",
        {"form": form, "person": person},
        status=status,
    )


@never_cache
@login_required
@require_POST
def person_reinstate_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Undo a mark of moved away or deceased (made in error, or the resident came back).
    A refusal comes back on the person's page, with its reason."""
    _registry_editor(request)
    form = ReinstateForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("页面已过期，请刷新后再试。"))
        return redirect("people:person-detail", pk)
    try:
        person = person_reinstate(
            actor=request.user,
            person_id=pk,
            version=form.cleaned_data["version"],
            request=request,
        )
    except DomainError as exc:
        messages.error(request, str(exc.message))
    else:
        messages.success(request, _("%(name)s已恢复在册。") % {"name": person.name})
    return redirect("people:person-detail", pk)


@never_cache
@login_required
@require_POST
def person_reveal_view(request: HttpRequest, pk: int) -> HttpResponse:
    """The full number in a fragment; audited by the service, refused ones too."""
    _registry_staff(request)
    form = RevealForm(request.POST)
    if not form.is_valid():
        return render(
            request,
            "people/_revealed.html",
            {"error": _("只能查看身份证号码或电话。")},
            status=400,
        )
    field = form.cleaned_data["field"]
    try:
        value = person_reveal(actor=request.user, person_id=pk, field=field, request=request)
    except PermissionDenied as exc:
        return render(request, "people/_revealed.html", {"error": exc.message}, status=403)
    return render(
        request, "people/_revealed.html", {"value": value, "field": field, "person_id": pk}
    )


@login_required
@require_http_methods(["GET", "POST"])
def household_page(request: HttpRequest, pk: int) -> HttpResponse:
    """A household and its members; a POST closes it (注销住户) once nobody lives
    there. A refusal comes back on the page with its reason (409)."""
    _registry_staff(request)
    error, status = "", 200
    if request.method == "POST":
        if not can_edit_registry(request.user):
            raise Http404
        try:
            household_close(actor=request.user, household_id=pk, request=request)
        except DomainError as exc:
            error, status = str(exc.message), exc.status_code
        else:
            messages.success(request, _("已注销该住户。"))
            return redirect("people:household-detail", pk)
    detail = household_detail(actor=request.user, household_id=pk)
    _with_ages(detail.members, timezone.localdate())
    return render(
        request,
        "people/household_detail.html",
        {
            "detail": detail,
            "may_edit": can_edit_registry(request.user),
            # Those who answer for a place run its grids (the grids page checks which).
            "may_place": has_role(request.user, *PLACE_LEADER_ROLES),
            "error": error,
        },
        status=status,
    )


@login_required
def empty_households_page(request: HttpRequest) -> HttpResponse:
    """The open households where nobody is on the register any more, for the staff who
    keep the registry to close them (from each household's page)."""
    _registry_editor(request)
    return render(
        request,
        "people/empty_households.html",
        {"rows": empty_household_list(actor=request.user)},
    )


def _int_or_none(value: str | None) -> int | None:
    try:
        return int(value) if value else None
    except ValueError:
        return None


@login_required
def party_members(request: HttpRequest) -> HttpResponse:
    _registry_staff(request)
    org = _int_or_none(request.GET.get("party_org"))
    page = Paginator(party_member_list(actor=request.user, party_org=org), 50).get_page(
        request.GET.get("page")
    )
    return render_page(
        request,
        "people/party_members.html",
        {"page": page, "counts": party_member_counts(actor=request.user), "party_org": org},
        fragment="people/_party_member_rows.html",
    )


@login_required
def mobile_registrations(request: HttpRequest) -> HttpResponse:
    _registry_staff(request)
    org = _int_or_none(request.GET.get("party_org"))
    active_only = request.GET.get("all") != "1"
    qs = mobile_registration_list(actor=request.user, party_org=org, active_only=active_only)
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    return render_page(
        request,
        "people/mobile_registrations.html",
        {
            "page": page,
            "counts": mobile_registration_counts(actor=request.user),
            "party_org": org,
            "active_only": active_only,
        },
        fragment="people/_mobile_rows.html",
    )


# --- A resident's own record -------------------------------------------------------------


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def my_record(request: HttpRequest) -> HttpResponse:
    person = own_person(actor=request.user)
    if person is None:
        return render(request, "people/my_record.html", {"person": None})
    status = 200
    if request.method == "POST":
        form = OwnRecordForm(request.POST)
        if form.is_valid():
            phone = form.cleaned_data["phone"].strip()
            try:
                person_update_own(
                    actor=request.user,
                    name=form.cleaned_data["name"],
                    phone=phone or None,
                    request=request,
                )
            except DomainError as exc:
                form.add_error(exc.field if exc.field in form.fields else None, str(exc.message))
            else:
                messages.success(request, _("您的信息已更新。"))
                return redirect("people:my-record")
        status = 400
    else:
        form = OwnRecordForm(initial={"name": person.name})
    history = _history_lines(person_history(person=person), reader=request.user)
    return render(
        request,
        "people/my_record.html",
        {"person": person, "form": form, "history": history},
        status=status,
    )


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def my_record_delete(request: HttpRequest) -> HttpResponse:
    """Deletion on request: confirm, then the record is pseudonymized (the row stays so
    that ledgers and case histories remain consistent)."""
    person = own_person(actor=request.user)
    if person is None:
        return redirect("people:my-record")
    form = DeletionConfirmForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            person_pseudonymize(actor=request.user, person_id=person.pk, request=request)
        except DomainError as exc:
            form.add_error(None, str(exc.message))
        else:
            messages.success(request, _("您的个人信息已删除。"))
            return redirect("web:home")
    status = 400 if request.method == "POST" else 200
    return render(
        request, "people/my_record_delete.html", {"person": person, "form": form}, status=status
    )
