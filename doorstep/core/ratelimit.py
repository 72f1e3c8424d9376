"""Counting attempts in a fixed window, in the shared cache (Redis in production, so every
worker process counts together)."""

from __future__ import annotations

from django.core.cache import cache


def exceeded(key: str, limit: int, window_s: int) -> bool:
    """Count one attempt under ``key``; True once more than ``limit`` fell within the
    current window of ``window_s`` seconds (the window starts at the first attempt)."""
    full_key = f"doorstep:rate:{key}"
    cache.add(full_key, 0, timeout=window_s)
    try:
        count = cache.incr(full_key)
    except ValueError:  # expired between add and incr
        cache.set(full_key, 1, timeout=window_s)
        count = 1
    return count > limit
