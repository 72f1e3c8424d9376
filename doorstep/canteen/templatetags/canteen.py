"""Template filters of the canteen pages."""

from __future__ import annotations

from django import template

from doorstep.core.templatetags.money import yuan

register = template.Library()


# The pages of this app load this library; the filter is the one all money shares.
register.filter("yuan", yuan)
