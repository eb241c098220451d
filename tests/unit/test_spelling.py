"""British and American spellings meet in the lexical views; words with one spelling do not move."""

from __future__ import annotations

import pytest

from knowledge.lexical import LexicalIndex
from knowledge.spelling import american_spelling


@pytest.mark.parametrize(
    ("british", "american"),
    [
        ("containerise", "containerize"),  # jargon breame does not list: the -ise rule
        ("containerising", "containerizing"),
        ("tokenisation", "tokenization"),
        ("specialisation", "specialization"),  # from breame's table
        ("behaviour", "behavior"),
        ("centre", "center"),
        ("modelling", "modeling"),
        ("analyse", "analyze"),
    ],
)
def test_british_and_american_spellings_analyse_to_the_same_terms(british, american):
    index = LexicalIndex(["placeholder"])
    assert index.terms(british) == index.terms(american)
    assert index.stem(british) == index.stem(american)


@pytest.mark.parametrize("word", ["precise", "advise", "exercise", "expertise", "promise"])
def test_common_words_ending_in_ise_keep_their_spelling(word):
    assert american_spelling(word) == word


def test_words_with_one_spelling_keep_their_stems_together():
    index = LexicalIndex(["placeholder"])
    assert index.terms("precise") == index.terms("precisely")
    assert index.terms("install") == index.terms("installing")


def test_an_american_question_finds_the_british_section():
    index = LexicalIndex(
        ["Containerise the model with Docker.", "Specialisation: pick computer vision or NLP."]
    )
    scores = index.scores(index.terms("how do I containerize a model"))
    assert scores[0] > 0
    assert scores[1] == 0
    scores = index.scores(index.terms("which specialization should i pick"))
    assert scores[1] > scores[0]


def test_the_ablation_analyses_words_as_written():
    index = LexicalIndex(["placeholder"], american=False)
    assert index.terms("containerise") != index.terms("containerize")
