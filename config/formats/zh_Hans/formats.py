"""Simplified Chinese input formats with ISO first.

Django writes a form's date into ``<input type="date">`` (and ``datetime-local``) in the
first input format of the language, which for zh-hans is ``2026/01/01``; browsers accept
only ``2026-01-01`` there and showed the field empty, so a prefilled date was lost on
every edit. The other formats stay accepted when typed."""

DATE_INPUT_FORMATS = ["%Y-%m-%d", "%Y/%m/%d", "%Y年%m月%d日"]
DATETIME_INPUT_FORMATS = [
    "%Y-%m-%dT%H:%M",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M:%S.%f",
    "%Y/%m/%d %H:%M",
    "%Y/%m/%d %H:%M:%S",
    "%Y年%m月%d日 %H:%M",
]
