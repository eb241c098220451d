from __future__ import annotations

import pytest

from bot.discord.text import (
    MESSAGE_LIMIT,
    one_line,
    split_message,
    strip_bot_mention,
    truncate,
)


def test_short_text_is_one_chunk() -> None:
    assert split_message("  hello  ") == ["hello"]


def test_blank_text_gives_no_chunks() -> None:
    assert split_message(" \n\n ") == []


def test_splits_on_paragraph_boundaries_first() -> None:
    first = "a" * 1200
    second = "b " * 600
    chunks = split_message(f"{first}\n\n{second}")
    assert chunks == [first, second.strip()]
    assert all(len(c) <= MESSAGE_LIMIT for c in chunks)


def test_falls_back_to_lines_then_words() -> None:
    text = "\n".join(["word " * 30] * 30)  # ~4,500 chars, lines of 150, no blank lines
    chunks = split_message(text, limit=1000)
    assert all(len(c) <= 1000 for c in chunks)
    assert all(not c.endswith(" ") and c == c.strip() for c in chunks)
    assert " ".join(" ".join(chunks).split()) == " ".join(text.split())
    words = ("lorem " * 400).strip()
    word_chunks = split_message(words, limit=100)
    assert all(len(c) <= 100 and not c.startswith(" ") for c in word_chunks)
    assert " ".join(word_chunks) == words


def test_hard_splits_one_unbroken_run() -> None:
    chunks = split_message("x" * 4500)
    assert [len(c) for c in chunks] == [2000, 2000, 500]


def test_rejects_a_non_positive_limit() -> None:
    with pytest.raises(ValueError, match="positive"):
        split_message("text", limit=0)


def test_truncate_marks_the_cut() -> None:
    assert truncate("abcdef", 10) == "abcdef"
    assert truncate("abcdefghij", 5) == "abcd…"
    assert len(truncate("a" * 300, 256)) == 256
    assert truncate("abc", 0) == ""


def test_strip_bot_mention_handles_both_forms() -> None:
    assert strip_bot_mention("<@42> how long is phase 1?", 42) == "how long is phase 1?"
    assert strip_bot_mention("hey <@!42>, what is MLOps", 42) == "hey  , what is MLOps"
    assert strip_bot_mention("<@43> hi", 42) == "<@43> hi"


def test_one_line_collapses_whitespace() -> None:
    assert one_line("a\n\n b\tc", 100) == "a b c"
