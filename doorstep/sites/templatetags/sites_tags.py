"""Template filters of the site pages."""

from __future__ import annotations

from django import template

register = template.Library()


@register.filter
def yuan(fen: int | None) -> str:
    """An amount in fen shown in yuan with two decimals (integers throughout)."""
    if fen is None:
        return ""
    sign = "-" if fen < 0 else ""
    whole, cents = divmod(abs(int(fen)), 100)
    return f"{sign}{whole}.{cents:02d}"


@register.filter
def percent_bp(bp: int | None) -> str:
    """Basis points as a percentage: 6667 → 66.67%."""
    if bp is None:
        return ""
    whole, rest = divmod(int(bp), 100)
    return f"{whole}.{rest:02d}%" if rest else f"{whole}%"
