import logging

from doorstep.core.logging import RedactFilter, redact


def test_id_numbers_phones_and_secrets_are_masked() -> None:
    text = "id 51050219800101123X phone 13812345678 password=hunter2 token: abc123"
    out = redact(text)
    assert "51050219800101123X" not in out and "510502********123X" in out
    assert "13812345678" not in out and "138****5678" in out
    assert "hunter2" not in out and "abc123" not in out


def test_filter_rewrites_the_record() -> None:
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "phone %s", ("13912345678",), None)
    assert RedactFilter().filter(record)
    assert record.getMessage() == "phone 139****5678"
