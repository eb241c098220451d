"""Every parser and validator members reach, under generated input: the only exception any
of them may raise is the domain's own `ValidationError` (argparse's error for the CLI), and
what they accept is exactly what they document (ASCII digits, bounded lengths, no
surrogates on the way to a database).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import re
from datetime import date

import pytest
from hypothesis import strategies as st

from bot.cli import _phase, build_parser, json_line
from bot.console.commands import split_args
from bot.console.progress import _parse_int
from bot.discord.views.log_form import parse_minutes
from bot.services.challenges import parse_day, parse_goal, parse_metric, validate_name
from bot.services.errors import MentorError, ValidationError
from bot.services.feedback import _clean_question, question_key
from bot.services.leaderboard import parse_period
from bot.services.mentor_text import clean_question, has_words, small_talk
from bot.services.nudges import parse_hour, parse_weekday
from bot.services.parsing import is_whole_number, parse_whole_number, replace_surrogates
from bot.services.study import (
    MAX_MINUTES,
    validate_link,
    validate_minutes,
    validate_note,
    validate_topic,
)
from bot.services.timezones import canonical_timezone
from tests.fuzzing import MEMBER_TEXT, fuzz

ASCII_INT = re.compile(r"[+-]?[0-9]+")
SURROGATE = re.compile("[\ud800-\udfff]")


def _domain(call, *args: object) -> object:
    """Run a parser; a MentorError is an allowed outcome (returned as None)."""
    message = None
    try:
        return call(*args)
    except MentorError as exc:
        message = str(exc)
    assert message, "a domain error always carries its message"
    return None


@pytest.mark.parametrize("text", ["²", "¹²", "①", "٣", "７", "1²", "-²", "⁴⁵", "𝟗"])
def test_non_ascii_digits_are_a_clear_error_everywhere(text: str) -> None:
    """'²'.isdigit() is true and int('²') fails; int('٣') succeeds. Neither is a number here."""
    for parse in (parse_hour, parse_goal, parse_minutes):
        with pytest.raises(ValidationError):
            parse(text)
    with pytest.raises(ValidationError, match="weekday"):
        parse_weekday(text)
    with pytest.raises(ValidationError, match="whole number"):
        _parse_int(text, "Minutes", "/log 45 x")
    with pytest.raises(argparse.ArgumentTypeError):
        _phase(text)


@fuzz(MEMBER_TEXT)
def test_whole_numbers_are_ascii_digits_or_a_validation_error(text: str) -> None:
    value = _domain(lambda: parse_whole_number(text, message="not a number"))
    stripped = text.strip()
    if value is None:
        assert not (ASCII_INT.fullmatch(stripped) and len(stripped.lstrip("+-")) <= 12)
    else:
        assert ASCII_INT.fullmatch(stripped)
        assert value == int(stripped)
    assert is_whole_number(text) == (value is not None)


@fuzz(st.one_of(MEMBER_TEXT, st.integers(), st.booleans()))
def test_hour_and_weekday(value: str | int | bool) -> None:
    hour = _domain(parse_hour, value)
    assert hour is None or (0 <= hour <= 23 and not isinstance(value, bool))
    weekday = _domain(parse_weekday, value)
    assert weekday is None or 0 <= weekday <= 6


@fuzz(MEMBER_TEXT)
def test_console_integers_and_log_form_minutes(text: str) -> None:
    number = _domain(_parse_int, text, "Minutes", "/log 45 topic")
    assert number is None or ASCII_INT.fullmatch(text.strip())
    minutes = _domain(parse_minutes, text)
    assert minutes is None or 0 <= minutes <= 99_999


@fuzz(MEMBER_TEXT)
def test_cli_phase_is_an_argument_error_or_a_phase(text: str) -> None:
    try:
        phase: int | str = _phase(text)
    except argparse.ArgumentTypeError as exc:
        phase = str(exc)
    assert phase in (0, 1, 2, 3) or "phase must be 0, 1, 2 or 3" in str(phase)


@fuzz(MEMBER_TEXT, st.sampled_from(["--phase", "--jsonl", "--", "x"]))
def test_cli_arguments_parse_or_exit_with_usage(text: str, flag: str) -> None:
    """argparse's own exit (status 2, a usage line) is the CLI's domain error."""
    errors = io.StringIO()
    status: object = None
    try:
        with contextlib.redirect_stderr(errors):
            args = build_parser().parse_args(["ask", flag, text, "question"])
    except SystemExit as exc:
        status = exc.code
    if status is None:
        assert args.phase in (None, 0, 1, 2, 3)
    else:
        assert status == 2
        assert "usage: mentor" in errors.getvalue()


@fuzz(st.one_of(MEMBER_TEXT, st.integers(), st.booleans(), st.none(), st.floats()))
def test_study_log_validators(value: object) -> None:
    minutes = _domain(validate_minutes, value)
    assert minutes is None or 1 <= minutes <= MAX_MINUTES
    if isinstance(value, str):
        for validate in (validate_topic, validate_note, validate_link):
            clean = _domain(validate, value)
            assert clean is None or not SURROGATE.search(clean)
            assert clean is None or "\x00" not in clean


@fuzz(MEMBER_TEXT, MEMBER_TEXT)
def test_challenge_validators(text: str, other: str) -> None:
    name = _domain(validate_name, text)
    assert name is None or (name == name.strip() and not SURROGATE.search(name))
    assert _domain(parse_metric, text) in (None, "minutes", "active_days", "milestones")
    goal = _domain(parse_goal, other)
    assert goal is None or goal > 0
    day = _domain(parse_day, text, "start")
    assert day is None or isinstance(day, date)


@fuzz(st.one_of(MEMBER_TEXT, st.none()))
def test_period_timezone_and_feedback_text(text: str | None) -> None:
    assert _domain(parse_period, text) in (None, "week", "month", "all")
    if text is not None:
        timezone = _domain(canonical_timezone, text)
        assert timezone is None or timezone.isascii()
        stored = _domain(_clean_question, text)
        assert stored is None or (question_key(stored) and not SURROGATE.search(stored))


@fuzz(MEMBER_TEXT)
def test_split_args_is_words_or_a_clear_quoting_error(text: str) -> None:
    words = _domain(split_args, text)
    assert words is None or all(isinstance(w, str) for w in words)


@fuzz(st.text(max_size=200))
def test_question_cleaning_is_total_idempotent_and_plain(text: str) -> None:
    clean = clean_question(text)
    assert clean == clean_question(clean)
    assert clean == clean.strip()
    assert not any(ch in clean for ch in "\x00\n\r\t\u2028\u2029\x85")
    assert "@everyone" not in clean.lower()
    has_words(clean)
    small_talk(clean)


@fuzz(st.text(st.characters(codec="utf-8"), max_size=20), st.text(max_size=60))
def test_clean_question_undoes_any_zalgo(word: str, marks_source: str) -> None:
    """Any pile of generic combining marks on ASCII letters cleans back to the letters."""
    plain = re.sub(r"[^A-Za-z0-9 ?]", "", word) or "How long is phase 1"
    marks = [chr(0x0300 + ord(c) % 0x70) for c in marks_source] or ["\u0336"]
    zalgo = "".join(ch + "".join(marks[: 1 + i % 7]) + "\u0338" for i, ch in enumerate(plain))
    assert clean_question(zalgo) == clean_question(plain)


@fuzz(st.dictionaries(st.text(max_size=5), st.text(max_size=40), max_size=4))
def test_json_line_is_one_physical_line_whatever_the_text(payload: dict[str, str]) -> None:
    line = json_line(payload)
    assert line.endswith("\n")
    assert len(line.splitlines()) == 1
    assert json.loads(line) == {
        replace_surrogates(k): replace_surrogates(v) for k, v in payload.items()
    }


def test_json_line_escapes_every_character_splitlines_breaks_on() -> None:
    breakers = [chr(c) for c in range(0x110000) if len(f"a{chr(c)}b".splitlines()) > 1]
    assert {hex(ord(c)) for c in breakers} >= {"0x85", "0x2028", "0x2029", "0x1c", "0xb"}
    question = "one" + "".join(breakers) + "two"
    line = json_line({"question": question})
    assert len(line.splitlines()) == 1
    assert json.loads(line)["question"] == question
