"""In the chat, a failed command is one line on screen; its traceback goes to a log file."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import pytest

from bot.cli import log_console_to_file
from bot.console.commands import SOMETHING_WENT_WRONG, explain_failure
from bot.services.errors import ValidationError
from bot.settings import Settings


def test_a_bug_is_one_line_on_screen_and_a_traceback_in_the_log_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = logging.getLogger()
    screen = logging.StreamHandler(sys.stderr)  # what `mentor chat` logs to otherwise
    root.addHandler(screen)
    handler = log_console_to_file(
        Settings(_env_file=None, mentor_data_dir=tmp_path / "data")  # type: ignore[call-arg]
    )
    assert handler is not None
    try:
        try:
            {}["missing"]
        except KeyError as exc:
            reply = explain_failure(exc, "console command cmd_progress")
        domain = explain_failure(ValidationError("Minutes must be a whole number"), "x")
    finally:
        console_log = logging.getLogger("bot.console")
        console_log.removeHandler(handler)
        console_log.propagate = True
        handler.close()
        root.removeHandler(screen)
    assert reply == SOMETHING_WENT_WRONG
    assert domain == "Minutes must be a whole number"
    written = (tmp_path / "data" / "console.log").read_text(encoding="utf-8")
    assert "console command cmd_progress failed" in written
    assert "Traceback (most recent call last)" in written
    assert "KeyError: 'missing'" in written
    assert "Minutes must be a whole number" not in written  # the member's error is no bug
    assert capsys.readouterr().err == ""
