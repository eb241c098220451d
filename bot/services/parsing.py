"""What members type, read one strict way everywhere: whole numbers and raw text.

`str.isdigit()` is true for '²' and '①', and `int()` accepts Arabic-Indic and other Unicode
digits, so "looks like a number" checks built on them either crash (`int('²')`) or quietly
accept text no one meant as a number. Every parser of a count, an hour or an id goes through
`parse_whole_number` instead: ASCII digits only, an optional sign, a bounded length (so
`int()` of a 5,000-digit string is never attempted), and a `ValidationError` otherwise.

Text can also hold lone surrogates: undecodable stdin bytes arrive as U+DC80-U+DCFF under
Python's surrogateescape, and JSON (Discord's payloads) may spell "\\ud800". No database
driver can encode them, so `replace_surrogates` turns each into U+FFFD before anything is
stored.
"""

from __future__ import annotations

import re

from bot.services.errors import ValidationError

_SIGNED = re.compile(r"[+-]?[0-9]+")
_UNSIGNED = re.compile(r"[0-9]+")
_SURROGATE = re.compile("[\ud800-\udfff]")


def is_whole_number(text: str, *, signed: bool = True, max_digits: int = 12) -> bool:
    """True when `text` (stripped) is ASCII digits with an optional sign and not too long."""
    cleaned = text.strip()
    pattern = _SIGNED if signed else _UNSIGNED
    return bool(pattern.fullmatch(cleaned)) and len(cleaned.lstrip("+-")) <= max_digits


def parse_whole_number(
    text: str,
    *,
    message: str,
    signed: bool = True,
    max_digits: int = 12,
    field: str | None = None,
) -> int:
    """`int(text)` for ASCII digits only; `ValidationError(message)` for anything else."""
    if not is_whole_number(text, signed=signed, max_digits=max_digits):
        raise ValidationError(message, field=field)
    return int(text.strip())


def shown(text: str, limit: int = 20) -> str:
    """A bounded excerpt of what the member typed, for quoting it back in an error."""
    cleaned = text.strip()
    return cleaned if len(cleaned) <= limit else cleaned[: limit - 3] + "..."


def replace_surrogates(text: str) -> str:
    """`text` with every lone surrogate replaced by U+FFFD, so it encodes as UTF-8."""
    return _SURROGATE.sub("\ufffd", text)
