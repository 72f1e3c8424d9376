"""Reads of the Open311 part: services from the appeal categories, service requests
from the appeal cases — only the columns the public board shows, never a name, a
contact, a house number or a photo."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db.models import Max, OuterRef, QuerySet, Subquery
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from doorstep.appeals.choices import OPEN_STATES, Action, CaseState, Level
from doorstep.appeals.conf import sla
from doorstep.appeals.models import Case, CaseEvent, Category, JointTask
from doorstep.appeals.publicity import mask_rows
from doorstep.appeals.selectors import leaf_categories
from doorstep.core.tree import subtree_q
from doorstep.orgs.models import Unit

from .models import ServiceAttribute, ServiceOption, ServiceType, Submission
from .params import bad, not_found

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
MAX_RESULTS = 1000
MAX_WINDOW = dt.timedelta(days=90)
# Public coordinates are rounded to about a hundred metres, like the board's compound.
COORDINATE_DECIMALS = 3

CLOSED_STATES = frozenset(set(CaseState.values) - set(OPEN_STATES))


def open311_status(state: str) -> str:
    return "open" if state in OPEN_STATES else "closed"


# --- Jurisdictions ----------------------------------------------------------------------


def jurisdictions() -> dict[str, Unit]:
    """jurisdiction_id → root unit. By default every top-level unit of the org tree,
    named by its administrative code; ``DOORSTEP_OPEN311["JURISDICTIONS"]`` may map
    other ids (a website domain, say) to unit codes."""
    configured = getattr(settings, "DOORSTEP_OPEN311", {}).get("JURISDICTIONS")
    if configured:
        units = {u.code: u for u in Unit.objects.filter(code__in=configured.values())}
        return {jid: units[code] for jid, code in configured.items() if code in units}
    roots = Unit.objects.filter(parent__isnull=True, is_active=True).order_by("path")
    return {root.code or str(root.pk): root for root in roots}


def jurisdiction(jurisdiction_id: str | None) -> Unit | None:
    """The unit the request is about. With several jurisdictions the id is required and
    must be known; with one it may be left out (and is still checked when given)."""
    known = jurisdictions()
    if jurisdiction_id is None:
        if len(known) > 1:
            raise bad(_("jurisdiction_id 未提供：本接口服务多个辖区"))
        return next(iter(known.values()), None)
    if jurisdiction_id not in known:
        raise not_found(_("jurisdiction_id 不存在：%(id)s") % {"id": jurisdiction_id})
    return known[jurisdiction_id]


def changeset() -> str:
    """When the service list or a definition last changed (sortable), so that clients
    know when to refresh what they cache."""
    stamps = [
        model.objects.aggregate(latest=Max("updated_at"))["latest"]
        for model in (Category, ServiceAttribute, ServiceOption)
    ]
    latest = max((s for s in stamps if s is not None), default=None)
    return latest.strftime("%Y-%m-%dT%H:%M:%SZ") if latest else "1970-01-01T00:00:00Z"


# --- Services ---------------------------------------------------------------------------


def _keywords(category: Category, option: ServiceOption | None) -> str:
    if option is not None and option.keywords:
        return option.keywords
    parts = [category.name]
    if category.parent is not None:
        parts.append(category.parent.name)
    return ", ".join(dict.fromkeys(parts))


def services() -> list[dict[str, Any]]:
    cats = list(leaf_categories())
    with_attributes = set(
        ServiceAttribute.objects.filter(category__in=cats).values_list("category_id", flat=True)
    )
    options = {o.category_id: o for o in ServiceOption.objects.filter(category__in=cats)}
    return [
        {
            "service_code": cat.code,
            "service_name": cat.name,
            "description": cat.description or cat.name,
            "metadata": cat.pk in with_attributes,
            "type": service_type(cat, options.get(cat.pk)),
            "keywords": _keywords(cat, options.get(cat.pk)),
            "group": cat.parent.name if cat.parent is not None else cat.name,
        }
        for cat in cats
    ]


def service_type(category: Category, option: ServiceOption | None = None) -> str:
    if option is None:
        option = ServiceOption.objects.filter(category=category).first()
    return option.type if option is not None else ServiceType.REALTIME


def service(code: str) -> Category:
    found = leaf_categories().filter(code=code).first()
    if found is None:
        raise not_found(_("service_code 不存在：%(code)s") % {"code": code})
    return found


def service_definition(category: Category) -> dict[str, Any]:
    attributes = []
    for attr in ServiceAttribute.objects.filter(category=category).order_by("order", "code"):
        item: dict[str, Any] = {
            "variable": attr.variable,
            "code": attr.code,
            "datatype": attr.datatype,
            "required": attr.required,
            "datatype_description": attr.datatype_description or None,
            "order": attr.order,
            "description": attr.description,
        }
        if attr.values:
            item["values"] = [{"key": v.get("key"), "name": v.get("name")} for v in attr.values]
        attributes.append(item)
    return {"service_code": category.code, "attributes": attributes}


def service_notice(color: str, level: str) -> str:
    hours = int(sla(color).total_seconds() // 3600)
    days = hours // 24
    if days and hours % 24 == 0:
        span = ngettext("%(n)d 天", "%(n)d 天", days) % {"n": days}
    else:
        span = ngettext("%(n)d 小时", "%(n)d 小时", hours) % {"n": hours}
    return _("由%(level)s办理，期限 %(span)s") % {"level": Level(level).label, "span": span}


# --- Requests ---------------------------------------------------------------------------


# The columns a request row needs: public ones only (no reporter, household or photo).
ROW_FIELDS = (
    "id",
    "receipt_code",
    "state",
    "color",
    "level",
    "text",
    "result",
    "lat",
    "lng",
    "created_at",
    "updated_at",
    "closed_at",
    "deadline",
    "category__name",
    "category__code",
    "community_id",
    "community__name",
    "community__lat",
    "community__lng",
    "compound_id",
    "compound__name",
    "compound__lat",
    "compound__lng",
    "grid__name",
    "party_org__name",
    "merged_into__receipt_code",
    "last_action",
    "lead_department",
)


def _cases() -> QuerySet[Case]:
    """Public cases, with the latest public event and the lead department as subqueries."""
    last_public = CaseEvent.objects.filter(case=OuterRef("pk"), is_public=True).order_by(
        "-at", "-id"
    )
    lead = JointTask.objects.filter(case=OuterRef("pk"), is_lead=True).order_by("id")
    return Case.objects.filter(is_public=True).annotate(
        last_action=Subquery(last_public.values("action")[:1]),
        lead_department=Subquery(lead.values("department__name")[:1]),
    )


@dataclass(frozen=True)
class RequestQuery:
    ids: list[str]
    codes: list[str]
    start: dt.datetime | None
    end: dt.datetime | None
    statuses: list[str]
    page: int
    page_size: int


def requests(root: Unit | None, query: RequestQuery, *, now: dt.datetime) -> list[dict[str, Any]]:
    """The cases a GET requests call asks for, as rows of :data:`ROW_FIELDS`."""
    qs = _cases()
    if root is not None:
        qs = qs.filter(subtree_q(root.path, field="unit_path"))
    if query.ids:
        # service_request_id overrides every other argument.
        wanted = [i.upper() for i in query.ids][:MAX_RESULTS]
        return mask_rows(
            list(qs.filter(receipt_code__in=wanted).order_by("-id").values(*ROW_FIELDS))
        )
    end = query.end or (query.start + MAX_WINDOW if query.start else now)
    start = query.start or end - MAX_WINDOW
    if start > end:
        raise bad(_("start_date 晚于 end_date"))
    if end - start > MAX_WINDOW:
        raise bad(_("start_date 与 end_date 相隔不能超过 90 天"))
    qs = qs.filter(created_at__gte=start, created_at__lte=end)
    if query.codes:
        known = set(Category.objects.filter(code__in=query.codes).values_list("code", flat=True))
        unknown = [c for c in query.codes if c not in known]
        if unknown:
            raise not_found(_("service_code 不存在：%(code)s") % {"code": ",".join(unknown)})
        qs = qs.filter(category__code__in=query.codes)
    if query.statuses:
        states: set[str] = set()
        for status in query.statuses:
            if status == "open":
                states |= OPEN_STATES
            elif status == "closed":
                states |= CLOSED_STATES
            else:
                raise bad(_("status 只能是 open 或 closed"))
        qs = qs.filter(state__in=sorted(states))
    offset = (query.page - 1) * query.page_size
    rows = qs.order_by("-created_at", "-id").values(*ROW_FIELDS)
    return mask_rows(list(rows[offset : offset + query.page_size]))


def request_by_id(root: Unit | None, request_id: str) -> dict[str, Any]:
    qs = _cases()
    if root is not None:
        qs = qs.filter(subtree_q(root.path, field="unit_path"))
    found = qs.filter(receipt_code=request_id.strip().upper()).values(*ROW_FIELDS).first()
    if found is None:
        raise not_found(_("service_request_id 不存在：%(id)s") % {"id": request_id})
    return mask_rows([found])[0]


class RowRenderer:
    """Turns case rows into request rows; the translated labels and notices are worked
    out once per call, not once per row."""

    def __init__(self, own: frozenset[int] = frozenset()):
        # ``own`` holds the ids of cases the calling system filed: only it reads their text.
        self.own = own
        self.actions = {value: str(label) for value, label in Action.choices}
        self.notices: dict[tuple[str, str], str] = {}
        self.done = {CaseState.RESOLVED, CaseState.RATED, CaseState.CLOSED}

    def notice(self, color: str, level: str) -> str:
        key = (color, level)
        if key not in self.notices:
            self.notices[key] = service_notice(color, level)
        return self.notices[key]

    def agency(self, row: dict[str, Any]) -> str:
        if row["level"] == Level.PARTY_ORG:
            return row["lead_department"] or row["party_org__name"] or row["community__name"]
        if row["level"] == Level.GRID and row["grid__name"]:
            return f"{row['community__name']}{row['grid__name']}"
        return str(row["community__name"])

    def status_notes(self, row: dict[str, Any]) -> str | None:
        if row["state"] == CaseState.MERGED and row["merged_into__receipt_code"]:
            return _("与 %(code)s 重复，已合并") % {"code": row["merged_into__receipt_code"]}
        if row["state"] in self.done and row["result"]:
            return str(row["result"])
        return self.actions.get(row["last_action"])

    def __call__(self, row: dict[str, Any]) -> dict[str, Any]:
        """One request in the spec's field order, public columns only."""
        place = "compound" if row["compound_id"] else "community"
        lat, lng = row["lat"], row["lng"]
        if lat is None or lng is None:
            lat, lng = row[f"{place}__lat"], row[f"{place}__lng"]
        if lat is not None and lng is not None:
            lat, lng = round(lat, COORDINATE_DECIMALS), round(lng, COORDINATE_DECIMALS)
        names = [row[f"{place}__name"], row["community__name"]]
        return {
            "service_request_id": row["receipt_code"],
            "status": "open" if row["state"] in OPEN_STATES else "closed",
            "status_notes": self.status_notes(row),
            "service_name": row["category__name"],
            "service_code": row["category__code"],
            "description": row["text"] if row["id"] in self.own else None,
            "agency_responsible": self.agency(row),
            "service_notice": self.notice(row["color"], row["level"]),
            "requested_datetime": row["created_at"],
            "updated_datetime": row["closed_at"] or row["updated_at"],
            "expected_datetime": row["deadline"],
            "address": "，".join(dict.fromkeys(names)),
            "address_id": row[f"{place}_id"],
            "zipcode": None,
            "lat": lat,
            "long": lng,
            "media_url": None,
        }


