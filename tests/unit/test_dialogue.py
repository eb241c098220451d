"""Two-part questions, follow-up cues and phase references: pure text rules."""

import pytest

from bot.services.dialogue import changes_topic, question_parts, refers_back, resolve_phase


@pytest.mark.parametrize(
    ("question", "parts"),
    [
        (
            "how long to learn python and which projects should i build?",
            ("how long to learn python", "which projects should i build?"),
        ),
        (
            "do i need a cs degree, and what languages should i know?",
            ("do i need a cs degree", "what languages should i know?"),
        ),
        (
            "How long is Phase 1? What tools does it use?",
            ("How long is Phase 1", "What tools does it use?"),
        ),
    ],
)
def test_two_part_questions_split_into_their_questions(question, parts):
    assert question_parts(question) == parts


@pytest.mark.parametrize(
    "question",
    [
        "what is the difference between pytorch and tensorflow?",
        "should I learn docker and kubernetes?",
        "pros and cons of bootcamps?",
        "and how?",
    ],
)
def test_one_question_stays_whole(question):
    assert question_parts(question) is None


@pytest.mark.parametrize(
    "question",
    [
        "and how long does that take?",
        "what about phase 3?",
        "is it worth it?",
        "any courses for that?",
    ],
)
def test_follow_up_cues(question):
    assert refers_back(question)


@pytest.mark.parametrize(
    "question",
    [
        "different question: do I need a degree?",
        "ok switching topics - what should my portfolio have?",
        "thanks. unrelated: any good podcasts?",
    ],
)
def test_a_declared_topic_change_is_not_a_reference(question):
    assert changes_topic(question)
    assert not refers_back(question)


def test_a_plain_question_neither_refers_back_nor_changes_topic():
    assert not refers_back("do I need a computer science degree?")
    assert not changes_topic("do I need a computer science degree?")


def test_that_phase_becomes_the_earlier_answers_phase():
    assert resolve_phase("how long does that phase take?", 2) == "how long does phase 2 take?"
    assert resolve_phase("and this stage?", 3) == "and phase 3?"
    assert resolve_phase("how long does that phase take?", None) == (
        "how long does that phase take?"
    )
    assert resolve_phase("is phase 1 hard?", 2) == "is phase 1 hard?"
