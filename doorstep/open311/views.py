"""The GeoReport v2 endpoint. Each view reads its parameters, calls one selector or
service, and renders the result in the format the URL names; every refusal is the
standard error list with the spec's status code (400, 403 or 404), never a 500."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from doorstep.core import timeutils

from . import selectors
from .formats import JSON, MIME_TYPES, XML, error_response, respond
from .models import ApiKey, Submission
from .params import Open311Error, comma_list, get, positive_int, w3c_datetime
from .services import api_key_check, request_submit, update_submit

View = Callable[..., HttpResponse]


def endpoint(methods: list[str]) -> Callable[[View], View]:
    """Open311 plumbing for a view: the allowed methods, no CSRF (clients send an API
    key, not a session), GET and POST parameters merged, and Open311Error rendered."""

    def wrap(view: View) -> View:
        @csrf_exempt
        @require_http_methods(methods)
        @functools.wraps(view)
        def inner(request: HttpRequest, fmt: str, **kwargs: Any) -> HttpResponse:
            fmt = fmt.lower()
            try:
                return view(request, fmt, **kwargs)
            except Open311Error as error:
                return error_response(fmt, error.status, error.errors)

        return inner

    return wrap


def _params(request: HttpRequest) -> Any:
    """Query string and body together (a POST may carry api_key in either)."""
    merged = request.GET.copy()
    if request.method == "POST":
        for key in request.POST:
            merged.setlist(key, request.POST.getlist(key))
    return merged


def _key(data: Any) -> ApiKey | None:
    """The caller's key when one is sent (a sent key must be valid); None otherwise."""
    raw = get(data, "api_key")
    row = api_key_check(raw)
    if raw is not None and row is None:
        raise Open311Error(403, _("api_key 无效或已吊销"))
    return row


def _required_key(data: Any) -> ApiKey:
    row = _key(data)
    if row is None:
        raise Open311Error(403, _("api_key 缺失"))
    return row


def _endpoint_url(request: HttpRequest) -> str:
    return request.build_absolute_uri(reverse("open311:root")).rstrip("/")


@endpoint(["GET"])
def discovery(request: HttpRequest, fmt: str) -> HttpResponse:
    conf = getattr(settings, "DOORSTEP_OPEN311", {})
    changeset = selectors.changeset()
    return respond(
        fmt,
        "discovery",
        {
            "changeset": changeset,
            "contact": conf.get("CONTACT") or _("请联系本辖区的系统管理员"),
            "key_service": conf.get("KEY_SERVICE")
            or _("接入密钥由系统管理员在管理后台“Open311 密钥”页签发"),
            "endpoints": [
                {
                    "specification": selectors.SPECIFICATION,
                    "url": _endpoint_url(request),
                    "changeset": changeset,
                    "type": conf.get("TYPE", "production"),
                    "formats": list(MIME_TYPES),
                }
            ],
        },
    )


@endpoint(["GET"])
def service_list(request: HttpRequest, fmt: str) -> HttpResponse:
    selectors.jurisdiction(get(request.GET, "jurisdiction_id"))
    return respond(fmt, "services", selectors.services())


@endpoint(["GET"])
def service_definition(request: HttpRequest, fmt: str, code: str) -> HttpResponse:
    selectors.jurisdiction(get(request.GET, "jurisdiction_id"))
    category = selectors.service(code)
    return respond(fmt, "service_definition", selectors.service_definition(category))


def _own_cases(key: ApiKey | None, rows: list[dict[str, Any]]) -> frozenset[int]:
    if key is None or not rows:
        return frozenset()
    ids = Submission.objects.filter(api_key=key, case_id__in=[r["id"] for r in rows])
    return frozenset(ids.values_list("case_id", flat=True))


@endpoint(["GET", "POST"])
def requests(request: HttpRequest, fmt: str) -> HttpResponse:
    data = _params(request)
    if request.method == "POST":
        key = _required_key(data)
        root = selectors.jurisdiction(get(data, "jurisdiction_id"))
        case, submission, kind = request_submit(
            api_key=key, root=root, data=data, media=request.FILES.get("media")
        )
        row: dict[str, Any] = {}
        if kind == "realtime":
            row["service_request_id"] = case.receipt_code
        elif kind == "batch":
            row["token"] = submission.token
        row["service_notice"] = selectors.service_notice(case.color, case.level)
        row["account_id"] = submission.account_id or None
        return respond(fmt, "service_requests", [row], status=201)
    reader = _key(data)
    root = selectors.jurisdiction(get(data, "jurisdiction_id"))
    query = selectors.RequestQuery(
        ids=comma_list(data, "service_request_id"),
        codes=comma_list(data, "service_code"),
        start=w3c_datetime(data, "start_date"),
        end=w3c_datetime(data, "end_date"),
        statuses=comma_list(data, "status"),
        page=positive_int(data, "page", default=1, maximum=1_000_000),
        page_size=positive_int(
            data, "page_size", default=selectors.MAX_RESULTS, maximum=selectors.MAX_RESULTS
        ),
    )
    rows = selectors.requests(root, query, now=timeutils.now())
    render = selectors.RowRenderer(_own_cases(reader, rows))
    return respond(fmt, "service_requests", [render(row) for row in rows])


@endpoint(["GET"])
def request_detail(request: HttpRequest, fmt: str, request_id: str) -> HttpResponse:
    key = _key(request.GET)
    root = selectors.jurisdiction(get(request.GET, "jurisdiction_id"))
    row = selectors.request_by_id(root, request_id)
    render = selectors.RowRenderer(_own_cases(key, [row]))
    return respond(fmt, "service_requests", [render(row)])


@endpoint(["GET"])
def token(request: HttpRequest, fmt: str, token: str) -> HttpResponse:
    root = selectors.jurisdiction(get(request.GET, "jurisdiction_id"))
    row = selectors.token_lookup(root, token)
    return respond(fmt, "service_requests", [row])


@endpoint(["GET", "POST"])
def request_updates(request: HttpRequest, fmt: str) -> HttpResponse:
    data = _params(request)
    if request.method == "POST":
        key = _required_key(data)
        root = selectors.jurisdiction(get(data, "jurisdiction_id"))
        update_id = update_submit(api_key=key, root=root, data=data)
        return respond(fmt, "service_request_updates", [{"update_id": update_id}])
    root = selectors.jurisdiction(get(data, "jurisdiction_id"))
    now = timeutils.now()
    start, end = w3c_datetime(data, "start_date"), w3c_datetime(data, "end_date")
    end = end or (start + selectors.MAX_WINDOW if start else now)
    start = start or end - selectors.MAX_WINDOW
    if start > end:
        raise Open311Error(400, _("start_date 晚于 end_date"))
    if end - start > selectors.MAX_WINDOW:
        raise Open311Error(400, _("start_date 与 end_date 相隔不能超过 90 天"))
    return respond(fmt, "service_request_updates", selectors.updates(root, start, end))


def root(request: HttpRequest) -> HttpResponse:
    """The endpoint's root answers with the discovery document, as the spec suggests."""
    return discovery(request, XML)


def not_found(request: HttpRequest, fmt: str | None = None, **kwargs: Any) -> HttpResponse:
    fmt = (fmt or XML).lower()
    return error_response(fmt, 404, [(404, _("没有这个 Open311 资源"))])


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """A request refused before any view ran, in the format its path asks for."""
    fmt = XML if request.path.lower().endswith(".xml") else JSON
    message = str(exception) if exception is not None and str(exception) else _("请求无效。")
    return error_response(fmt, 400, [(400, message)])
