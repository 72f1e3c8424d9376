"""What waits for a user: the to-do list on the console's home page (工作台), and a
resident's own on the home page.

Each app knows what in it waits for whom. It registers a provider at start-up (its
``AppConfig.ready``); the console's home asks every provider for the user's items. So the
console shell imports no app, and an app that is not installed adds nothing.

A provider returns the items that apply to the user's roles (none when no role of theirs
does), each a count read through the scoping checkpoint and a link to the page where
the work is done. Counts stop at :data:`CAP`: "more than 999" is all a home page needs to
say, and a city-wide count must not scan a million rows to say it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet

CAP = 999


@dataclass(frozen=True)
class Todo:
    """One line of the list: ``count`` things waiting, shown as ``label``, done at ``url``.
    ``urgent`` marks it red while its count is above zero (overdue, past a deadline)."""

    label: str
    count: int
    url: str
    urgent: bool = False
    # The count stopped at CAP: there are more.
    capped: bool = False
    # Orders the list: lower first; items of one provider keep their order.
    weight: int = 50


Provider = Callable[[Any, dt.datetime], Iterable[Todo]]

_providers: list[Provider] = []
# What waits for a resident (their own cases to rate, bookings coming up …), for the
# resident home page: the same kind of items, about the user's own things.
_mine: list[Provider] = []


def register(provider: Provider) -> None:
    """A provider of what waits for staff (the console's home)."""
    if provider not in _providers:
        _providers.append(provider)


def register_mine(provider: Provider) -> None:
    """A provider of what waits for a resident about their own things (the home page)."""
    if provider not in _mine:
        _mine.append(provider)


def counted(label: str, qs: QuerySet[Any], url: str, **kwargs: Any) -> Todo:
    """A to-do item counting the rows of ``qs`` up to :data:`CAP` (one bounded query)."""
    n = qs.order_by()[: CAP + 1].count()
    return Todo(label=label, count=min(n, CAP), url=url, capped=n > CAP, **kwargs)


def _collect(providers: list[Provider], user: Any, now: dt.datetime) -> list[Todo]:
    items: list[Todo] = []
    for provider in providers:
        items.extend(provider(user, now))
    return sorted(items, key=lambda t: (not (t.urgent and t.count), t.weight))


def todos_for(user: Any, now: dt.datetime) -> list[Todo]:
    """Every staff provider's items for ``user``, urgent ones with something waiting
    first."""
    return _collect(_providers, user, now)


def mine_for(user: Any, now: dt.datetime) -> list[Todo]:
    """What waits for ``user`` about their own things, only the lines with something in
    them: a resident's home page stays short."""
    if not getattr(user, "is_authenticated", False):
        return []
    return [item for item in _collect(_mine, user, now) if item.count]
