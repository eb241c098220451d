"""The real bundled model on the real guide: retrieval, answers, declines, index lifecycle."""

from __future__ import annotations

import re
import shutil

import pytest

from bot.services.mentor import ANSWER_LIMIT, AnswerKind, FaqOverride, MentorService
from knowledge.content import BUNDLED_GUIDE_DIR
from knowledge.engine import load_knowledge

pytestmark = pytest.mark.integration


@pytest.mark.parametrize(
    ("question", "document", "must_say"),
    [
        ("When should I bother with Kubernetes?", None, "Kubernetes"),
        ("Which book by Deisenroth covers the maths?", None, "Deisenroth"),
        ("What are feature stores like Feast for?", "05-phase-3-production", "Feast"),
        ("Can freelancing on Upwork give me experience?", "08-community-and-career", "Upwork"),
        ("Which AI newsletters are worth reading?", "09-staying-current", "The Batch"),
        ("How much do senior ML engineers make at big tech?", "10-faq", "$350K"),
        ("Is PyTorch or TensorFlow used more in industry?", None, "PyTorch"),
    ],
)
def test_known_questions_are_answered_from_the_right_place(mentor, question, document, must_say):
    answer = mentor.ask(question)
    assert answer.confident, answer.text
    assert answer.kind is AnswerKind.ANSWER
    assert must_say in answer.text
    assert len(answer.text) <= ANSWER_LIMIT
    assert re.search(r"\bSources?: ", answer.text)
    if document:
        assert answer.sources[0].document == document


def test_disagreeing_sources_are_both_reported(mentor):
    answer = mentor.ask("Realistically, how many months until I'm job-ready as an MLE?")
    assert answer.confident
    assert "18–24 months" in answer.text
    assert "12–18 months" in answer.text


@pytest.mark.parametrize(
    "question",
    [
        "How do I bake sourdough bread at home?",
        "What is the capital of Australia?",
        "Which football club has won the most Champions League titles?",
        "How often should I water a cactus?",
    ],
)
def test_off_topic_questions_are_declined_honestly(mentor, question):
    answer = mentor.ask(question)
    assert not answer.confident
    assert answer.kind is AnswerKind.NOT_COVERED
    assert "doesn't cover" in answer.text
    assert answer.sources  # the closest sections are listed


def test_phase_mentioned_relative_to_the_asker(mentor):
    answer = mentor.ask("How do I monitor a deployed model for data drift?", phase=1)
    assert answer.confident
    assert answer.phase == 3
    assert "Phase 3 material; you're in Phase 1, so it comes later" in answer.text


@pytest.mark.parametrize(
    "question",
    [
        "h\u0336\u0337o\u0338w\u0335 l\u0334ong is phase 2?",
        "**How long** is `phase 2`?",
        "how long is phase 2? 🤔🤔",
        "how\x00 long\x1b is phase 2?",
        "@everyone how long is phase 2?",
    ],
)
def test_messy_input_is_cleaned_and_still_answered(mentor, question):
    answer = mentor.ask(question)
    assert answer.confident, answer.text
    assert "2–4 months" in answer.text
    assert "@everyone" not in answer.text


def test_index_round_trip_reuses_the_saved_index(real_embedder, tmp_path, caplog):
    first = load_knowledge(tmp_path, embedder=real_embedder)
    with caplog.at_level("INFO", logger="knowledge.store"):
        second = load_knowledge(tmp_path, embedder=real_embedder)
    assert "building" not in caplog.text
    assert "rebuilding" not in caplog.text
    assert second.manifest == first.manifest
    question = "What does Evidently detect?"
    assert [h.chunk.id for h in second.retriever.search(question).hits] == [
        h.chunk.id for h in first.retriever.search(question).hits
    ]


def test_guide_edit_is_picked_up_by_an_automatic_rebuild(real_embedder, tmp_path, caplog):
    guide = tmp_path / "guide"
    shutil.copytree(BUNDLED_GUIDE_DIR, guide)
    before = load_knowledge(tmp_path / "index", guide_dir=guide, embedder=real_embedder)
    faq = guide / "10-faq.md"
    faq.write_text(
        faq.read_text(encoding="utf-8")
        + "\n## Is there a study group for ML engineers on weekends?\n\n"
        "Yes: the weekend study group for ML engineers meets every Saturday in the "
        "voice channel to review the week's roadmap progress together.\n",
        encoding="utf-8",
    )
    with caplog.at_level("INFO", logger="knowledge.store"):
        after = load_knowledge(tmp_path / "index", guide_dir=guide, embedder=real_embedder)
    assert "stale" in caplog.text
    assert after.manifest.chunk_count == before.manifest.chunk_count + 1
    mentor = MentorService(after.retriever, after.guide)
    answer = mentor.ask("When does the weekend study group meet?")
    assert answer.confident
    assert "Saturday" in answer.text


def test_server_faq_answers_paraphrases_but_not_other_questions(mentor):
    overrides = [FaqOverride("When is the weekly study call?", "Thursdays at 19:00 UTC.")]
    same = mentor.ask("what time is our weekly study call", overrides=overrides)
    assert same.confident
    assert same.text.startswith("Thursdays at 19:00 UTC.")
    assert same.sources[0].title == "Server FAQ"
    other = mentor.ask("How long does Phase 2 take?", overrides=overrides)
    assert "Thursdays" not in other.text
    assert "2–4 months" in other.text
