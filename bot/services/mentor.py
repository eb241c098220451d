"""The answer engine as a plain service: question in, `Answer` out.

The CLI, the console chat and the Discord cogs all call `MentorService.ask`, so behaviour
(cleaning, declining, citing, phase hints) is written once and tested once.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import numpy as np

from bot.services.answer_plan import AnswerPlan, plan_parts, plan_single, render_body
from bot.services.dialogue import changes_topic, question_parts, refers_back, resolve_phase
from bot.services.formatting import phase_label
from bot.services.mentor_text import (
    MAX_QUESTION_CHARS,
    clean_question,
    has_words,
    small_talk,
)
from knowledge.confidence import ConfidencePolicy
from knowledge.content import Guide
from knowledge.retriever import Hit, HybridRetriever, Retrieval

ANSWER_LIMIT = 1_000
_OWN_PHASE = re.compile(r"\b(this|my|current|the current)\s+phase\b", re.IGNORECASE)
CLOSEST_SECTIONS = 3
GREETING_REPLY = (
    "Hi! I'm MLE Mentor. Ask me anything about the road to machine learning engineering: "
    "the three-phase roadmap, prerequisites, courses, portfolio projects, salaries or timelines."
)
THANKS_REPLY = "You're welcome! Good luck with your studies; ask again any time."


# A server FAQ answer is used when the question means the same as the admin's question:
# paraphrases score about 0.75–0.95 with MiniLM, related-but-different questions lower.
OVERRIDE_MIN_COSINE = 0.78
SERVER_FAQ_TITLE = "Server FAQ"


@dataclass(frozen=True, slots=True)
class FaqOverride:
    """An answer a server's admins wrote for one question, for that server only."""

    question: str
    answer: str


class AnswerKind(StrEnum):
    ANSWER = "answer"
    NOT_COVERED = "not_covered"
    SMALL_TALK = "small_talk"
    INVALID = "invalid"


@dataclass(frozen=True, slots=True)
class Source:
    title: str
    section: str
    score: float
    document: str
    phase: int | None

    @property
    def label(self) -> str:
        return f"{self.title} › {self.section}"


@dataclass(frozen=True, slots=True)
class Answer:
    question: str
    text: str
    confident: bool
    sources: tuple[Source, ...]
    kind: AnswerKind
    phase: int | None = None

    def to_json(self) -> dict[str, Any]:
        """The `mentor ask --jsonl` wire format; other tools depend on exactly these keys."""
        return {
            "question": self.question,
            "answer": self.text,
            "confident": self.confident,
            "sources": [
                {"title": s.title, "section": s.section, "score": round(s.score, 4)}
                for s in self.sources
            ],
        }


def phase_note(topic_phase: int | None, asker_phase: int | None) -> str:
    """Where the answer sits on the roadmap, relative to the asker when we know their phase."""
    if topic_phase is None:
        return ""
    where = f"this is {phase_label(topic_phase)} material"
    if asker_phase is None or asker_phase == topic_phase:
        return (
            f"Roadmap: {where}."
            if asker_phase is None
            else f"Roadmap: {where}, right where you are."
        )
    if topic_phase > asker_phase:
        return f"Roadmap: {where}; you're in {phase_label(asker_phase)}, so it comes later."
    return f"Roadmap: {where}, a step you have already passed; worth a quick review."


