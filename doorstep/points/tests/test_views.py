"""The points pages through the real interface: the counter, receipts, the community
overview, a resident's account for staff, my points and the public leaderboard."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client

from doorstep.accounts.roles import Role
from doorstep.conftest import World
from doorstep.people.services import person_link_account

from ..models import Account, EarningRule, Redemption, Transfer
from .scope import funded_account, tree_goods, tree_outlet

pytestmark = pytest.mark.django_db


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def counter(world: World) -> dict[str, Any]:
    return {
        "outlet": tree_outlet(world.a),
        "soap": tree_goods(world.a),
        "account": funded_account(world.a, 100),
        "client": client_for(world.user(Role.OUTLET_CLERK)),
    }


def test_the_clerk_finds_a_resident_by_phone_suffix_and_sees_a_masked_name(
    counter: dict[str, Any],
) -> None:
    page = counter["client"].get("/console/counter/", {"q": "0000"}).content.decode()
    assert "甲*民" in page and "甲居民" not in page and "13800000000" not in page
    assert 'id="balance">100<' in page  # one hit: selected at once


def test_a_vague_search_is_refused_with_a_message(counter: dict[str, Any]) -> None:
    page = counter["client"].get("/console/counter/", {"q": "甲"}).content.decode()
    assert "至少两个字" in page and "甲*民" not in page


def test_a_clerk_over_the_search_limit_is_told_on_the_page(
    counter: dict[str, Any], settings: Any
) -> None:
    settings.DOORSTEP_COUNTER_SEARCH_LIMIT = 1
    client = counter["client"]
    assert "甲*民" in client.get("/console/counter/", {"q": "0000"}).content.decode()
    page = client.get("/console/counter/", {"q": "0000"}).content.decode()
    assert "查找过于频繁" in page and "甲*民" not in page


def ticket_from(page: str) -> str:
    return re.search(r'name="ticket" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]


def test_a_clerk_opens_an_account_only_from_a_search(counter: dict[str, Any]) -> None:
    """The counter opens a resident by the ticket its search gave, not by a bare id."""
    client = counter["client"]
    account = counter["account"].pk
    assert client.get("/console/counter/", {"account": account}).status_code == 404
    assert client.get("/console/counter/", {"ticket": "forged"}).status_code == 404
    page = client.get("/console/counter/", {"q": "jiaju"}).content.decode()
    assert 'id="balance">100<' in page
    ticket = ticket_from(page)
    again = client.get("/console/counter/", {"account": account, "ticket": ticket})
    assert again.status_code == 200 and 'id="balance">100<' in again.content.decode()
    form = {"outlet": counter["outlet"].pk, "account": account, "key": "k-bare"}
    assert client.post("/console/counter/redeem/", form).status_code == 404
    assert not Redemption.objects.exists()


def test_redeem_at_the_counter_then_the_receipt(counter: dict[str, Any]) -> None:
    client = counter["client"]
    page = client.get("/console/counter/", {"q": "0000"}).content.decode()
    key = re.search(r'name="key" value="([0-9a-f]+)"', page).group(1)  # type: ignore[union-attr]
    form = {
        "outlet": counter["outlet"].pk,
        "account": counter["account"].pk,
        "ticket": ticket_from(page),
        "key": key,
        f"qty_{counter['soap'].pk}": "2",
    }
    response = client.post("/console/counter/redeem/", form)
    redemption = Redemption.objects.get()
    assert (
        response.status_code == 302
        and response["Location"] == f"/console/counter/receipts/{redemption.pk}/"
    )
    # The tablet sends the same form again (a double tap): the same receipt, nothing more.
    assert client.post("/console/counter/redeem/", form)["Location"] == response["Location"]
    assert Redemption.objects.count() == 1
    receipt = client.get(response["Location"]).content.decode()
    assert redemption.number in receipt and "洗衣粉" in receipt and "¥30.00" in receipt
    assert "甲居民" not in receipt and "甲*民" in receipt
    assert Account.objects.get(pk=counter["account"].pk).balance == 60


def test_an_over_balance_redemption_shows_an_error_and_changes_nothing(
    counter: dict[str, Any],
) -> None:
    """The counter form comes back (400) with the refusal right above 确认兑换 and the
    quantities as the clerk typed them; corrected, it redeems and redirects."""
    client = counter["client"]
    page = client.get("/console/counter/", {"q": "0000"}).content.decode()
    soap = counter["soap"].pk
    form = {
        "outlet": counter["outlet"].pk,
        "account": counter["account"].pk,
        "ticket": ticket_from(page),
        "key": "k-over",
        f"qty_{soap}": "6",
    }
    response = client.post("/console/counter/redeem/", form)
    assert response.status_code == 400
    refused = response.content.decode()
    beside = re.search(
        r'<p class="error" id="redeem-error" role="alert">([^<]+)</p>\s*'
        r'<p><button type="submit" class="button" aria-describedby="redeem-error">确认兑换',
        refused,
    )
    assert beside and beside.group(1) == "积分余额不足。"
    assert f'name="qty_{soap}" type="number" min="0" max="100" value="6"' in refused
    assert 'id="balance">100<' in refused and ticket_from(refused) == form["ticket"]
    assert '<div class="messages"' not in refused  # not also at the top of the page
    assert 'name="key" value="k-over"' not in refused  # the form shown again, a new key
    assert (
        not Redemption.objects.exists()
        and Account.objects.get(pk=counter["account"].pk).balance == 100
    )
    # The search and the outlet switch still lead to the counter, not to this POST's URL.
    assert 'action="/console/counter/"' in refused
    key = re.search(r'name="key" value="([0-9a-f]+)"', refused).group(1)  # type: ignore[union-attr]
    done = client.post("/console/counter/redeem/", form | {"key": key, f"qty_{soap}": "5"})
    assert done.status_code == 302
    assert done["Location"] == f"/console/counter/receipts/{Redemption.objects.get().pk}/"
    assert Account.objects.get(pk=counter["account"].pk).balance == 0


def test_the_counter_starts_with_no_quantities_and_no_refusal(counter: dict[str, Any]) -> None:
    page = counter["client"].get("/console/counter/", {"q": "0000"}).content.decode()
    assert f'name="qty_{counter["soap"].pk}" type="number" min="0" max="100" value="0"' in page
    assert "redeem-error" not in page
    assert "可用积分：<strong" in page


def test_the_overview_names_what_each_form_creates(world: World, counter: dict[str, Any]) -> None:
    staff = client_for(world.user(Role.COMMUNITY_STAFF))
    page = staff.get("/console/points/").content.decode()
    outlet_form = page.index('<h2 id="new-outlet-title">设立新兑换点</h2>')
    rule_form = page.index('<h2 id="new-rule-title">设置积分规则</h2>')
    assert outlet_form < page.index('value="outlet"') and rule_form < page.index('value="rule"')
    grid_member = client_for(world.user(Role.GRID_MEMBER))
    assert "new-outlet-title" not in grid_member.get("/console/points/").content.decode()


def test_labels_carry_their_punctuation_in_english(world: World, counter: dict[str, Any]) -> None:
    from ..services import redemption_create

    r = redemption_create(
        actor=world.user(Role.OUTLET_CLERK),
        outlet=counter["outlet"],
        account=counter["account"],
        items={counter["soap"].pk: 1},
        idempotency_key="en",
    )
    client = counter["client"]
    receipt = client.get(f"/console/counter/receipts/{r.pk}/", HTTP_ACCEPT_LANGUAGE="en")
    article = receipt.content.decode().split('<article class="card receipt"')[1]
    article = article.split("</article>")[0]
    assert "Receipt no.: " in article and "Balance now: 80" in article and "：" not in article
    panel = client.get("/console/counter/", {"q": "0000"}, HTTP_ACCEPT_LANGUAGE="en")
    assert 'Points available: <strong id="balance">80<' in panel.content.decode()
    staff = client_for(world.user(Role.COMMUNITY_STAFF))
    person = staff.get(f"/console/points/people/{world.a.person.pk}/", HTTP_ACCEPT_LANGUAGE="en")
    assert "Points balance: <strong>80<" in person.content.decode()


def test_the_counter_is_closed_to_residents_and_other_trees(
    world: World, counter: dict[str, Any]
) -> None:
    resident = client_for(world.user(Role.RESIDENT))
    assert resident.get("/console/counter/").status_code == 404
    b_account = funded_account(world.b)
    clerk = counter["client"]
    assert clerk.get("/console/counter/", {"account": b_account.pk}).status_code == 404
    assert clerk.get("/console/counter/", {"outlet": tree_outlet(world.b).pk}).status_code == 404


def test_staff_set_a_rule_see_the_report_and_grant(world: World, counter: dict[str, Any]) -> None:
    staff = client_for(world.user(Role.COMMUNITY_STAFF))
    response = staff.post(
        "/console/points/",
        {
            "action": "rule",
            "unit": world.a.community.pk,
            "activity_type": "patrol",
            "points_per_hour": "6",
            "daily_cap": "20",
        },
    )
    assert response.status_code == 302
    assert EarningRule.objects.get(activity_type="patrol").daily_cap == 20
    bad = staff.post(
        "/console/points/",
        {"action": "rule", "unit": world.a.community.pk, "activity_type": "patrol"},
    )
    assert "不能都为零" in bad.content.decode()
    page = staff.get("/console/points/", {"unit": world.a.community.pk}).content.decode()
    assert "甲社区爱心屋" in page and "治安巡逻" in page and "甲*民" in page  # leaderboard masked
    person_page = f"/console/points/people/{world.a.person.pk}/"
    assert (
        staff.post(person_page, {"amount": "15", "reason": "清理楼道杂物", "key": "g1"}).status_code
        == 302
    )
    assert Transfer.objects.filter(kind="grant", amount=15).count() == 1
    refused = staff.post(person_page, {"amount": "-3", "reason": "x", "key": "g2"})
    assert (
        "正整数" in refused.content.decode() and Transfer.objects.filter(kind="grant").count() == 1
    )
    assert "清理楼道杂物" in staff.get(person_page).content.decode()


def test_my_points_shows_balance_qr_history_and_affordable_goods(
    world: World, counter: dict[str, Any]
) -> None:
    person_link_account(person=world.a.person, user=world.user(Role.RESIDENT))
    page = client_for(world.user(Role.RESIDENT)).get("/me/points/").content.decode()
    assert "100" in page and "<svg" in page and "洗衣粉" in page and "参与获得" in page


def test_a_history_page_swaps_into_its_box_once(world: World, counter: dict[str, Any]) -> None:
    """The page has one #history box; a page of history fetched by the pager is the rows
    alone, so swapping it in never nests a second box."""
    person_link_account(person=world.a.person, user=world.user(Role.RESIDENT))
    client = client_for(world.user(Role.RESIDENT))
    page = client.get("/me/points/").content.decode()
    assert page.count('id="history"') == 1
    # On a phone each transfer is a card whose cells name their columns.
    assert '<table class="table card-rows">' in page and '<td data-label="积分">+' in page
    fragment = client.get("/me/points/", {"page": 1}, HTTP_HX_REQUEST="true").content.decode()
    assert 'id="history"' not in fragment and "<table" in fragment and "<html" not in fragment


def test_the_public_leaderboard_masks_names(world: World, counter: dict[str, Any]) -> None:
    page = Client().get(f"/points/leaderboard/{world.a.community.pk}/").content.decode()
    assert "甲*民" in page and "甲居民" not in page and "100" in page


def test_staff_reverse_a_receipt_from_its_page(world: World, counter: dict[str, Any]) -> None:
    from ..services import redemption_create

    r = redemption_create(
        actor=world.user(Role.OUTLET_CLERK),
        outlet=counter["outlet"],
        account=counter["account"],
        items={counter["soap"].pk: 1},
        idempotency_key="x",
    )
    assert (
        counter["client"].post(f"/console/counter/receipts/{r.pk}/", {"reason": "退货"}).status_code
        == 404
    )
    staff = client_for(world.user(Role.COMMUNITY_STAFF))
    staff.post(f"/console/counter/receipts/{r.pk}/", {"reason": "退货"})
    assert Transfer.objects.filter(reverses=r.transfer).exists()
    assert "已于" in staff.get(f"/console/counter/receipts/{r.pk}/").content.decode()


def test_the_overview_counts_redemptions_by_month(world: World, counter: dict[str, Any]) -> None:
    from doorstep.core import timeutils

    from ..services import redemption_create

    redemption_create(
        actor=world.user(Role.OUTLET_CLERK),
        outlet=counter["outlet"],
        account=counter["account"],
        items={counter["soap"].pk: 2},
        idempotency_key="m",
    )
    page = client_for(world.user(Role.COMMUNITY_STAFF)).get("/console/points/").content.decode()
    month = timeutils.local_today().strftime("%Y-%m")
    assert f"<td>{month}</td><td>1</td><td>40</td><td>30.00</td>" in page


# --- Garbage the form fuzz found (doorstep/web/tests/test_form_fuzz.py) --------------------


def test_a_unit_that_is_no_id_is_refused_with_the_pages_message(
    world: World, counter: dict[str, Any]
) -> None:
    """ "²" passes str.isdigit but not int(): as the overview's unit, in its query or in a
    form, it is no unit, and a rule sent with it is refused by name and not saved."""
    staff = client_for(world.user(Role.COMMUNITY_STAFF))
    assert staff.get("/console/points/", {"unit": "²"}).status_code == 200
    rule = {"action": "rule", "unit": "²", "activity_type": "patrol", "points_per_hour": "6"}
    response = staff.post("/console/points/", rule)
    assert response.status_code == 400 and "请选择社区/村。" in response.content.decode()
    assert not EarningRule.objects.filter(activity_type="patrol").exists()


@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01"])
def test_report_dates_no_person_means_filter_nothing(
    world: World, counter: dict[str, Any], day: str
) -> None:
    """The calendar's last day has no next day, and midnight of its first in Shanghai no
    UTC instant: such a bound of the overview's report is no bound."""
    staff = client_for(world.user(Role.COMMUNITY_STAFF))
    page = staff.get("/console/points/", {"start": day, "end": day})
    assert page.status_code == 200 and "甲社区爱心屋" in page.content.decode()


