"""Garbage into every HTML form of the site: never a 500, a form that refused every
value changed no row, and a refusal says why in an alert.

The forms are found the way a person finds them: each role (and an anonymous visitor)
starts from its console navigation, the detail pages the scope matrix names and the
resident's and public links, follows the site's own links breadth-first for up to a
hundred pages, and every ``<form>`` on those pages is read with the standard library's
HTML parser and sent back: with each poison value in all its visible fields; then in its
hidden fields (ids, actions, keys) too; then in each visible field alone, by its type,
the others filled plausibly (a view that checks its fields one by one stops at the
first bad one). A form with no field to poison (a button that does one thing) is sent
once as it is. A page or form added later is fuzzed without editing this file.

A refusal must say why: an HTML answer with a 4xx status to a posted form holds an
element with ``role="alert"``, which a screen reader announces at once (a field's
``<span class="error" role="alert">``, a form's summary, or an error message of
Django's messages, which ``web/_messages.html`` renders as an alert). Three statuses
are exempt, as they withhold or need no reason: 403 and 404 (not yours, or no such
row: the site does not say which) and 405 (a method the address does not take). So is
the site's own error page (``web/error.html``, what handler400 and handler404 render):
it answers a request refused before any view read the form (a NUL character in a
field), its heading the status and its one paragraph the reason, with no form on it
to correct. A refusal without an alert is a failure of its own kind, listed apart from
the 500s.

The rows are the API fuzz's: one of every scoped model in tree A, the tree every role's
scope covers; the resident's account is linked to tree A's registered resident, who has
cases in the states that show forms; and ``out_of_reach`` makes the rows whose forms no
link leads to and gives their pages to the role that uses them as its first pages (a
clerk's counter with a resident found, a resident's points for a grant, a volunteer
activity's QR code, a receipt code to rate by).

The whole runs in about 80 s on SQLite (`--durations`); most of it is the first role's,
as a form is sent by the first role that reaches it only."""

from __future__ import annotations

import datetime as dt
import os
import re
import sys
import time
import traceback
from collections import Counter, deque
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit

import pytest
from django.core.signals import got_request_exception
from django.test import Client
from django.urls import reverse

from doorstep.accounts.roles import Role, available_roles
from doorstep.appeals.choices import CaseKind
from doorstep.appeals.tests.factories import proxy_submit, step, submit
from doorstep.conftest import World, app_scope_modules
from doorstep.core import timeutils
from doorstep.people.services import person_link_account
from doorstep.sites.models import Site
from doorstep.sites.services import slot_create
from doorstep.volunteers.models import Activity
from doorstep.web.nav import NAV, PUBLIC_LINKS, RESIDENT_LINKS
from doorstep.web.tests.test_api_fuzz import counts, rows_everywhere

pytestmark = pytest.mark.django_db

# Text that some field of every form must refuse, or at least never crash on: empty,
# a plain word (markup is one more: only the status is checked here), a NUL byte
# (PostgreSQL refuses it in text), numbers past every column's range, the calendar's
# last and first days and one it lacks, a long value, a float past every Decimal, "not a
# number", and a digit that is not ASCII ("²" passes str.isdigit but not int).
POISON = ["", "x", "\x00", "-1", str(2**70), "9999-12-31", "0001-01-01", "0000-00-00",
          "x" * 5_000, "1e308", "NaN", "²"]  # fmt: skip
# Hidden fields hold ids, actions and keys: the values that break those.
HIDDEN_POISON = ["", "x", "\x00", "-1", str(2**70), "²"]
# One field poisoned while the others hold plausible values (a view that checks its
# fields one by one stops at the first bad one): what breaks a field of each type.
FIELD_POISON = {
    "number": ["1e308", "²", str(2**70)],
    "date": ["9999-12-31", "0001-01-01"],
    "datetime-local": ["9999-12-31T23:59", "0001-01-01T00:00"],
    "month": ["9999-12", "0001-01"],
    "time": ["24:00"],
    "select": ["x", "²"],
    "radio": ["x"],
    "checkbox": [],
    "text": ["x" * 5_000],
}
PLAUSIBLE = {
    "number": "1",
    "date": "2026-06-01",
    "datetime-local": "2026-06-01T09:00",
    "month": "2026-06",
    "time": "09:00",
    "email": "resident@example.com",
    "tel": "13800000000",
    "url": "https://example.com/",
    "checkbox": "on",
}
PAGES_PER_ROLE = 100
PAGES_PER_KIND = 3
CSRF = "csrfmiddlewaretoken"
BUTTONS = ("submit", "image", "button")
# Pages never visited: leaving the session, Django's admin, the JSON API (fuzzed from its
# schema by test_api_fuzz.py) and file downloads.
NOT_VISITED = re.compile(r"^/(accounts/logout|admin|api|static|media)/|\.(csv|xlsx|pdf|png|svg)$")
# Forms never sent: the session's end and the two preference switches, which only set
# a cookie and go back.
NOT_SENT = re.compile(r"^/(accounts/logout|i18n/setlang|preferences/elder-mode)/")
DEBUG = bool(os.environ.get("FORM_FUZZ_DEBUG"))


