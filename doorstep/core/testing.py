"""Helpers for the apps' tests that read pages."""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser
from typing import Any

# Elements that have no end tag: they neither open nor close an alert.
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
        "track", "wbr"}  # fmt: skip


class _AlertText(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self._depths: list[int] = []  # the depth at which each open alert began
        self._depth = 0
        self._parts: list[list[str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in VOID:
            return
        self._depth += 1
        if dict(attrs).get("role") == "alert":
            self._depths.append(self._depth)
            self._parts.append([])

    def handle_endtag(self, tag: str) -> None:
        if tag in VOID:
            return
        if self._depths and self._depths[-1] == self._depth:
            self._depths.pop()
            text = " ".join("".join(self._parts.pop()).split())
            self.found.append(text)
            if self._parts:  # an alert inside another: its text is the outer one's too
                self._parts[-1].append(text)
        self._depth -= 1

    def handle_data(self, data: str) -> None:
        if self._parts:
            self._parts[-1].append(data)


def alerts(page: Any) -> list[str]:
    """The text of each element of ``page`` (a response or its HTML) with
    ``role="alert"``, in document order of their ends, whitespace collapsed: what a screen
    reader announces of a refusal."""
    html = page.content.decode() if hasattr(page, "content") else str(page)
    parser = _AlertText()
    parser.feed(html)
    parser.close()
    return parser.found


# --- A form after a refusal: what its inputs hold and the messages beside them ---------


def tag(page: str, id_: str) -> str:
    """The opening tag of the input or select with this id."""
    found = re.search(rf'<(?:input|select|textarea)\b[^>]*\bid="{id_}"[^>]*>', page)
    if found is None:
        raise AssertionError(f"no input #{id_}")
    return found.group(0)


def value(page: str, id_: str) -> str | None:
    """What the input with this id shows (None: no value)."""
    found = re.search(r'\bvalue="([^"]*)"', tag(page, id_))
    return html.unescape(found.group(1)) if found else None


def selected(page: str, id_: str) -> list[str]:
    """The values of the options selected in the select with this id."""
    start = page.index(tag(page, id_))
    options = page[start : page.index("</select>", start)]
    return re.findall(r'<option value="([^"]*)" selected>', options)


def error_beside(page: str, id_: str, *, after: str = "") -> str | None:
    """The message in the error span right after the input (or select) with this id —
    or right after ``after``, the markup that closes the input's group — which the input
    names as its description; None when there is none."""
    element = tag(page, id_)
    start = page.index(element)
    if element.startswith("<select"):
        element = page[start : page.index("</select>", start) + len("</select>")]
    if after:
        element = page[start : page.index(after, start) + len(after)]
    found = re.search(
        re.escape(element)
        + rf'\s*<span class="error" id="{id_}-error" role="alert">([^<]*)</span>',
        page,
    )
    if found is None:
        return None
    opening = tag(page, id_)
    if f'aria-describedby="{id_}-error"' not in opening or 'aria-invalid="true"' not in opening:
        raise AssertionError(f"#{id_} has a message beside it but is not marked invalid by it")
    return html.unescape(found.group(1))


def summary(page: str) -> list[str]:
    """The lines of the summary above the forms (the field's label and the message)."""
    found = re.search(r'<div class="error" role="alert">(.*?)</div>', page, re.S)
    if found is None:
        raise AssertionError("no summary above the form")
    return [
        html.unescape(re.sub(r"<[^>]+>", "", li))
        for li in re.findall(r"<li>(.*?)</li>", found.group(1))
    ]
