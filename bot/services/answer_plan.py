"""Which sections an answer quotes, and how they share the answer's length budget.

A plan is decided from retrievals, then rendered: one section in the common case; two when
the question asks two things that two sections answer, or when the ranking can barely tell
its first section from its second (the fitted `runner_up_gap`): quoting both then keeps the
right fact in the answer at the price of a longer one. Both are measured in
`benchmarks/quality.py`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from bot.services.mentor_text import select_passage
from knowledge.chunking import Chunk
from knowledge.retriever import Hit, Retrieval

SEPARATOR = "\n\n"
# A quoted runner-up is a hedge: the best section keeps up to this share of the length, so
# the runner-up never crowds out the fact the ranking liked best. Measured on the fit part
# (in scope, runner-up quoted within the fitted gap): an even split 0.955, 0.65 0.957, 0.8
# 0.965 (0.953 quoting one section only).
LEAD_SHARE = 0.8
# The two halves of a two-part answer share its length, so each half must match its section
# strongly, not merely pass the answer threshold: a vague second half ("..., how do i
# improve?") pulled in a section of its own and cut the first half's fact. Two-part
# questions of the fit part answered right: 58 of 63 at the threshold alone, 59 at 0.75,
# 60 at 0.8 and at 0.85 (report part: 47 of 52 at each).
PART_MIN_PROBABILITY = 0.8


@dataclass(frozen=True, slots=True)
class AnswerPlan:
    sections: tuple[Hit, ...]  # quoted, best first
    cited: tuple[Hit, ...]  # named in the footer (the quoted ones, maybe one more)
    lead_share: float | None = None  # the first section's share of the length; None: even


def plan_single(retrieval: Retrieval, *, quote_runner_up: bool = True) -> AnswerPlan:
    hits = retrieval.hits
    best = hits[0]
    close = retrieval.close_runner_up if quote_runner_up else None
    if close is not None:
        return AnswerPlan((best, close), (best, close), LEAD_SHARE)
    runner_up = hits[1] if len(hits) > 1 else None
    if runner_up is not None and runner_up.chunk.document == best.chunk.document:
        # A second section of the same page is often the rest of the answer: cite it.
        return AnswerPlan((best,), (best, runner_up))
    return AnswerPlan((best,), (best,))


def plan_parts(first: Retrieval, second: Retrieval) -> AnswerPlan | None:
    """Both halves of a two-part question, when each has a different section that it
    matches strongly (`PART_MIN_PROBABILITY`)."""
    if not (first.confident and second.confident):
        return None
    if min(first.answer_probability, second.answer_probability) < PART_MIN_PROBABILITY:
        return None
    a, b = first.hits[0], second.hits[0]
    if a.chunk.id == b.chunk.id:
        return None
    return AnswerPlan((a, b), (a, b))


def render_body(
    sections: Sequence[Chunk],
    budget: int,
    relevance: Callable[[str], float],
    *,
    lead_share: float | None = None,
) -> str:
    """The quoted sections within `budget` characters, in plan order.

    Whole sections when they fit; otherwise each keeps its most relevant sentences. With
    `lead_share` the first section keeps up to that share and the rest get what it leaves;
    without, the shares are even and a short section leaves its unused share to the other,
    so each part of a two-part question keeps its own fact.
    """
    texts = [c.text.strip() for c in sections]
    if len(SEPARATOR.join(texts)) <= budget or len(texts) == 1:
        return (
            select_passage(texts[0], budget, relevance)
            if len(texts) == 1
            else (SEPARATOR.join(texts))
        )
    room = budget - len(SEPARATOR) * (len(texts) - 1)
    if lead_share is not None:
        lead = select_passage(texts[0], min(len(texts[0]), int(room * lead_share)), relevance)
        rest = room - len(lead)
        parts = [lead] + [select_passage(t, rest // (len(texts) - 1), relevance) for t in texts[1:]]
        return SEPARATOR.join(p for p in parts if p)
    share = room // len(texts)
    spare = sum(max(0, share - len(t)) for t in texts)
    parts = [
        select_passage(t, len(t) if len(t) <= share else share + spare, relevance) for t in texts
    ]
    return SEPARATOR.join(parts)
