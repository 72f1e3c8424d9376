"""The appeals settings, with defaults: ``settings.DOORSTEP_APPEALS`` overrides any key."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings

DEFAULTS: dict[str, Any] = {
    # Time allowed per color, in hours (green 1 day, yellow 7 days, red 30 days).
    "SLA_HOURS": {"green": 24, "yellow": 24 * 7, "red": 24 * 30},
    # How long before the deadline the responsible staff are reminded.
    "REMIND_BEFORE_HOURS": {"green": 4, "yellow": 24, "red": 24 * 3},
    # A resolved case nobody rates closes (as unrated) after this many days.
    "AUTO_CLOSE_DAYS": 7,
    # Open cases of the same category within this distance are offered as duplicates.
    "DUPLICATE_RADIUS_M": 200,
    "PHOTO_MAX_BYTES": 10 * 1024 * 1024,
    "PHOTO_MAX_PIXELS": 40_000_000,
    "PHOTO_MAX_SIDE": 2560,
    # Dotted paths of notification channels; the logging channel only writes a log line.
    "NOTIFY_CHANNELS": ["doorstep.appeals.notify.LoggingChannel"],
    # How far from a community's or compound's point a map pick may lie, in metres.
    "LOCATION_RADIUS_M": 3000,
}


def conf(key: str) -> Any:
    return {**DEFAULTS, **getattr(settings, "DOORSTEP_APPEALS", {})}[key]


def sla(color: str) -> dt.timedelta:
    return dt.timedelta(hours=conf("SLA_HOURS")[color])


def remind_before(color: str) -> dt.timedelta:
    return dt.timedelta(hours=conf("REMIND_BEFORE_HOURS")[color])
