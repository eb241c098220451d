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


def test_english_word_list_is_available():
    words = english_words()
    assert "puppy" in words
    assert "pyhton" not in words
