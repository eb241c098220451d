import pytest

from bot.services.mentor_text import clean_question, has_words, small_talk, trim_passage


def test_clean_question_strips_controls_zalgo_markdown_and_mentions():
    zalgo = "H\u0336\u0337e\u0301\u0302\u0303llo"
    assert clean_question(zalgo) == "Hello"  # zalgo loses every generic mark, even é's
    assert clean_question("p\u0335\u0334\u0336h\u0358\u0360ase\u0489 2") == "phase 2"
    assert clean_question("what\x00is\x07 **MLOps**?") == "what is MLOps ?"
    assert clean_question("@everyone how long is phase 1? <@123> <@&45>") == "how long is phase 1?"
    assert clean_question("ｆｕｌｌｗｉｄｔｈ") == "fullwidth"  # NFKC


def test_accents_survive_cleaning():
    assert clean_question("café résumé niño") == "café résumé niño"
    assert clean_question("cafe\u0301") == "café"


ZALGO_PHASE_1 = (
    "H\u0338\u0321\u032ao\u0336w\u0337 l\u0335o\u0334n\u0336g\u0338 i\u0337s\u0335 "
    "p\u0338h\u0336a\u0337s\u0334e\u0335 1\u0336?"
)


def test_zalgo_question_reads_as_the_plain_question():
    assert clean_question(ZALGO_PHASE_1) == "How long is phase 1?"
    # Marks that would compose (ĝ, ṗ, ḧ) are zalgo too once the text is zalgo.
    heavy = "H\u0302\u0338o\u0303w l\u0302o\u0302n\u0302g\u0302 i\u0311s\u030c"
    assert clean_question(heavy) == "How long is"
    assert clean_question("\u0301\u0301" + "é" * 3 + "\u0301" * 200) == "eee"


@pytest.mark.parametrize(
    "text",
    [
        "Tiếng Việt có dấu",  # two marks that compose into one letter
        "ᾄδω",  # polytonic Greek: three generic marks, one letter
        "हिंदी में मशीन लर्निंग",  # Devanagari vowel signs and anusvara
        "ภาษาไทย ที่นี่",  # Thai vowels and tone marks stacked on one consonant
        "مَرْحَبًا",  # Arabic harakat
        "שָׁלוֹם",  # Hebrew points
        "が ぱ",  # kana with (de)composable voicing marks
        "naïve café",
    ],
)
def test_real_writing_survives_cleaning(text):
    assert clean_question(text) == text


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


def _clean_without_ascii_shortcut(raw: str) -> str:
    """clean_question as it was before its ASCII fast path: every character looked up."""
    import unicodedata

    from bot.services import mentor_text

    text = unicodedata.normalize("NFKC", raw)
    clusters = mentor_text._clusters(unicodedata.normalize("NFD", text))
    assert not mentor_text._is_zalgo(clusters)
    text = unicodedata.normalize("NFC", "".join(clusters))
    text = "".join(" " if unicodedata.category(ch).startswith("C") else ch for ch in text)
    text = mentor_text._MENTION.sub(" ", text)
    text = mentor_text._MARKDOWN.sub(" ", text)
    return mentor_text._SPACE.sub(" ", text).strip()


def test_the_ascii_fast_path_cleans_exactly_as_the_full_path():
    every_ascii = "".join(chr(c) for c in range(128))
    samples = [
        every_ascii,
        every_ascii[::-1],
        "How long is **Phase 2**?\x00\x07 <@123> `code`\t\r\n  ok\x7f",
        "what's the ~~first~~ step || spoiler || > quote",
    ]
    for text in samples:
        assert text.isascii()
        assert clean_question(text) == _clean_without_ascii_shortcut(text)
