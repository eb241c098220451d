"""Answering in chat: the engine's readiness, cooldowns, follow-ups and guild FAQ overrides.

`MentorService.ask` is synchronous and CPU-bound (embedding + search), and the engine takes
seconds to load. Chat front-ends need more than "question in, answer out": an answer while
the engine is still warming up, a per-member cooldown, follow-ups that remember the previous
question, a server's own FAQ answers before the guide's, and a record of what the guide
could not answer. All of that lives here, Discord-free, so it is written and tested once.
"""

from __future__ import annotations

import asyncio
import logging
import re
import threading
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Literal

from bot.services.errors import MentorError
from bot.services.mentor import Answer, AnswerKind, FaqOverride, MentorService
from bot.services.mentor_text import MAX_QUESTION_CHARS, clean_question, has_words, small_talk
from knowledge.content import Guide, Milestone

log = logging.getLogger(__name__)

MentorLoader = Callable[[], MentorService]
FaqEntries = Callable[[int], Awaitable[Sequence[FaqOverride]]]
UnansweredRecorder = Callable[[int, int, str, float | None], Awaitable[None]]
PhaseLookup = Callable[[int, int], Awaitable[int | None]]
# What a message is, judged before any work: only real questions use up a cooldown.
Screened = Literal["question", "small_talk", "invalid"]

WARMING_UP = (
    "I'm still warming up (loading the guide and the language model). "
    "Ask me again in a few seconds!"
)
ENGINE_FAILED = (
    "I can't answer questions right now: my answer engine failed to load. "
    "The details are in the bot's logs for the admins."
)
_QUESTION_START = re.compile(
    r"^(how|what|when|where|which|who|whom|why|is|are|am|can|could|should|would|will|do|"
    r"does|did|has|have|any|anyone|recommend|explain|tell)\b",
    re.IGNORECASE,
)


class WarmingUp(MentorError):
    """The engine is still loading: not an error, a "try again shortly"."""

    def __init__(self) -> None:
        super().__init__(WARMING_UP)


class SlowDown(MentorError):
    """The member asked too often; `retry_after` seconds until the next question."""

    def __init__(self, retry_after: float) -> None:
        seconds = max(1, round(retry_after))
        super().__init__(
            f"Easy there, one question at a time! You can ask again in {seconds} second"
            f"{'s' if seconds != 1 else ''}."
        )
        self.retry_after = retry_after


def looks_like_question(text: str) -> bool:
    """The ask channel's filter: answer questions, not every chat line.

    A question mark, or a question word up front with at least three words. Greetings,
    links and one-word messages are left alone, so the bot does not talk over people.
    """
    cleaned = clean_question(text)
    words = cleaned.split()
    if len(words) < 3 or len(cleaned) > MAX_QUESTION_CHARS:
        return False
    return cleaned.rstrip().endswith("?") or bool(_QUESTION_START.match(cleaned))


def screen(text: str) -> Screened:
    """Classify a message the way `MentorService.ask` will, without the engine.

    The same checks in the same order (no words or too long: "invalid"; greetings and
    thanks: "small_talk"), so the cooldown can let "thanks!" through and the front end can
    answer an invalid message privately before doing any work.
    """
    cleaned = clean_question(text)
    if not has_words(cleaned) or len(cleaned) > MAX_QUESTION_CHARS:
        return "invalid"
    if small_talk(cleaned) is not None:
        return "small_talk"
    return "question"


class EngineHolder:
    """The MentorService once loaded; loading runs in a worker thread, off the event loop.

    The gateway heartbeat runs on the event loop, so a multi-second model load there would
    get the bot disconnected. `start_loading` schedules the load in a thread; until it
    finishes, `get()` raises `WarmingUp`. `reload` swaps the engine atomically when the new
    one is ready, so answers keep flowing from the old one meanwhile.
    """

    def __init__(self, loader: MentorLoader) -> None:
        self._loader = loader
        self._mentor: MentorService | None = None
        self._task: asyncio.Task[MentorService] | None = None
        self._lock = threading.Lock()
        self.failed: BaseException | None = None

    @property
    def ready(self) -> bool:
        return self._mentor is not None

    def set(self, mentor: MentorService) -> None:
        with self._lock:
            self._mentor = mentor
            self.failed = None

    def get(self) -> MentorService:
        mentor = self._mentor
        if mentor is None and self.failed is not None:
            raise MentorError(ENGINE_FAILED)
        if mentor is None:
            raise WarmingUp()
        return mentor

    def start_loading(self) -> asyncio.Task[MentorService]:
        """Start (once) loading in a thread; returns the task so callers may await it."""
        if self._task is None:
            self._task = asyncio.create_task(self._load(self._loader), name="mentor-engine-load")
        return self._task

    async def reload(self, loader: MentorLoader | None = None) -> MentorService:
        """Load a fresh engine (e.g. after the guide changed) and swap it in."""
        return await self._load(loader or self._loader)

    async def _load(self, loader: MentorLoader) -> MentorService:
        started = time.perf_counter()
        try:
            mentor = await asyncio.to_thread(loader)
        except BaseException as exc:
            self.failed = exc
            log.exception("loading the answer engine failed")
            raise
        self.set(mentor)
        log.info("answer engine ready in %.1fs", time.perf_counter() - started)
        return mentor