class MentorService:
    def __init__(
        self,
        retriever: HybridRetriever,
        guide: Guide,
        *,
        policy: ConfidencePolicy | None = None,
        two_part: bool = True,
        runner_up: bool = True,
    ) -> None:
        """`two_part` and `runner_up` exist for `benchmarks/quality.py`'s ablations."""
        self._retriever = retriever
        self._guide = guide
        self._policy = policy or ConfidencePolicy()
        self._two_part = two_part
        self._runner_up = runner_up

    @property
    def guide(self) -> Guide:
        return self._guide

    def ask(
        self,
        question: str,
        *,
        phase: int | None = None,
        overrides: Sequence[FaqOverride] = (),
        previous: str | None = None,
    ) -> Answer:
        """Answer `question`; `previous` is the question it follows up on, if any."""
        cleaned = clean_question(question)
        if not has_words(cleaned):
            return self._invalid(
                question,
                "I didn't find a question in that message. Ask me something about becoming a "
                "machine learning engineer, e.g. “How long is Phase 2?”",
            )
        if len(cleaned) > MAX_QUESTION_CHARS:
            return self._invalid(
                question,
                f"That message is {len(cleaned):,} characters long; I answer questions of up to "
                f"{MAX_QUESTION_CHARS:,} characters. Please send just the question.",
            )
        if (talk := small_talk(cleaned)) is not None:
            reply = GREETING_REPLY if talk == "greeting" else THANKS_REPLY
            return Answer(question, reply, False, (), AnswerKind.SMALL_TALK)

        if overrides and (override := self._match_override(cleaned, overrides)) is not None:
            return override
        query = cleaned
        own_phase = phase is not None and bool(_OWN_PHASE.search(cleaned))
        if own_phase:
            query = f"{cleaned} (phase {phase})"  # "this phase" means the asker's phase
        parts = question_parts(query) if previous is None and self._two_part else None
        if parts:
            # The question and its two parts in one embedding call (two threads, not three
            # passes: two-part questions made most of the p99). The whole question is only
            # searched when its parts do not make the answer.
            whole, *halves = self._retriever.embed_queries([query, *parts])
            plan = self._plan_parts(parts, phase, halves)
            if plan is not None:
                return self._compose(question, query, plan, phase)
            retrieval = self._search(query, phase, within_phase=own_phase, vector=whole)
        else:
            retrieval = self._retrieve(query, phase, previous, within_phase=own_phase)
        if not self._policy.is_confident(retrieval):
            sources = tuple(self._source(hit) for hit in retrieval.hits[:CLOSEST_SECTIONS])
            closest = "; ".join(s.label for s in sources) or "none"
            text = (
                "The guide doesn't cover that, so I won't guess. I only answer from the MLE "
                f"roadmap guide. Closest sections: {closest}."
            )
            return Answer(question, text, False, sources, AnswerKind.NOT_COVERED)
        plan = plan_single(retrieval, quote_runner_up=self._runner_up)
        return self._compose(question, query, plan, phase)

    def _search(
        self,
        query: str,
        phase: int | None,
        *,
        within_phase: bool = False,
        vector: np.ndarray | None = None,
    ) -> Retrieval:
        return self._retriever.search(
            query, k=CLOSEST_SECTIONS + 2, phase=phase, within_phase=within_phase, vector=vector
        )

    def _retrieve(
        self, query: str, phase: int | None, previous: str | None, *, within_phase: bool
    ) -> Retrieval:
        """Retrieval for a question, read in the context of the one it follows up on.

        A follow-up that refers back ("and how long does that phase take?") is retrieved
        together with the earlier question, with "that phase" resolved to the phase of the
        earlier answer; one that says it is a new question, or stands on its own and is
        answered confidently alone, keeps its own retrieval.
        """
        if not previous:
            return self._search(query, phase, within_phase=within_phase)
        context = clean_question(previous)
        earlier = self._search(context, phase)
        earlier_phase = earlier.best.chunk.phase if earlier.best and earlier.confident else None
        resolved = resolve_phase(query, earlier_phase)
        if changes_topic(query):
            return self._search(resolved, phase)
        combined = f"{context} {resolved}"[-MAX_QUESTION_CHARS:]
        if refers_back(query):
            return self._search(combined, phase)
        alone = self._search(resolved, phase)
        return alone if self._policy.is_confident(alone) else self._search(combined, phase)

    def _plan_parts(
        self, parts: tuple[str, str], phase: int | None, vectors: Sequence[np.ndarray]
    ) -> AnswerPlan | None:
        first, second = (
            self._search(part, phase, vector=vector)
            for part, vector in zip(parts, vectors, strict=True)
        )
        if not (self._policy.is_confident(first) and self._policy.is_confident(second)):
            return None
        return plan_parts(first, second)

    def _compose(self, question: str, query: str, plan: AnswerPlan, phase: int | None) -> Answer:
        best = plan.sections[0]
        cited = tuple(self._source(hit) for hit in plan.cited)
        # The section headings alone: they are unique and say what each is about, and the
        # document titles would take a tenth of the 1,000-character answer. The full
        # "title › section" labels are in `sources` (the JSON contract, the Discord field).
        headings = "; ".join(s.section for s in cited)
        footer = ("Sources: " if len(cited) > 1 else "Source: ") + headings
        note = phase_note(best.chunk.phase, phase)
        if note:
            footer += "\n" + note
        terms = set(self._retriever.content_terms(query))

        def relevance(sentence: str) -> float:
            return float(len(terms.intersection(self._retriever.content_terms(sentence))))

        body = render_body(
            [hit.chunk for hit in plan.sections],
            ANSWER_LIMIT - len(footer) - 2,
            relevance,
            lead_share=plan.lead_share,
        )
        return Answer(
            question,
            f"{body}\n\n{footer}",
            True,
            cited,
            AnswerKind.ANSWER,
            best.chunk.phase,
        )

    def _match_override(self, question: str, overrides: Sequence[FaqOverride]) -> Answer | None:
        questions = [clean_question(o.question) for o in overrides]
        scores = self._retriever.similarities(question, questions)
        best = max(range(len(overrides)), key=scores.__getitem__)
        exact = questions[best].casefold() == question.casefold()
        if not exact and scores[best] < OVERRIDE_MIN_COSINE:
            return None
        chosen = overrides[best]
        source = Source(SERVER_FAQ_TITLE, chosen.question, scores[best], "server-faq", None)
        text = f"{chosen.answer}\n\nSource: {SERVER_FAQ_TITLE} › {chosen.question}"
        return Answer(question, text, True, (source,), AnswerKind.ANSWER)

    @staticmethod
    def _source(hit: Hit) -> Source:
        chunk = hit.chunk
        return Source(chunk.title, chunk.section, hit.dense, chunk.document, chunk.phase)

    @staticmethod
    def _invalid(question: str, message: str) -> Answer:
        return Answer(question, message, False, (), AnswerKind.INVALID)
