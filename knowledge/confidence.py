"""The decision between answering and saying "the guide does not cover this".

Two kinds of evidence, because each fails alone: dense similarity is high-ish for any
well-formed question about learning or careers ("how do I train my puppy?" shares "train"),
and lexical overlap misfires on common words. A question is answered when the best dense
match is strong on its own, or moderately strong *and* most of the question's content words
are words the guide actually uses. The thresholds were fitted by `benchmarks/calibrate.py`
on a labelled question set written for that purpose (not the shared dev set); rerun it after
changing the guide or the model. Fitted values (260 questions, 170 in-scope): in-scope
answered correctly 0.90, off-topic declined 0.94; on the shared dev set, never fitted on:
0.95 and 1.00. Coverage ignores chat filler and abbreviations (see `knowledge/glossary.yaml`).
"""

from __future__ import annotations

from dataclasses import dataclass

from knowledge.retriever import Retrieval


@dataclass(frozen=True, slots=True)
class ConfidencePolicy:
    strong_dense: float = 0.60
    min_dense: float = 0.30
    min_coverage: float = 0.75

    def is_confident(self, retrieval: Retrieval) -> bool:
        if not retrieval.hits:
            return False
        if retrieval.top_dense >= self.strong_dense:
            return True
        return (
            retrieval.top_dense >= self.min_dense and retrieval.term_coverage >= self.min_coverage
        )
