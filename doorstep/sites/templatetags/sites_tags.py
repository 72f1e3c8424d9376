"""Template filters of the site pages."""

from __future__ import annotations

from django import template

from doorstep.core.templatetags.money import yuan

register = template.Library()


# The pages of this app load this library; the filter is the one all money shares.
register.filter("yuan", yuan)


@register.filter
def percent_bp(bp: int | None) -> str:
    """Basis points as a percentage: 6667 → 66.67%."""
    if bp is None:
        return ""
    whole, rest = divmod(int(bp), 100)
    return f"{whole}.{rest:02d}%" if rest else f"{whole}%"