@dataclass
class Field:
    name: str
    kind: str  # "hidden" (a hidden input or a named submit button) or "visible"
    value: str
    type: str = "text"  # the input's type, "select" or "textarea"
    options: list[str] = field(default_factory=list)

    @property
    def chooses_action(self) -> bool:
        """A named submit button or a hidden ``action``: which of a view's forms it is."""
        return self.kind == "hidden" and (self.name == "action" or self.type in BUTTONS)

    def plausible(self) -> str:
        """A value this field could well be sent with: the one it shows, else one of its
        type, so that a view that checks its fields one by one reaches the last."""
        if self.value:
            return self.value
        if self.type == "select":
            return next((o for o in self.options if o), "")
        return PLAUSIBLE.get(self.type, "测试")

    def poison(self) -> list[str]:
        """The values that break a field of this type when the rest of the form is fine."""
        return FIELD_POISON.get(self.type, FIELD_POISON["text"])


@dataclass
class Form:
    page: str
    method: str
    action: str
    fields: list[Field] = field(default_factory=list)

    def key(self) -> tuple[str, ...]:
        """Forms of one kind (the same action on the rows of a list, or on the page of
        another week or unit) are sent once."""
        names = sorted({f.name for f in self.fields})
        return (self.method, re.sub(r"\d+", "N", urlsplit(self.action).path), *names)

    def variants(self) -> list[tuple[str, dict[str, list[str]]]]:
        """(the poison, the data sent): each poison value in all visible fields at once;
        in the hidden ones as well; where the view tells its forms apart by a hidden
        ``action`` or a button, in the other hidden fields of the action it names; and
        each visible field alone poisoned by its type, the others plausible. A form with
        no field but its token (a button that does one thing: check in, mark all read) is
        sent once as it is shown: its view reads the path and the session only."""
        visible = [f for f in self.fields if f.kind == "visible"]
        hidden = [f for f in self.fields if f.kind == "hidden" and f.name != CSRF]
        if not visible and not hidden:
            return [("", self.data(visible=""))]
        out = [(value, self.data(visible=value)) for value in POISON if visible]
        out += [(value, self.data(visible="", hidden=value)) for value in HIDDEN_POISON if hidden]
        if any(f.chooses_action for f in hidden) and not all(f.chooses_action for f in hidden):
            out += [
                (value, self.data(visible="", hidden=value, keep_action=True))
                for value in HIDDEN_POISON
            ]
        for one in visible:
            out += [(value, self.data(visible=value, only=one)) for value in one.poison()]
        return out

    def data(
        self,
        *,
        visible: str,
        hidden: str | None = None,
        keep_action: bool = False,
        only: Field | None = None,
    ) -> dict[str, list[str]]:
        """The form as a browser sends it: the visible fields set to ``visible`` (or
        just ``only``, the others plausible); the hidden ones as rendered, or set to
        ``hidden`` (but for the CSRF token and, with ``keep_action``, the fields that
        choose the action)."""
        out: dict[str, list[str]] = {}
        for f in self.fields:
            if f.name == CSRF:
                value = f.value
            elif only is not None:
                value = visible if f is only else f.plausible()
            elif f.kind == "visible":
                value = visible
            elif hidden is None or (keep_action and f.chooses_action):
                value = f.value
            else:
                value = hidden
            out.setdefault(f.name, []).append(value)
        return out


