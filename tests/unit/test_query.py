"""Query normalisation: glossary, ordinals and spelling correction."""

import pytest

from knowledge.query import (
    QueryExpander,
    SpellingCorrector,
    english_words,
    guide_vocabulary,
    load_glossary,
    normalize_ordinals,
)


@pytest.fixture(scope="module")
def expander():
    return QueryExpander(load_glossary())


def test_abbreviations_are_expanded_in_place(expander):
    assert expander.expand("mle salary?") == "machine learning engineer salary?"
    assert expander.expand("ML vs DS") == "machine learning vs data scientist"
    assert expander.expand("is k8s needed, or CI/CD?") == (
        "is Kubernetes needed, or continuous integration and deployment?"
    )
    # whole words only
    assert expander.expand("simple dslr camera for mlflow") == "simple dslr camera for mlflow"


def test_abbreviations_next_to_a_slash_and_multi_word_forms(expander):
    assert expander.expand("stats/prob for ml?") == ("statistics/probability for machine learning?")
    assert "MLOps" in expander.expand("what is ml ops")
    assert "computer science" in expander.expand("do i need a comp sci degree")


def test_cv_is_computer_vision_except_where_it_is_the_resume(expander):
    assert expander.expand("cv or nlp for jobs?") == (
        "computer vision or natural language processing for jobs?"
    )
    assert expander.expand("a good cv portfolio project") == (
        "a good computer vision portfolio project"
    )
    assert expander.expand("a gap in my CV") == "a gap in my resume"
    assert expander.expand("should kaggle go on my  cv") == "should kaggle go on my resume"


def test_an_abbreviation_hyphenated_to_a_letter_is_part_of_another_term(expander):
    assert expander.expand("is k-nn still used") == "is k-nn still used"
    assert expander.expand("nn basics") == "neural network basics"
    assert expander.expand("nlp-focused project") == "natural language processing-focused project"


@pytest.mark.parametrize(
    ("text", "normalised"),
    [
        ("how long is the first phase", "how long is the phase 1"),
        ("what's in the 3rd stage?", "what's in the phase 3?"),
        ("the last phase", "the phase 3"),
        ("phase three tools", "phase 3 tools"),
        ("stage 2 projects", "phase 2 projects"),
        ("what's the first step?", "what's the first step?"),  # "first step" is "start"
        ("python 3.11 in phase 1", "python 3.11 in phase 1"),
    ],
)
def test_ordinals_become_phase_numbers(text, normalised):
    assert normalize_ordinals(text) == normalised


def test_typos_are_corrected_towards_the_guide_only():
    corrector = SpellingCorrector(
        guide_vocabulary(["Python recommender deployment pandas neural podcasts learning"])
    )
    assert corrector.correct("pyhton reccomender deploymnet") == "python recommender deployment"
    assert corrector.correct("pandsa and nueral nets") == "pandas and neural nets"
    # real English words and short words are left alone, even when close to a guide word
    assert corrector.correct("puppy learn pandas") == "puppy learn pandas"


def test_words_the_guide_writes_apart_are_split_not_corrected_into_another_word():
    corrector = SpellingCorrector(
        guide_vocabulary(["The fast.ai course, FastAPI for serving, data science, scikit-learn."])
    )
    assert corrector.correct("fastai course") == "fast ai course"  # not "fastapi"
    assert corrector.correct("datascience or scikitlearn") == "data science or scikit learn"
    assert corrector.correct("fastapi") == "fastapi"  # a guide word stays
    assert corrector.correct("into the course") == "into the course"  # English words stay


def test_clipped_words_become_the_guide_word_they_begin():
    corrector = SpellingCorrector(
        guide_vocabulary(["libraries algorithms algorithms hyperparameters repository alpha"])
    )
    assert corrector.correct("plotting libs") == "plotting libraries"
    assert corrector.correct("ml algos and hyperparams") == "ml algorithms and hyperparameters"
    assert corrector.correct("my repo") == "my repository"
    # English words, words no guide word begins, and near-whole words stay
    assert corrector.correct("lib docs alp zzz") == "lib docs alp zzz"


def test_english_word_list_is_available():
    words = english_words()
    assert "puppy" in words
    assert "pyhton" not in words


def test_the_word_list_parses_the_same_cut_by_numpy_as_line_by_line():
    """The numpy parse of symspellpy's list (no per-word Python objects) gives the very
    words and counts of a plain line-by-line reading; irregular lines fall back to it."""
    import importlib.util
    from pathlib import Path

    import numpy as np

    from knowledge.query import _ENGLISH_WORDS_FILE, EnglishWords

    spec = importlib.util.find_spec("symspellpy")
    data = (Path(next(iter(spec.submodule_search_locations))) / _ENGLISH_WORDS_FILE).read_bytes()
    pairs = [line.partition(b" ") for line in data.splitlines()]
    plain = EnglishWords(
        np.array([w for w, _, _ in pairs], dtype=np.bytes_),
        np.array([int(c) if c.isdigit() else 1 for _, _, c in pairs], dtype=np.int64),
    )
    parsed = english_words()
    assert len(parsed) == len(plain) > 80_000
    assert np.array_equal(parsed._words, plain._words)
    assert np.array_equal(parsed._counts, plain._counts)
    assert parsed.top == plain.top
    irregular = EnglishWords.parse(b"alpha 12\nbeta\ngamma x\ndelta  3\nepsilon 5")
    assert [irregular.count(w) for w in ("alpha", "beta", "gamma", "delta", "epsilon")] == [
        12,
        1,
        1,
        1,
        5,
    ]
