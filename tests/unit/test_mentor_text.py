import pytest

from bot.services.mentor_text import clean_question, has_words, small_talk, trim_passage


def test_clean_question_strips_controls_zalgo_markdown_and_mentions():
    zalgo = "H\u0336\u0337e\u0301\u0302\u0303llo"
    assert clean_question(zalgo) == "Héllo"  # the one mark that composes survives
    assert clean_question("p\u0335\u0334\u0336h\u0358\u0360ase\u0489 2") == "phase 2"
    assert clean_question("what\x00is\x07 **MLOps**?") == "what is MLOps ?"
    assert clean_question("@everyone how long is phase 1? <@123> <@&45>") == "how long is phase 1?"
    assert clean_question("ｆｕｌｌｗｉｄｔｈ") == "fullwidth"  # NFKC


def test_accents_survive_cleaning():
    assert clean_question("café résumé niño") == "café résumé niño"
    assert clean_question("cafe\u0301") == "café"


def test_has_words():
    assert not has_words("🚀🔥 ?!")
    assert has_words("🚀 docker?")


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("hi", "greeting"),
        ("Hello there!", "greeting"),
        ("good morning mentor", "greeting"),
        ("thanks!", "thanks"),
        ("thank you so much", "thanks"),
        ("ty", "thanks"),
        ("hi, how long is phase 2?", None),
        ("thanks, but what about Docker?", None),
        ("good resources for math?", None),
        ("how do I say hello world in python", None),
    ],
)
def test_small_talk(text, kind):
    assert small_talk(text) == kind


def test_trim_keeps_whole_sentences_within_the_limit():
    text = "One two three. Four five six. Seven eight nine."
    assert trim_passage(text, 100) == text
    assert trim_passage(text, 30) == "One two three. Four five six."
    assert trim_passage(text, 16) == "One two three."


def test_trim_keeps_list_lines_and_never_returns_empty():
    text = "Tools:\n- MLflow for tracking.\n- Feast for features."
    assert trim_passage(text, 35) == "Tools:\n- MLflow for tracking."
    long_sentence = "word " * 100
    trimmed = trim_passage(long_sentence, 50)
    assert trimmed.endswith("…")
    assert 0 < len(trimmed) <= 50


def test_trim_does_not_split_inside_figures():
    text = "Phase 2 takes 2–4 months. It covers deep learning."
    assert trim_passage(text, 30) == "Phase 2 takes 2–4 months."