class PageParser(HTMLParser):
    """A page's links and its forms with their fields, as a browser would send them:
    disabled fields, unnamed ones and file inputs left out, one value per radio group
    and submit button name."""

    def __init__(self, url: str) -> None:
        super().__init__(convert_charrefs=True)
        self.url = url
        self.links: list[str] = []
        self.forms: list[Form] = []
        self._form: Form | None = None
        self._select: Field | None = None
        self._textarea: Field | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "a" and a.get("href"):
            self.links.append(urljoin(self.url, a["href"]))
        elif tag == "form":
            method = a.get("method", "get").lower()
            self._form = Form(self.url, method, urljoin(self.url, a.get("action", "")))
        elif tag == "option" and self._select is not None:
            self._select.options.append(a.get("value", ""))
            if not self._select.value or "selected" in a:
                self._select.value = a.get("value", "")
        elif self._form is None or not a.get("name") or "disabled" in a:
            return
        elif tag in ("input", "button"):
            kind = a.get("type", "text" if tag == "input" else "submit").lower()
            if kind in ("file", "reset") or (tag == "button" and kind == "button"):
                return
            if kind in (*BUTTONS, "checkbox", "radio") and any(
                f.name == a["name"] for f in self._form.fields
            ):
                return  # one value of a radio group, one of several submit buttons
            if a.get("inputmode") in ("numeric", "decimal"):
                kind = "number"
            self._form.fields.append(
                Field(
                    a["name"],
                    "hidden" if kind == "hidden" or kind in BUTTONS else "visible",
                    a.get("value", "on" if kind in ("checkbox", "radio") else ""),
                    kind,
                )
            )
        elif tag == "select":
            self._select = Field(a["name"], "visible", "", "select")
            self._form.fields.append(self._select)
        elif tag == "textarea":
            self._textarea = Field(a["name"], "visible", "", "textarea")
            self._form.fields.append(self._textarea)

    def handle_endtag(self, tag: str) -> None:
        if tag == "form" and self._form is not None:
            self.forms.append(self._form)
            self._form = None
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self._textarea.value += data


def same_site(url: str) -> str | None:
    """The path and query of a link this crawl may follow, or None."""
    parts = urlsplit(url)
    if parts.scheme not in ("", "http") or parts.netloc not in ("", "testserver"):
        return None
    if NOT_VISITED.search(parts.path) or any(k == "format" for k, _ in parse_qsl(parts.query)):
        return None
    return parts.path + (f"?{parts.query}" if parts.query else "")


def page_kind(url: str) -> tuple[str, ...]:
    """Pages of one kind: the detail pages of a list, its further pages. A few of each
    are read (rows in different states show different forms)."""
    parts = urlsplit(url)
    names = sorted({k for k, _ in parse_qsl(parts.query, keep_blank_values=True)})
    return (re.sub(r"\d+", "N", parts.path), *names)


def seeds(role: str, own: list[str]) -> tuple[list[str], list[str]]:
    """Where a role starts: the pages of its own no link leads to (``own``), its console
    entries and the detail pages of the scope matrix's rows; and where it goes when the
    links from there run out: the resident's and the public pages (which the resident
    and the anonymous visitor read first)."""
    first = [*own, *(reverse(item.url_name) for item in NAV if role in item.roles)]
    if role in STAFF:
        for module in app_scope_modules():
            for model, pattern in getattr(module, "CONSOLE_DETAIL", {}).items():
                pks = model._default_manager.order_by("pk").values_list("pk", flat=True)
                first += [pattern.format(pk=pk) for pk in pks[:1]]
    later = [reverse(link.url_name) for link in RESIDENT_LINKS] if role != ANONYMOUS else []
    later += ["/", *(reverse(link.url_name) for link in PUBLIC_LINKS)]
    return (first, later) if first else (later, [])


def crawl(client: Client, first: list[str], later: list[str]) -> list[Form]:
    """The forms on the first pages reached from ``first`` (then ``later``), one of each
    kind."""
    queue = deque(first)
    visited: set[str] = set()
    kinds: Counter[tuple[str, ...]] = Counter()
    forms: dict[tuple[str, ...], Form] = {}
    pages = 0
    while pages < PAGES_PER_ROLE and (queue or later):
        if not queue:
            queue.extend(later)
            later = []
        url = queue.popleft()
        if url in visited or kinds[page_kind(url)] == PAGES_PER_KIND:
            continue
        visited.add(url)
        kinds[page_kind(url)] += 1
        response = client.get(url)
        assert response.status_code < 500, f"GET {url}: {response.status_code}"
        if response.status_code != 200 or "html" not in response.get("Content-Type", ""):
            continue
        pages += 1
        parser = PageParser(url)
        parser.feed(response.content.decode())
        queue.extend(t for link in parser.links if (t := same_site(link)) is not None)
        for form in parser.forms:
            target = same_site(form.action)
            if target is None or NOT_SENT.search(urlsplit(target).path):
                continue
            form.action = target
            forms.setdefault(form.key(), form)
        if DEBUG:
            print("PAGE", url, len(parser.forms))
    return list(forms.values())


