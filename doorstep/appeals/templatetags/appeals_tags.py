"""Small display helpers for appeals templates."""

from __future__ import annotations

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString

from doorstep.appeals.choices import Action, CaseKind, CaseState, Color, Level
from doorstep.appeals.models import category_label as _category_label

register = template.Library()


@register.simple_tag
def color_badge(color: str) -> SafeString:
    label = Color(color).label if color in Color.values else color
    return format_html('<span class="appeal-color appeal-{}">{}</span>', color, label)


@register.filter
def state_label(state: str) -> str:
    return str(CaseState(state).label) if state in CaseState.values else state


@register.filter
def kind_label(kind: str) -> str:
    return str(CaseKind(kind).label) if kind in CaseKind.values else kind


@register.filter
def level_label(level: str) -> str:
    return str(Level(level).label) if level in Level.values else level


@register.filter
def action_label(action: str) -> str:
    return str(Action(action).label) if action in Action.values else action


@register.filter
def category_label(name: str) -> str:
    """A category's name (``category__name`` of a values row) in the reader's language."""
    return _category_label(name)