def test_restocking_goods_that_are_no_id_is_refused_by_name(
    world: World, counter: dict[str, Any]
) -> None:
    staff = client_for(world.user(Role.COMMUNITY_STAFF))
    outlet_page = f"/console/points/outlets/{counter['outlet'].pk}/"
    stock = counter["soap"].stock
    for goods in ["x", "²", str(2**70), "0"]:
        response = staff.post(outlet_page, {"action": "restock", "goods": goods, "quantity": "5"})
        assert response.status_code == 400 and "所选商品不存在。" in response.content.decode()
    counter["soap"].refresh_from_db()
    assert counter["soap"].stock == stock
    english = staff.post(
        outlet_page, {"action": "restock", "goods": "x", "quantity": "5"}, HTTP_ACCEPT_LANGUAGE="en"
    )
    assert "The goods chosen do not exist." in english.content.decode()


def test_an_account_that_is_no_id_is_no_account_at_the_counter(counter: dict[str, Any]) -> None:
    response = counter["client"].get("/console/counter/", {"account": "²", "ticket": "t"})
    assert response.status_code == 404


def test_the_history_lists_transfers_by_when_they_happened(
    world: World, counter: dict[str, Any]
) -> None:
    """Hours confirmed from an import are written after later transfers but dated when
    the service happened: the statement puts them in their place in time."""
    import datetime as dt

    from doorstep.core import timeutils

    from ..choices import ActivityType
    from ..services import points_earn

    person_link_account(person=world.a.person, user=world.user(Role.RESIDENT))
    earlier = timeutils.now() - dt.timedelta(days=40)
    points_earn(person=world.a.person, activity_type=ActivityType.SANITATION, minutes=60,
                occurred_on=earlier.date(), source_type="import", source_id="old-1",
                reason="补录：上月环境整治", at=earlier)  # fmt: skip
    page = client_for(world.user(Role.RESIDENT)).get("/me/points/").content.decode()
    dates = re.findall(r"<td>(\d{4}-\d{2}-\d{2}) \d{2}:\d{2}</td>", page)
    assert dates == sorted(dates, reverse=True) and len(dates) == 2
    assert page.index("补录：上月环境整治") > page.rindex("<td>" + dates[0])
