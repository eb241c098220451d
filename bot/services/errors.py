"""Domain errors: one hierarchy, each carrying a message fit to show the member as-is.

The console prints `str(error)`; the Discord layer's error handler will send it as an
ephemeral reply. Anything that is *not* a `MentorError` is a bug and is logged instead.
"""

from __future__ import annotations

from collections.abc import Sequence


class MentorError(Exception):
    """Base class: `message` is user-facing, friendly and actionable."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class ValidationError(MentorError):
    """The member's input is malformed or out of range; nothing was stored."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class NotFound(MentorError):
    """The thing the member referred to does not exist (phase, milestone, log)."""


class UnknownPhase(NotFound):
    def __init__(self, phase: object, available: Sequence[int]) -> None:
        listed = ", ".join(str(p) for p in available) or "none"
        super().__init__(f"There is no phase {phase}. Phases in the roadmap: {listed}.")
        self.phase = phase


class UnknownMilestone(NotFound):
    def __init__(self, milestone_id: str, suggestions: Sequence[str] = ()) -> None:
        shown = milestone_id if len(milestone_id) <= 60 else milestone_id[:57] + "..."
        hint = f" Did you mean: {', '.join(suggestions)}?" if suggestions else ""
        super().__init__(
            f"There is no milestone {shown!r}.{hint} See `/roadmap N` for the milestone ids."
        )
        self.milestone_id = milestone_id
        self.suggestions = tuple(suggestions)


class NothingToUndo(NotFound):
    def __init__(self) -> None:
        super().__init__("You have no study logs to undo.")


class InvalidTimezone(ValidationError):
    def __init__(self, name: str, suggestions: Sequence[str] = ()) -> None:
        shown = name if len(name) <= 60 else name[:57] + "..."
        hint = (
            f" Did you mean: {', '.join(suggestions)}?"
            if suggestions
            else " Use an IANA name such as Europe/Berlin, America/New_York or UTC."
        )
        super().__init__(f"{shown!r} is not a timezone I know.{hint}", field="timezone")
        self.name = name
        self.suggestions = tuple(suggestions)