def as_now(client: Client, form: Form) -> Form | None:
    """``form`` as its page shows it now, or None when it no longer does: a form sent
    before may have moved a row on (a case accepted, its version counted up)."""
    response = client.get(form.page)
    if response.status_code != 200:
        return None
    parser = PageParser(form.page)
    parser.feed(response.content.decode())
    for candidate in parser.forms:
        candidate.action = same_site(candidate.action) or ""
        if candidate.key() == form.key():
            return candidate
    return None


def where(exception: BaseException | None) -> str:
    """The exception of a crashed request and the innermost frame of the project's code."""
    if exception is None:
        return ""
    frames = [
        f for f in traceback.extract_tb(exception.__traceback__) if "/doorstep/" in f.filename
    ]
    at = f" at {frames[-1].filename.split('/doorstep/')[-1]}:{frames[-1].lineno}" if frames else ""
    return f"{type(exception).__name__}: {str(exception)[:100]}{at}"


def refused(response: Any) -> bool:
    """A 4xx, or the page again with a message saying what is wrong."""
    if 400 <= response.status_code < 500:
        return True
    return response.status_code == 200 and b'role="alert"' in response.content


# Refusals that need not say why in an alert: no such page or not yours (404, 403 —
# whose reason is withheld on purpose), and a method the address does not take (405).
UNEXPLAINED = {403, 404, 405}
# The site's own error page (handler400 and handler404): a request refused before any
# view read the form, such as one with a NUL character in a field. The page is the
# message, its heading the status and its one paragraph the reason, with no form to
# correct; an alert would add nothing to it.
ERROR_PAGE = "web/error.html"


def says_why(response: Any) -> bool:
    """Whether a refused post of a form tells the person (and their screen reader) what
    is wrong: an HTML 4xx answer holds a ``role="alert"`` element, unless it is one of
    the refusals above."""
    status = response.status_code
    if not 400 <= status < 500 or status in UNEXPLAINED:
        return True
    if "text/html" not in response.get("Content-Type", ""):
        return True
    if any(t.name == ERROR_PAGE for t in response.templates):
        return True
    return b'role="alert"' in response.content


@dataclass
class Failure:
    action: str
    value: str
    text: str
    # "crash": a 500, or a write by a form that refused every value; "silent": a 4xx
    # page that does not say why in an alert.
    kind: str = "crash"

    def known(self) -> str | None:
        """The reported bug this failure is, if it is one."""
        path = urlsplit(self.action).path
        if self.kind == "silent":
            return next((bug for pattern, bug in KNOWN_SILENT if re.search(pattern, path)), None)
        for pattern, value, bug in KNOWN_BUGS:
            if re.search(pattern, path) and value == self.value:
                return bug
        return None


def fuzz(client: Client, form: Form, label: str) -> list[Failure]:
    """``form`` sent with every variant of poison; the failures found."""
    failures: list[Failure] = []
    crashes: list[BaseException | None] = []
    silent: set[int] = set()
    statuses: Counter[int] = Counter()

    def record(sender: Any, **kwargs: Any) -> None:
        crashes.append(sys.exc_info()[1])

    send = client.post if form.method == "post" else client.get
    variants = form.variants()
    started = time.monotonic()
    before = counts() if form.method == "post" else ()
    all_refused = True
    got_request_exception.connect(record)
    try:
        for value, data in variants:
            crashes.clear()
            response = send(form.action, data)
            statuses[response.status_code] += 1
            all_refused = all_refused and refused(response)
            sent = {k: v[0][:12] for k, v in data.items() if k != CSRF}
            if response.status_code >= 500:
                text = (
                    f"{label} {form.method.upper()} {form.action} (a form of {form.page}) "
                    f"{sent}: {response.status_code} {where(crashes[-1] if crashes else None)}"
                )
                failures.append(Failure(form.action, value, text))
            elif (
                form.method == "post"
                and response.status_code not in silent  # one report per form and status
                and not says_why(response)
            ):
                silent.add(response.status_code)
                text = (
                    f"{label} POST {form.action} (a form of {form.page}) {sent}: "
                    f'{response.status_code} without role="alert"'
                )
                failures.append(Failure(form.action, value, text, "silent"))
    finally:
        got_request_exception.disconnect(record)
    if variants and form.method == "post" and all_refused and counts() != before:
        text = f"{label} POST {form.action}: refused every value, yet wrote"
        failures.append(Failure(form.action, "", text))
    if DEBUG:  # FORM_FUZZ_DEBUG=1 pytest -s … lists the forms sent, their cost and answers
        names = [f.name for f in form.fields]
        print(
            "FORM",
            label,
            form.method,
            form.action,
            len(variants),
            f"{time.monotonic() - started:.2f}s",
            dict(sorted(statuses.items())),
            names,
        )
    return failures


