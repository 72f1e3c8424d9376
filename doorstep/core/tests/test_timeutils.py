import datetime as dt

import pytest
from django.utils import translation

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


@pytest.mark.parametrize(
    ("text", "day"),
    [("2026-06-01", dt.date(2026, 6, 1)), ("1900-01-01", dt.date(1900, 1, 1)), ("", None)],
)
def test_a_date_parameter_is_a_day_a_person_means(text: str, day: dt.date | None) -> None:
    from doorstep.core.api import query_date

    assert query_date(text, "start") == day


@pytest.mark.parametrize("text", ["9999-12-31", "0001-01-01", "1899-12-31", "3000-01-01"])
def test_a_day_past_the_product_s_calendar_is_refused_by_name(text: str) -> None:
    """9999-12-31 has no next day and midnight of 0001-01-01 in Shanghai no UTC instant:
    a report over such a day failed with a server error."""
    from doorstep.core.api import query_date
    from doorstep.core.errors import ValidationError

    with pytest.raises(ValidationError, match="1900-01-01 至 2999-12-31") as refused:
        query_date(text, "start")
    assert refused.value.field == "start"
    with translation.override("en"), pytest.raises(ValidationError, match="must lie between"):
        query_date(text, "start")
