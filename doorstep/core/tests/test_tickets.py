"""Counter tickets open one row for the user who found it, and nothing else."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from django.core import signing

from doorstep.core import tickets

CLERK, OTHER = SimpleNamespace(pk=7), SimpleNamespace(pk=8)


def test_a_ticket_opens_its_row_for_its_user_at_its_place() -> None:
    ticket = tickets.issue(actor=CLERK, salt="counter:1", value=42)
    assert tickets.redeem(actor=CLERK, salt="counter:1", ticket=ticket) == 42
    assert tickets.redeem(actor=OTHER, salt="counter:1", ticket=ticket) is None
    assert tickets.redeem(actor=CLERK, salt="counter:2", ticket=ticket) is None


@pytest.mark.parametrize("ticket", ["", "42", "forged:token", None])
def test_a_forged_or_missing_ticket_opens_nothing(ticket: str | None) -> None:
    assert tickets.redeem(actor=CLERK, salt="counter:1", ticket=ticket or "") is None


def test_an_expired_ticket_or_one_without_an_id_opens_nothing() -> None:
    ticket = tickets.issue(actor=CLERK, salt="counter:1", value=42)
    assert tickets.redeem(actor=CLERK, salt="counter:1", ticket=ticket, max_age=-1) is None
    odd = signing.dumps({"u": 7, "v": True}, salt="counter:1")
    assert tickets.redeem(actor=CLERK, salt="counter:1", ticket=odd) is None
