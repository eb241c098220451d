"""The shared wording of durations, counts and phases."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from bot.services.formatting import fmt_minutes, phase_label, phase_name, plural


@dataclass(frozen=True)
class _Phase:
    number: int
    label: str
    title: str


@pytest.mark.parametrize(
    ("minutes", "shown"), [(0, "0m"), (45, "45m"), (60, "1h"), (200, "3h 20m"), (1500, "25h")]
)
def test_fmt_minutes(minutes: int, shown: str) -> None:
    assert fmt_minutes(minutes) == shown


@pytest.mark.parametrize(
    ("count", "shown"),
    [(0, "0 sessions"), (1, "1 session"), (2, "2 sessions"), (1200, "1,200 sessions")],
)
def test_plural_agrees_with_the_count(count: int, shown: str) -> None:
    assert plural(count, "session") == shown


def test_plural_takes_an_irregular_form() -> None:
    assert plural(1, "person", "people") == "1 person"
    assert plural(3, "person", "people") == "3 people"


def test_phase_label_names_the_prerequisites() -> None:
    assert phase_label(0) == "prerequisite"
    assert phase_label(2) == "Phase 2"


def test_phase_name_does_not_double_the_label() -> None:
    assert phase_name(_Phase(1, "Phase 1", "ML foundations")) == "Phase 1: ML foundations"
    assert (
        phase_name(_Phase(1, "Phase 1", "Phase 1 - ML foundations")) == "Phase 1 - ML foundations"
    )
    assert phase_name(_Phase(0, "Prerequisites", "prerequisites: maths")) == "prerequisites: maths"
