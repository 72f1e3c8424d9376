"""Money on pages: amounts are kept in fen (integers) and shown in yuan."""

from __future__ import annotations

from typing import Any

from django import template

register = template.Library()


@register.filter
def yuan(fen: Any) -> str:
    """Fen as yuan with two decimals: ``1000`` → ``10.00``, ``-5`` → ``-0.05``; anything
    that is not a whole number of fen shows nothing."""
    try:
        value = int(fen)
    except (TypeError, ValueError):
        return ""
    sign = "-" if value < 0 else ""
    whole, cents = divmod(abs(value), 100)
    return f"{sign}{whole}.{cents:02d}"
