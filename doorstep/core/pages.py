"""One view serves a whole page or, for an HTMX request, just the fragment that changed;
and a workbook a view exports is sent one way."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def render_page(
    request: HttpRequest,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    fragment: str | None = None,
    status: int = 200,
) -> HttpResponse:
    """Render ``template``, or ``fragment`` when HTMX asks for a partial update.

    A boosted HTMX navigation (``hx-boost``) wants the whole page, so only a plain
    HTMX request gets the fragment.
    """
    htmx = getattr(request, "htmx", None)
    if fragment and htmx and not htmx.boosted:
        return render(request, fragment, context, status=status)
    return render(request, template, context, status=status)


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def xlsx_response(content: bytes, filename: str) -> HttpResponse:
    """A workbook as a download, never kept by a cache (exports may hold personal data)."""
    response = HttpResponse(content, content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response
