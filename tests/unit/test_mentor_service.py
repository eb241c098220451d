"""MentorService behaviour on a small guide with the deterministic fake embedder."""

import pytest

from bot.services.mentor import ANSWER_LIMIT, AnswerKind, MentorService, phase_note
from knowledge.engine import load_knowledge
from tests.helpers import HashingEmbedder, simple_ranking_model, write_guide


@pytest.fixture
def mentor(tmp_path):
    write_guide(tmp_path / "guide")
    kb = load_knowledge(
        tmp_path / "index",
        guide_dir=tmp_path / "guide",
        embedder=HashingEmbedder(),
        ranking=simple_ranking_model(),
    )
    return MentorService(kb.retriever, kb.guide)


def test_confident_answer_cites_its_section_and_phase(mentor):
    answer = mentor.ask("How do I detect data drift with Evidently?")
    assert answer.confident
    assert answer.kind is AnswerKind.ANSWER
    assert "Evidently" in answer.text
    assert answer.sources[0].section == "Monitoring"
    # The section heading cites it in the text; the full "title › section" is in sources.
    assert "\n\nSource: Monitoring\n" in answer.text
    assert answer.sources[0].label == "Phase 3: production › Monitoring"
    assert "Phase 3 material" in answer.text
    assert answer.phase == 3
    assert len(answer.text) <= ANSWER_LIMIT


def test_asker_phase_is_related_to_the_topic_phase(mentor):
    answer = mentor.ask("How do I detect data drift with Evidently?", phase=1)
    assert "you're in Phase 1, so it comes later" in answer.text


def test_faq_question_matches(mentor):
    answer = mentor.ask("how much do ML engineers earn")
    assert answer.confident
    assert "$130K–$160K" in answer.text


def test_unrelated_question_is_declined_with_closest_sections(mentor):
    answer = mentor.ask("Who painted the Mona Lisa?")
    assert not answer.confident
    assert answer.kind is AnswerKind.NOT_COVERED
    assert "doesn't cover" in answer.text
    assert "Closest sections:" in answer.text


@pytest.mark.parametrize("text", ["", "   ", "\x00\x01", "🚀🔥", "***"])
def test_questions_without_words_get_a_clear_message(mentor, text):
    answer = mentor.ask(text)
    assert answer.kind is AnswerKind.INVALID
    assert not answer.confident
    assert "didn't find a question" in answer.text


def test_over_long_question_is_refused_with_its_length(mentor):
    answer = mentor.ask("docker " * 3000)
    assert answer.kind is AnswerKind.INVALID
    assert "21,000 characters" in answer.text or "20,999 characters" in answer.text


@pytest.mark.parametrize("text", ["hi", "Thanks!", "hello mentor"])
def test_small_talk_gets_a_friendly_reply_not_a_chunk(mentor, text):
    answer = mentor.ask(text)
    assert answer.kind is AnswerKind.SMALL_TALK
    assert answer.sources == ()
    assert not answer.confident


def test_mentions_are_never_echoed(mentor):
    answer = mentor.ask("@everyone <@&123> who painted the mona lisa")
    assert "@everyone" not in answer.text
    assert "<@&" not in answer.text


def test_json_shape_is_the_cli_contract(mentor):
    payload = mentor.ask("Serve a model with FastAPI?").to_json()
    assert set(payload) == {"question", "answer", "confident", "sources"}
    assert payload["question"] == "Serve a model with FastAPI?"
    assert all(set(s) == {"title", "section", "score"} for s in payload["sources"])
    assert all(isinstance(s["score"], float) for s in payload["sources"])


@pytest.mark.parametrize(
    ("topic", "asker", "expected"),
    [
        (None, 2, ""),
        (3, None, "Roadmap: this is Phase 3 material."),
        (0, None, "Roadmap: this is prerequisite material."),
        (2, 2, "Roadmap: this is Phase 2 material, right where you are."),
        (1, 3, "a step you have already passed"),
    ],
)
def test_phase_note(topic, asker, expected):
    assert expected in phase_note(topic, asker)
    if not expected:
        assert phase_note(topic, asker) == ""


def test_this_phase_means_the_askers_phase(mentor):
    assert mentor.ask("which tools for my phase?", phase=3).sources[0].phase == 3
    assert mentor.ask("which tools for my phase?", phase=1).sources[0].phase == 1


def test_a_two_part_question_embeds_itself_and_its_parts_in_one_call(tmp_path):
    write_guide(tmp_path / "guide")
    embedder = HashingEmbedder()
    kb = load_knowledge(
        tmp_path / "index",
        guide_dir=tmp_path / "guide",
        embedder=embedder,
        ranking=simple_ranking_model(),
    )
    mentor = MentorService(kb.retriever, kb.guide)
    embedder.calls.clear()
    batched = mentor.ask("How do I detect data drift with Evidently and how long is Phase 1?")
    assert embedder.calls == [3]
    single = MentorService(kb.retriever, kb.guide, two_part=False)
    embedder.calls.clear()
    single.ask("How do I detect data drift with Evidently?")
    assert embedder.calls == [1]
    assert batched.sources[0].section == "Monitoring"