def updates(root: Unit | None, start: dt.datetime, end: dt.datetime) -> list[dict[str, Any]]:
    """mySociety's servicerequestupdates: the public events of public cases in the window,
    each with the Open311 status the case had after it."""
    qs = CaseEvent.objects.filter(
        is_public=True, case__is_public=True, at__gte=start, at__lte=end
    ).select_related("case")
    if root is not None:
        qs = qs.filter(subtree_q(root.path, field="case__unit_path"))
    rows = []
    for event in qs.order_by("at", "id")[:MAX_RESULTS]:
        rows.append(
            {
                "update_id": event.pk,
                "service_request_id": event.case.receipt_code,
                "status": open311_status(event.to_state),
                "updated_datetime": event.at,
                "description": str(Action(event.action).label)
                if event.action in Action.values
                else event.action,
                "media_url": None,
                "external_status_code": event.to_state,
            }
        )
    return rows


def token_lookup(root: Unit | None, token: str) -> dict[str, Any]:
    """A batch token and, once staff have accepted the case, its service_request_id."""
    qs = Submission.objects.filter(token=token).select_related("case")
    if root is not None:
        qs = qs.filter(subtree_q(root.path, field="case__unit_path"))
    found = qs.first()
    if found is None:
        raise not_found(_("token 不存在：%(token)s") % {"token": token})
    accepted = found.case.state != CaseState.SUBMITTED
    return {
        "service_request_id": found.case.receipt_code if accepted else None,
        "token": found.token,
    }
