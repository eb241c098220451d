"""Follow-ups, two-part questions and near-domain declines with the real model and guide."""

from __future__ import annotations

import re

import pytest

from bot.services.mentor import ANSWER_LIMIT, AnswerKind

pytestmark = pytest.mark.integration

DURATION = r"(?:2|two)\s*(?:[-–—]|to)\s*(?:4|four)"
PHASE_DURATIONS = {
    1: ("the core ML fundamentals", DURATION),
    2: ("the deep learning part", DURATION),
    3: ("the production part", r"(?:2|two)\s*(?:[-–—]|to)\s*(?:3|three)"),
}


def test_a_follow_up_about_that_phase_means_the_earlier_answers_phase(mentor):
    # The same words after three different earlier questions: one reading of them alone
    # could be right once at most, so three right phases show the context decides.
    for phase, (topic, duration) in PHASE_DURATIONS.items():
        earlier = f"What should I learn in Phase {phase}, {topic}?"
        follow_up = mentor.ask("and how long does that phase take?", previous=earlier)
        assert follow_up.confident, earlier
        assert follow_up.phase == phase, earlier
        assert re.search(duration, follow_up.text), earlier


def test_a_follow_up_pronoun_is_read_with_the_earlier_question(mentor):
    follow_up = mentor.ask(
        "which framework should I use for it?",
        previous="what should I learn in phase 2, the deep learning part?",
    )
    assert follow_up.confident
    assert "PyTorch" in follow_up.text


def test_a_follow_up_that_changes_topic_is_answered_on_its_own(mentor):
    follow_up = mentor.ask(
        "thanks! different question: do I need a computer science degree?",
        previous="which framework should I use for deep learning?",
    )
    assert follow_up.confident
    assert "degree" in follow_up.text
    assert "PyTorch" not in follow_up.text


def test_a_two_part_question_answers_both_parts_and_cites_both(mentor):
    answer = mentor.ask("how long should i spend learning python and what level is good enough?")
    assert answer.kind is AnswerKind.ANSWER
    assert len(answer.sources) == 2
    assert "Sources: " in answer.text
    assert len(answer.text) <= ANSWER_LIMIT


@pytest.mark.parametrize(
    "question",
    [
        "How do I negotiate my first ML engineer job offer?",
        "how to negotiate salary as a junior mle",
        "How many interview rounds does Google have for ML engineers?",
        "which javascript framework should i learn for frontend jobs?",
    ],
)
def test_near_domain_questions_the_guide_does_not_cover_are_declined(mentor, question):
    assert not mentor.ask(question).confident


@pytest.mark.parametrize(
    ("question", "must_match"),
    [
        ("how long is the third phase?", r"(?:2|two)\s*(?:[-–—]|to)\s*(?:3|three)"),
        ("whats the best pyhton book for begginers", r"Crash Course|Automate the Boring"),
        ("stats/prob topics for ml?", r"Bayes|distribution"),
        ("feature stores?", r"Feast|Tecton"),
        # The salary question beside the declined negotiation ones above.
        ("whats a typical entry level mle salary", r"130K"),
    ],
)
def test_learner_phrasings_reach_the_right_fact(mentor, question, must_match):
    answer = mentor.ask(question)
    assert answer.confident, answer.text
    assert re.search(must_match, answer.text, re.IGNORECASE), answer.text
