import datetime as dt

import pytest

from doorstep.core.timeutils import LOCAL_TZ, local, month_bounds


def test_month_bounds_are_local_midnights() -> None:
    start, end = month_bounds(2026, 12)
    assert start == dt.datetime(2026, 12, 1, tzinfo=LOCAL_TZ)
    assert end == dt.datetime(2027, 1, 1, tzinfo=LOCAL_TZ)
    # Midnight in Shanghai is 16:00 UTC the day before.
    assert start.astimezone(dt.UTC) == dt.datetime(2026, 11, 30, 16, tzinfo=dt.UTC)


def test_invalid_month_is_refused() -> None:
    with pytest.raises(ValueError, match=r"1\.\.12"):
        month_bounds(2026, 13)


def test_local_converts_to_shanghai() -> None:
    assert local(dt.datetime(2026, 1, 1, 20, tzinfo=dt.UTC)).date() == dt.date(2026, 1, 2)
