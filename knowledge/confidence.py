"""The decision between answering and saying "the guide does not cover this".

The evidence is about the chosen section, not the guide as a whole: the answer model
(`knowledge/ranking.py`) turns the best section's score and lead, whether the question's
words occur in it, whether the dense and lexical views agree, and how close the question
comes to known out-of-scope questions (and which bank its nearest neighbours belong to) into
a probability. Its threshold was fitted with the model (`benchmarks/fit_ranking.py`) to
maximise in-scope answered right plus off-topic declined on the fit part, since both errors
cost a member alike. A policy may override the threshold (benchmarks sweep it).
"""

from __future__ import annotations

from dataclasses import dataclass

from knowledge.retriever import Retrieval


@dataclass(frozen=True, slots=True)
class ConfidencePolicy:
    min_probability: float | None = None  # None: the fitted threshold

    def is_confident(self, retrieval: Retrieval) -> bool:
        if not retrieval.hits:
            return False
        threshold = retrieval.threshold if self.min_probability is None else self.min_probability
        return retrieval.answer_probability >= threshold
