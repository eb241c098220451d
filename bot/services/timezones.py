"""IANA timezone names: validate, canonicalise, and suggest close matches.

Only names in `zoneinfo.available_timezones()` are accepted (case-insensitively), which
also keeps path-like input away from ZoneInfo's file lookup. Suggestions use difflib over
the full names and over their city part, so "berlin" or "Europe/Berlim" get
"Europe/Berlin".
"""

from __future__ import annotations

import difflib
from functools import lru_cache
from zoneinfo import ZoneInfo, available_timezones

from bot.services.errors import InvalidTimezone

_MAX_NAME = 64


@lru_cache(maxsize=1)
def _names() -> dict[str, str]:
    """lower-case name -> canonical name (tzdata ships ~600; computed once)."""
    names = set(available_timezones()) | {"UTC"}
    return {n.lower(): n for n in names if not n.startswith(("posix/", "right/"))}


@lru_cache(maxsize=1)
def _cities() -> dict[str, list[str]]:
    """lower-case last component ('berlin') -> canonical names ending with it."""
    out: dict[str, list[str]] = {}
    for lower, name in _names().items():
        out.setdefault(lower.rsplit("/", 1)[-1], []).append(name)
    return out


def suggest_timezones(name: str, limit: int = 3) -> list[str]:
    key = name.strip().lower().replace(" ", "_")[:_MAX_NAME]
    if not key:
        return []
    found: list[str] = sorted(_cities().get(key.rsplit("/", 1)[-1], []))
    for match in difflib.get_close_matches(key, list(_names()), n=limit, cutoff=0.6):
        found.append(_names()[match])
    city_matches = difflib.get_close_matches(key.rsplit("/", 1)[-1], list(_cities()), n=2)
    for city in city_matches:
        found.extend(sorted(_cities()[city]))
    unique = list(dict.fromkeys(found))
    return unique[:limit]


def canonical_timezone(name: str) -> str:
    """The canonical IANA spelling of `name`, or `InvalidTimezone` with suggestions."""
    key = name.strip().replace(" ", "_")
    if not key or len(key) > _MAX_NAME:
        raise InvalidTimezone(name.strip() or name, suggest_timezones(name) if key else [])
    canonical = _names().get(key.lower())
    if canonical is None:
        raise InvalidTimezone(name.strip(), suggest_timezones(key))
    return canonical


def zone(name: str) -> ZoneInfo:
    """ZoneInfo for a stored name; a corrupt stored value degrades to UTC, never crashes."""
    try:
        return ZoneInfo(canonical_timezone(name))
    except InvalidTimezone:
        return ZoneInfo("UTC")
