"""How numbers, durations and phases are worded, shared by the console, services and Discord.

One definition of each, so that "Phase 1: Foundations", "3h 20m" and "1 session" read the
same in a nudge, a console reply and a Discord embed, and a fix lands everywhere at once.
"""

from __future__ import annotations

from typing import Protocol


class NamedPhase(Protocol):
    """Anything that describes a roadmap phase (the guide's phases, the services' view)."""

    @property
    def number(self) -> int: ...

    @property
    def label(self) -> str: ...

    @property
    def title(self) -> str: ...


def fmt_minutes(minutes: int) -> str:
    """45 -> '45m', 200 -> '3h 20m', 120 -> '2h'."""
    hours, rest = divmod(int(minutes), 60)
    if not hours:
        return f"{rest}m"
    return f"{hours}h {rest}m" if rest else f"{hours}h"


def plural(count: int, singular: str, plural_form: str | None = None) -> str:
    """'1 session', '2 sessions', '0 sessions'; `plural_form` for irregular words."""
    word = singular if count == 1 else (plural_form or f"{singular}s")
    return f"{count:,} {word}"


def phase_label(number: int) -> str:
    """The short name of a roadmap step: 'prerequisite' for 0, else 'Phase N'."""
    return "prerequisite" if number == 0 else f"Phase {number}"


def phase_name(phase: NamedPhase) -> str:
    """'Phase 1: ML foundations', without doubling a title that already says 'Phase 1'."""
    title = phase.title.strip()
    if title.lower().startswith((phase.label.lower(), f"phase {phase.number}")):
        return title
    return f"{phase.label}: {title}"
