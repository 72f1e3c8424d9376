"""Pinyin keys for searching names: ``zhangsan`` and ``zs`` both find 张三."""

from __future__ import annotations

from pypinyin import lazy_pinyin


def pinyin_keys(name: str) -> tuple[str, str]:
    """(full pinyin, initials), lower case ASCII without tones or spaces."""
    syllables = [s for s in lazy_pinyin(name, errors="ignore") if s.isascii()]
    full = "".join(syllables).replace("ü", "v").lower()
    initials = "".join(s[0] for s in syllables if s).lower()
    return full[:200], initials[:50]


def is_pinyin_query(text: str) -> bool:
    return bool(text) and text.isascii() and text.isalpha()
