"""Counter tickets: a signed, short-lived pass that lets the user who found a row by a
search open that one row, and nobody else open it by id. Stateless (Django's signing
with the secret key), so any app machine can check it."""

from __future__ import annotations

from typing import Any

from django.core import signing

SHIFT = 4 * 3600  # seconds: one shift at a till


def issue(*, actor: Any, salt: str, value: int) -> str:
    """A ticket to ``value`` (a row id) for ``actor``, valid where ``salt`` is checked."""
    return signing.dumps({"u": getattr(actor, "pk", None), "v": value}, salt=salt, compress=False)


def redeem(*, actor: Any, salt: str, ticket: str, max_age: int = SHIFT) -> int | None:
    """The row id a ticket of ``actor``'s opens, or None for a forged, expired,
    mis-salted or someone else's ticket."""
    try:
        data = signing.loads(ticket or "", salt=salt, max_age=max_age)
    except signing.BadSignature:  # also SignatureExpired
        return None
    if not isinstance(data, dict) or data.get("u") != getattr(actor, "pk", None):
        return None
    value = data.get("v")
    return value if isinstance(value, int) and not isinstance(value, bool) else None
