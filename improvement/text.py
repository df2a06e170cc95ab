"""What counts as text a person can read: used by services, so every route meets the same rule."""

from __future__ import annotations

import unicodedata

# Unicode categories that print nothing: format characters (zero-width space and joiners, bidi
# marks, the byte-order mark, soft hyphen), controls, separators and unassigned code points.
# Cf covers U+200B..U+200F, U+2060..U+2064, U+FEFF and U+00AD; Zs, Zl and Zp are spaces.
_INVISIBLE_CATEGORIES = {"Cf", "Cc", "Cs", "Co", "Cn", "Zs", "Zl", "Zp"}
# Blank-looking letters that are not in the categories above (Hangul fillers, braille blank).
_BLANK_LETTERS = {"\u115f", "\u1160", "\u3164", "\uffa0", "\u2800"}


def is_invisible(char: str) -> bool:
    return (
        char.isspace()
        or char in _BLANK_LETTERS
        or unicodedata.category(char) in _INVISIBLE_CATEGORIES
    )


def visible_text(value: str | None) -> str:
    """The value with invisible characters trimmed from both ends ("" if nothing visible).

    Invisible characters inside the text are kept: a zero-width joiner inside an emoji, or a
    line break between paragraphs, is part of what the person wrote.
    """
    value = value or ""
    start, end = 0, len(value)
    while start < end and is_invisible(value[start]):
        start += 1
    while end > start and is_invisible(value[end - 1]):
        end -= 1
    return value[start:end]


def has_visible_text(value: str | None) -> bool:
    return bool(visible_text(value))
