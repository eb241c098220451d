"""Which sections an answer quotes, and how they share the answer's length budget.

A plan is decided from retrievals, then rendered: one section in the common case; two when
the question asks two things that two sections answer (measured in `benchmarks/quality.py`).
Quoting a close runner-up as well was measured and dropped: it changed nothing on the report
part or on dev once the ranker was fitted.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from bot.services.mentor_text import select_passage
from knowledge.chunking import Chunk
from knowledge.retriever import Hit, Retrieval

SEPARATOR = "\n\n"


@dataclass(frozen=True, slots=True)
class AnswerPlan:
    sections: tuple[Hit, ...]  # quoted, best first
    cited: tuple[Hit, ...]  # named in the footer (the quoted ones, maybe one more)


def plan_single(retrieval: Retrieval) -> AnswerPlan:
    hits = retrieval.hits
    best = hits[0]
    runner_up = hits[1] if len(hits) > 1 else None
    if runner_up is not None and runner_up.chunk.document == best.chunk.document:
        # A second section of the same page is often the rest of the answer: cite it.
        return AnswerPlan((best,), (best, runner_up))
    return AnswerPlan((best,), (best,))


def plan_parts(first: Retrieval, second: Retrieval) -> AnswerPlan | None:
    """Both halves of a two-part question, when each has a confident, different section."""
    if not (first.confident and second.confident):
        return None
    a, b = first.hits[0], second.hits[0]
    if a.chunk.id == b.chunk.id:
        return None
    return AnswerPlan((a, b), (a, b))


def render_body(sections: Sequence[Chunk], budget: int, relevance: Callable[[str], float]) -> str:
    """The quoted sections within `budget` characters, in plan order.

    Whole sections when they fit; otherwise each keeps its most relevant sentences, and a
    short section leaves its unused share to the other, so each part keeps its own fact.
    """
    texts = [c.text.strip() for c in sections]
    if len(SEPARATOR.join(texts)) <= budget or len(texts) == 1:
        return (
            select_passage(texts[0], budget, relevance)
            if len(texts) == 1
            else (SEPARATOR.join(texts))
        )
    room = budget - len(SEPARATOR) * (len(texts) - 1)
    share = room // len(texts)
    spare = sum(max(0, share - len(t)) for t in texts)
    parts = [
        select_passage(t, len(t) if len(t) <= share else share + spare, relevance) for t in texts
    ]
    return SEPARATOR.join(parts)
