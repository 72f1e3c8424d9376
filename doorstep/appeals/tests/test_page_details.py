"""Details of the appeals pages that residents and staff see, driven through the test
client: the public board reads as cards on a phone, a refused case action keeps what
was typed and names the field, counts of zero are shown, internal fields stay hidden,
labels carry no ASCII colon and empty notifications offer nothing to mark read."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from django.contrib.staticfiles import finders
from django.test import Client
from django.urls import reverse
from django.utils import translation

from doorstep.accounts.roles import Role
from doorstep.appeals.choices import Action, CaseState
from doorstep.appeals.models import Case, CaseEvent, Notification
from doorstep.conftest import World, make_user

from .factories import step, submit

pytestmark = pytest.mark.django_db

BOARD_LABELS_ZH = [
    "回执码",
    "类别",
    "小区/村",
    "颜色",
    "状态",
    "责任单位",
    "提交时间",
    "办结时间",
    "办理结果",
]


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


class _Cells(HTMLParser):
    """The attributes of every body cell of the table with the given class, by row."""

    def __init__(self, table_class: str) -> None:
        super().__init__()
        self.table_class = table_class
        self.inside = self.in_body = False
        self.rows: list[list[dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "table" and self.table_class in (found.get("class") or "").split():
            self.inside = True
        elif self.inside and tag == "tbody":
            self.in_body = True
        elif self.in_body and tag == "tr":
            self.rows.append([])
        elif self.in_body and tag == "td":
            self.rows[-1].append(found)

    def handle_endtag(self, tag: str) -> None:
        if tag == "tbody":
            self.in_body = False
        elif tag == "table":
            self.inside = False


def _board_cells(html: str) -> list[list[dict[str, str | None]]]:
    parser = _Cells("appeal-board")
    parser.feed(html)
    return parser.rows


# --- The public board -----------------------------------------------------------------------


def test_board_rows_name_each_cell_for_the_phone_card_layout(world: World) -> None:
    first = submit(world, text="第一件")
    submit(world, text="第二件")
    url = reverse("appeals:board", args=[world.a.community.pk])
    response = Client().get(url)
    html = response.content.decode()
    assert response.status_code == 200
    # The page loads the stylesheet that turns each row into a card below 48rem.
    assert "appeals/appeals.css" in html
    rows = _board_cells(html)
    assert len(rows) == 2 and first.receipt_code in html
    for row in rows:
        assert [cell.get("data-label") for cell in row] == BOARD_LABELS_ZH
    # The HTMX fragment (filters, paging) carries the labels too.
    fragment = Client().get(f"{url}?color=green", headers={"HX-Request": "true"})
    assert "<html" not in fragment.content.decode()
    for row in _board_cells(fragment.content.decode()):
        assert [cell.get("data-label") for cell in row] == BOARD_LABELS_ZH


def test_board_cell_labels_are_translated(world: World) -> None:
    submit(world)
    url = reverse("appeals:board", args=[world.a.community.pk])
    html = Client().get(url, headers={"accept-language": "en"}).content.decode()
    with translation.override("en"):
        expected = [translation.gettext(label) for label in BOARD_LABELS_ZH]
    assert not any(re.search(r"[\u4e00-\u9fff]", label) for label in expected)
    rows = _board_cells(html)
    assert rows
    for row in rows:
        assert [c.get("data-label") for c in row] == expected


def test_empty_board_says_so_without_a_label(world: World) -> None:
    html = Client().get(reverse("appeals:board", args=[world.a.community.pk])).content.decode()
    assert _board_cells(html) == [[{"colspan": "9", "class": "appeal-board-empty"}]]
    assert "暂无诉求。" in html


def test_board_stylesheet_draws_rows_as_labelled_cards_on_a_phone() -> None:
    path = finders.find("appeals/appeals.css")
    assert path is not None
    css = Path(path).read_text(encoding="utf-8")
    phone = css.split("@media screen and (max-width: 47.99rem)", 1)[1].split("@media", 1)[0]
    assert ".appeal-board tr" in phone and "display: block" in phone
    assert "content: attr(data-label)" in phone


# --- The staff case page ------------------------------------------------------------------------


def test_case_page_styles_its_action_forms_and_hides_the_version(world: World) -> None:
    case = submit(world)
    step(case, world.user(Role.GRID_MEMBER), Action.ACCEPT)
    case.refresh_from_db()
    assert case.version > 1
    html = (
        _client(world.user(Role.COMMUNITY_STAFF))
        .get(reverse("appeals:console-case", args=[case.pk]))
        .content.decode()
    )
    act_url = reverse("appeals:console-act", args=[case.pk])
    forms = re.findall(r'<form method="post"[^>]*action="' + re.escape(act_url) + '"', html)
    assert forms and all('class="form"' in f for f in forms)
    # The lock version travels with each form but is not shown among the facts.
    assert f'name="version" value="{case.version}"' in html
    assert "<dt>版本</dt>" not in html and "版本" not in html


def test_resolving_without_a_result_names_the_field_and_keeps_the_typed_note(
    world: World,
) -> None:
    case = submit(world)
    step(case, world.user(Role.GRID_MEMBER), Action.ACCEPT)
    case.refresh_from_db()
    before = (case.state, case.version, CaseEvent.objects.filter(case=case).count())
    client = _client(world.user(Role.COMMUNITY_STAFF))
    url = reverse("appeals:console-act", args=[case.pk])
    response = client.post(
        url,
        {"action": "resolve", "version": case.version, "result": "  ", "note": "已电话联系居民"},
    )
    html = response.content.decode()
    assert response.status_code == 400
    # Named at the top of the page, linked to the field ...
    assert '<a href="#result-resolve">办理结果：此项不能为空。</a>' in html
    # ... and next to the field, which is marked invalid.
    assert 'aria-invalid="true" aria-describedby="result-resolve-error"' in html
    assert '<span class="error" id="result-resolve-error">此项不能为空。</span>' in html
    # What was typed is still there.
    assert re.search(r'<textarea id="note-resolve"[^>]*>\s*已电话联系居民</textarea>', html)
    case.refresh_from_db()
    assert (case.state, case.version, CaseEvent.objects.filter(case=case).count()) == before
    # Sent again with a result it is done, and the page is reached by a redirect.
    response = client.post(
        url,
        {
            "action": "resolve",
            "version": case.version,
            "result": "已清运",
            "note": "已电话联系居民",
        },
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("appeals:console-case", args=[case.pk])
    case.refresh_from_db()
    assert case.state == CaseState.RESOLVED and case.result == "已清运"


def test_refused_action_names_the_field_in_english(world: World) -> None:
    case = submit(world)
    step(case, world.user(Role.GRID_MEMBER), Action.ACCEPT)
    case.refresh_from_db()
    response = _client(world.user(Role.COMMUNITY_STAFF)).post(
        reverse("appeals:console-act", args=[case.pk]),
        {"action": "resolve", "version": case.version, "result": ""},
        headers={"accept-language": "en"},
    )
    assert response.status_code == 400
    assert "Result: This field is required." in response.content.decode()


def test_merge_into_an_unknown_case_keeps_the_number_typed(world: World) -> None:
    case = submit(world)
    client = _client(world.user(Role.COMMUNITY_STAFF))
    url = reverse("appeals:console-act", args=[case.pk])
    response = client.post(
        url, {"action": "merge", "version": case.version, "target": "99999", "note": "重复"}
    )
    html = response.content.decode()
    assert response.status_code == 400
    assert "合并到的诉求编号：要合并到的诉求不存在。" in html
    assert 'id="target-merge" name="target" inputmode="numeric" value="99999"' in html
    assert re.search(r'<textarea id="note-merge"[^>]*>\s*重复</textarea>', html)
    # A number too long for the form is refused the same way, before the service.
    response = client.post(url, {"action": "merge", "version": case.version, "target": "9" * 30})
    assert response.status_code == 400
    assert '<span class="error" id="target-merge-error">' in response.content.decode()
    assert Case.objects.get(pk=case.pk).state == CaseState.SUBMITTED


def test_rejecting_without_a_reason_names_the_reason(world: World) -> None:
    case = submit(world)
    response = _client(world.user(Role.COMMUNITY_STAFF)).post(
        reverse("appeals:console-act", args=[case.pk]),
        {"action": "reject", "version": case.version, "note": ""},
    )
    assert response.status_code == 400
    assert '<a href="#note-reject">不予受理的理由：' in response.content.decode()
    assert Case.objects.get(pk=case.pk).state == CaseState.SUBMITTED


def test_stale_version_is_a_conflict_that_keeps_the_typed_result(world: World) -> None:
    case = submit(world)
    step(case, world.user(Role.GRID_MEMBER), Action.ACCEPT)
    case.refresh_from_db()
    response = _client(world.user(Role.COMMUNITY_STAFF)).post(
        reverse("appeals:console-act", args=[case.pk]),
        {"action": "resolve", "version": case.version - 1, "result": "已清运"},
    )
    html = response.content.decode()
    assert response.status_code == 409 and "已被他人更新" in html
    assert re.search(r'<textarea id="result-resolve"[^>]*>\s*已清运</textarea>', html)
    # The form now carries the current version, so sending it again is a decision
    # taken with the current case in view.
    assert f'name="version" value="{case.version}"' in html
    assert Case.objects.get(pk=case.pk).state == CaseState.ACCEPTED


def test_incomplete_post_is_refused_with_a_message(world: World) -> None:
    case = submit(world)
    response = _client(world.user(Role.COMMUNITY_STAFF)).post(
        reverse("appeals:console-act", args=[case.pk]), {"action": "accept", "version": "x"}
    )
    assert response.status_code == 400 and "提交的内容不完整。" in response.content.decode()
    assert Case.objects.get(pk=case.pk).state == CaseState.SUBMITTED


# --- The triage board ------------------------------------------------------------------------------


def test_triage_counts_show_zero(world: World) -> None:
    submit(world)
    html = (
        _client(world.user(Role.COMMUNITY_STAFF))
        .get(f"{reverse('appeals:triage')}?unit={world.a.community.pk}")
        .content.decode()
    )
    counts = re.findall(r"<li>([^<]*)：([^<]*)</li>", html)
    assert counts and all(n.strip().isdigit() for _, n in counts)
    assert ("已提交", "1") in counts and ("已受理", "0") in counts


# --- Labels ----------------------------------------------------------------------------------------------


def test_report_form_labels_have_no_ascii_colon_and_the_text_box_no_fixed_width(
    world: World,
) -> None:
    html = _client(world.user(Role.RESIDENT)).get(reverse("appeals:report")).content.decode()
    for field, label in (("kind", "类型"), ("category", "类别"), ("text", "描述")):
        assert f'<label for="id_{field}">{label}</label>' in html
    assert not re.search(r"<label[^>]*>[^<]*:</label>", html)
    textarea = re.search(r"<textarea[^>]*>", html)
    assert textarea and 'name="text"' in textarea.group(0) and "cols=" not in textarea.group(0)


def test_board_filter_labels_have_no_ascii_colon(world: World) -> None:
    html = Client().get(reverse("appeals:board", args=[world.a.community.pk])).content.decode()
    assert '<label for="id_color">颜色</label>' in html
    assert not re.search(r"<label[^>]*>[^<]*:</label>", html)


# --- Notifications ---------------------------------------------------------------------------------------


def test_mark_all_read_is_offered_only_when_something_is_unread(world: World) -> None:
    url = reverse("appeals:notifications")
    nobody = _client(make_user("quiet", Role.RESIDENT))
    html = nobody.get(url).content.decode()
    assert "没有通知。" in html and "全部标为已读" not in html

    submit(world)
    resident = world.user(Role.RESIDENT)
    client = _client(resident)
    assert Notification.objects.filter(user=resident, read_at__isnull=True).exists()
    assert "全部标为已读" in client.get(url).content.decode()
    assert client.post(url).status_code == 302
    html = client.get(url).content.decode()
    assert "全部标为已读" not in html and "没有通知。" not in html


def test_odd_units_dates_months_and_merge_targets_are_refused_not_crashed(
    world: World,
) -> None:
    """Found by the form fuzz: '²' passes str.isdigit() and then int() failed; the day
    after 9999-12-31 and the month after 9999-12 do not exist."""
    client = _client(world.user(Role.COMMUNITY_STAFF))
    client.raise_request_exception = False
    for path in ("/console/appeals/", "/console/appeals/overdue/", "/console/appeals/disputes/"):
        for unit in ("²", str(2**70), "x"):
            assert client.get(path, {"unit": unit}).status_code == 404, (path, unit)
    for day in ("9999-12-31", "0001-01-01"):
        for path in ("/console/appeals/disputes/", "/console/appeals/suggestions/"):
            response = client.get(path, {"start": "2026-01-01", "end": day})
            assert response.status_code in (200, 400), (path, day)
            assert "日期应在 1900-01-01 至 2999-12-31 之间。" in response.content.decode()
    for month in ("9999-12", "0001-01"):
        assert client.get("/console/appeals/month/", {"month": month}).status_code == 404
    case = submit(world)
    before = Case.objects.get(pk=case.pk).state
    response = client.post(
        f"/console/appeals/{case.pk}/act/",
        {"action": Action.MERGE, "version": case.version, "target": "²", "note": ""},
    )
    assert response.status_code == 400 and "要合并到的诉求不存在。" in response.content.decode()
    assert Case.objects.get(pk=case.pk).state == before