# 500s known and not yet mended, so that the rest of the fuzz stays a gate: a role whose
# forms hit one is an expected failure (not strict: the fix turns it into a pass);
# remove the entry with the fix. (path pattern, poison value, bug)
KNOWN_BUGS: list[tuple[str, str, str]] = []
# Refusals known not to say why in an alert, likewise. (path pattern, bug)
KNOWN_SILENT: list[tuple[str, str]] = []


ANONYMOUS = "anonymous"
STAFF = {str(role) for role in available_roles()} - {Role.RESIDENT}
# The community's staff first: the widest rights in tree A reach the most forms.
ROLES = [
    *sorted(available_roles(), key=lambda role: role != Role.COMMUNITY_STAFF),
    ANONYMOUS,
]
# Form kinds already fuzzed in this process: a form another role reached first with the
# same fields is the same view, and is not sent again (with xdist each worker keeps its
# own record, so a form may be sent once per worker).
SENT: set[tuple[str, ...]] = set()


def residents_own(world: World) -> None:
    """Tree A's registered resident is the resident's own record, with cases of theirs
    in the states that show forms: just reported, resolved (to be rated), a dispute."""
    person_link_account(person=world.a.person, user=world.user(Role.RESIDENT))
    staff = world.user(Role.COMMUNITY_STAFF)
    submit(world)
    resolved = submit(world, text="路灯不亮")
    step(resolved, staff, "accept")
    step(resolved, staff, "resolve", result="已修好")
    submit(world, kind=CaseKind.DISPUTE, text="邻里噪音纠纷", code="neighbour")


def out_of_reach(world: World) -> dict[str, list[str]]:
    """Rows whose forms no link of the site leads to, and the pages that show them, by
    the role that uses them: a clerk's counter with a resident found (its redeem form;
    the outlet, its goods and the resident's funded account are the scope matrix's), a
    resident's points for a grant, the QR code at a volunteer activity the resident
    signed up for, and the receipt code of a resolved case staff entered with a phone,
    to rate without an account. On pages the crawl reaches anyway: an unclaimed wish on
    the wish wall, and a slot to make an appointment for on tree A's site."""
    staff = world.user(Role.COMMUNITY_STAFF)
    submit(world, code="wish", kind=CaseKind.WISH, text="想要一副老花镜")
    tomorrow = timeutils.now() + dt.timedelta(days=1)
    slot_create(
        actor=staff, site=Site.objects.filter(unit=world.a.community).earliest("pk"),
        category="general", service="社保卡办理", starts_at=tomorrow,
        ends_at=tomorrow + dt.timedelta(minutes=30), capacity=2,
    )  # fmt: skip
    entered = proxy_submit(world, world.a, staff)
    step(entered, staff, "accept")
    step(entered, staff, "resolve", result="已修好")
    person = world.a.person
    activity = Activity.objects.filter(unit=world.a.community).earliest("pk")
    return {
        Role.OUTLET_CLERK: [f"{reverse('points:counter')}?{urlencode({'q': person.name})}"],
        Role.COMMUNITY_STAFF: [reverse("points:person", args=[person.pk])],
        Role.RESIDENT: [reverse("volunteers:scan", args=[activity.checkin_token])],
        ANONYMOUS: [f"{reverse('appeals:receipt')}?code={entered.receipt_code}"],
    }


@pytest.mark.parametrize("role", ROLES)
def test_garbage_in_every_form_is_never_a_500(world: World, role: str) -> None:
    """Every form a role reaches, with garbage in every field: never a 500, a form that
    refused every value changed no row, and a refusal says why in an alert."""
    rows_everywhere(world)
    residents_own(world)
    own = out_of_reach(world).get(role, [])
    client = Client(raise_request_exception=False, HTTP_ACCEPT_LANGUAGE="zh-hans")
    if role != ANONYMOUS:
        client.force_login(world.user(role))
    failures: list[Failure] = []
    for form in crawl(client, *seeds(role, own)):
        if form.key() in SENT or (current := as_now(client, form)) is None:
            continue
        SENT.add(form.key())
        failures += fuzz(client, current, role)
    unknown = [f for f in failures if not f.known()]
    crashes = [f.text for f in unknown if f.kind == "crash"]
    silent = [f.text for f in unknown if f.kind == "silent"]
    assert not crashes and not silent, "\n".join(
        [*crashes, *(["refused without saying why:"] if silent else []), *silent]
    )
    if failures:
        pytest.xfail("; ".join(sorted({str(f.known()) for f in failures})))