class Cooldown:
    """At most `rate` questions per `per` seconds for each key (guild, user)."""

    def __init__(
        self, rate: int = 3, per: float = 30.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.rate = rate
        self.per = per
        self._clock = clock
        self._hits: dict[tuple[int, int], list[float]] = {}

    def hit(self, key: tuple[int, int]) -> None:
        """Count one question; raises `SlowDown` (and does not count it) when over."""
        now = self._clock()
        recent = [t for t in self._hits.get(key, []) if now - t < self.per]
        if len(recent) >= self.rate:
            self._hits[key] = recent
            raise SlowDown(self.per - (now - recent[0]))
        recent.append(now)
        self._hits[key] = recent
        if len(self._hits) > 10_000:  # forget idle members; bounded memory
            self._hits = {k: v for k, v in self._hits.items() if now - v[-1] < self.per}


@dataclass(frozen=True, slots=True)
class AskRequest:
    question: str
    guild_id: int | None  # None in DMs
    user_id: int
    previous_question: str | None = None  # the question a follow-up replies to


@dataclass(frozen=True, slots=True)
class Reply:
    answer: Answer
    asker_phase: int | None  # the phase the engine was told (None: unknown or a DM)


def milestone_for(answer: Answer, guide: Guide) -> Milestone | None:
    """The roadmap milestone the answer's first cited section teaches, if any.

    Lets an answer offer "mark as learning / done", linking reading to progress.
    """
    if answer.kind != AnswerKind.ANSWER or not answer.sources:
        return None
    source = answer.sources[0]
    top_heading = source.section.split(" › ")[0].strip()
    for milestone in guide.milestones:
        if milestone.document == source.document and milestone.section in (
            source.section,
            top_heading,
        ):
            return milestone
    return None


class AskService:
    """One question from chat: cooldown → engine with the server's FAQ (in a thread) →
    bookkeeping. The engine matches server FAQ questions by meaning, not by exact text."""

    def __init__(
        self,
        engine: EngineHolder,
        *,
        phase_of: PhaseLookup | None = None,
        faq_entries: FaqEntries | None = None,
        record_unanswered: UnansweredRecorder | None = None,
        cooldown: Cooldown | None = None,
        follow_up_cooldown: Cooldown | None = None,
    ) -> None:
        self.engine = engine
        self._phase_of = phase_of
        self._faq_entries = faq_entries
        self._record_unanswered = record_unanswered
        self.cooldown = cooldown or Cooldown()
        # Follow-ups ("and then?") come in quick succession in a real conversation, so
        # they get their own, looser bucket instead of eating the question allowance.
        self.follow_up_cooldown = follow_up_cooldown or Cooldown(rate=5, per=30.0)

    def admit(
        self,
        guild_id: int | None,
        user_id: int,
        question: str | None = None,
        *,
        follow_up: bool = False,
    ) -> Screened:
        """Gate a message before any work (or a Discord defer): engine ready, cooldown.

        Raises `WarmingUp` or `SlowDown`; a refused message does not use up the cooldown.
        Small talk and invalid messages never count (a "thanks!" after three questions is
        not a fourth question); follow-ups count against `follow_up_cooldown`. Returns what
        the message is (see `screen`), so the front end can answer an invalid one privately.
        """
        self.engine.get()
        kind = screen(question) if question is not None else "question"
        if kind == "question":
            bucket = self.follow_up_cooldown if follow_up else self.cooldown
            bucket.hit((guild_id or 0, user_id))
        return kind

    async def ask(self, request: AskRequest) -> Reply:
        """Answer an admitted question: server FAQ first, then the engine in a thread."""
        guild_id = request.guild_id
        phase = None
        if guild_id is not None and self._phase_of is not None:
            phase = await self._phase_of(guild_id, request.user_id)
        overrides: Sequence[FaqOverride] = ()
        if guild_id is not None and self._faq_entries is not None:
            overrides = await self._faq_entries(guild_id)
        mentor = self.engine.get()
        answer = await asyncio.to_thread(
            mentor.ask, request.question, phase=phase, overrides=overrides
        )
        if request.previous_question and answer.kind == AnswerKind.NOT_COVERED:
            # "What about phase 3?" alone is too vague; read it with what it replies to.
            combined = f"{request.previous_question} {request.question}"[-MAX_QUESTION_CHARS:]
            retry = await asyncio.to_thread(mentor.ask, combined, phase=phase)
            if retry.kind == AnswerKind.ANSWER:
                answer = Answer(
                    request.question, retry.text, True, retry.sources, retry.kind, retry.phase
                )
        if (
            answer.kind == AnswerKind.NOT_COVERED
            and guild_id is not None
            and self._record_unanswered is not None
        ):
            best = answer.sources[0].score if answer.sources else None
            try:
                await self._record_unanswered(guild_id, request.user_id, request.question, best)
            except MentorError:
                log.warning("could not record unanswered question", exc_info=True)
        return Reply(answer, phase)
