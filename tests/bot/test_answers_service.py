"""AskService, EngineHolder, Cooldown and the question filter (Discord-free)."""

from __future__ import annotations

import asyncio
import threading

import pytest

from bot.discord.context import BotServices
from bot.services.answers import (
    AskRequest,
    AskService,
    Cooldown,
    EngineHolder,
    SlowDown,
    WarmingUp,
    looks_like_question,
    milestone_for,
    screen,
)
from bot.services.errors import MentorError
from bot.services.mentor import AnswerKind, MentorService
from tests.bot.helpers import ALICE, GUILD


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("How long does phase 1 take?", True),
        ("what tools do I need for deployment", True),
        ("anyone know a good course?", True),
        ("lol", False),
        ("good morning everyone", False),
        ("nice!", False),
        ("I finished my project today", False),
        ("why?" + " x" * 2000, False),
    ],
)
def test_question_filter(text: str, expected: bool) -> None:
    assert looks_like_question(text) is expected


async def test_engine_warms_up_in_a_thread(mentor: MentorService) -> None:
    release = threading.Event()
    loop_thread = threading.get_ident()
    seen: list[int] = []

    def loader() -> MentorService:
        seen.append(threading.get_ident())
        release.wait(5)
        return mentor

    holder = EngineHolder(loader)
    task = holder.start_loading()
    await asyncio.sleep(0.05)  # the event loop is free while the model "loads"
    with pytest.raises(WarmingUp, match="warming up"):
        holder.get()
    release.set()
    assert await task is mentor
    assert holder.get() is mentor
    assert seen
    assert seen[0] != loop_thread


async def test_engine_load_failure_is_reported_not_warming_forever() -> None:
    def broken() -> MentorService:
        raise RuntimeError("model missing")

    holder = EngineHolder(broken)
    with pytest.raises(RuntimeError):
        await holder.start_loading()
    with pytest.raises(MentorError, match="failed to load"):
        holder.get()


def test_cooldown_allows_rate_then_refuses_until_window_passes() -> None:
    now = [100.0]
    cooldown = Cooldown(rate=2, per=30, clock=lambda: now[0])
    cooldown.hit((1, 2))
    cooldown.hit((1, 2))
    with pytest.raises(SlowDown) as refused:
        cooldown.hit((1, 2))
    assert "30 seconds" in refused.value.message
    cooldown.hit((1, 3))  # another member is unaffected
    now[0] += 31
    cooldown.hit((1, 2))


async def test_admit_refuses_while_warming_up_without_using_the_cooldown(
    services: BotServices, mentor: MentorService
) -> None:
    cold = EngineHolder(lambda: mentor)
    services.ask.engine = cold
    for _ in range(5):
        with pytest.raises(WarmingUp):
            services.ask.admit(GUILD, ALICE)
    cold.set(mentor)
    services.ask.admit(GUILD, ALICE)  # not throttled by the refused attempts


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("thanks!", "small_talk"),
        ("hi there", "small_talk"),
        ("???", "invalid"),
        ("", "invalid"),
        ("why " * 300, "invalid"),
        ("How long does phase 1 take?", "question"),
    ],
)
def test_screen_classifies_like_the_engine(text: str, expected: str, mentor: MentorService) -> None:
    assert screen(text) == expected
    kind = mentor.ask(text).kind
    engine_says = {AnswerKind.SMALL_TALK: "small_talk", AnswerKind.INVALID: "invalid"}
    assert engine_says.get(kind, "question") == expected


async def test_small_talk_and_invalid_messages_never_use_the_cooldown(
    services: BotServices,
) -> None:
    ask = services.ask
    ask.cooldown = Cooldown(rate=1, per=30)
    assert ask.admit(GUILD, ALICE, "How long is phase 1?") == "question"
    for text in ("thanks!", "thank you so much", "???", "x" * 2000):
        assert ask.admit(GUILD, ALICE, text) in ("small_talk", "invalid")  # no SlowDown
    with pytest.raises(SlowDown):
        ask.admit(GUILD, ALICE, "And phase 2?")


async def test_follow_ups_count_against_their_own_looser_limit(services: BotServices) -> None:
    ask = services.ask
    ask.cooldown = Cooldown(rate=1, per=30)
    ask.follow_up_cooldown = Cooldown(rate=2, per=30)
    ask.admit(GUILD, ALICE, "How long is phase 1?")
    ask.admit(GUILD, ALICE, "and phase 2?", follow_up=True)
    ask.admit(GUILD, ALICE, "and phase 3?", follow_up=True)
    with pytest.raises(SlowDown):
        ask.admit(GUILD, ALICE, "and phase 4?", follow_up=True)
    with pytest.raises(SlowDown):
        ask.admit(GUILD, ALICE, "How long is phase 2?")
    assert AskService(services.engine).follow_up_cooldown.rate > Cooldown().rate


async def test_ask_passes_the_members_phase(services: BotServices) -> None:
    await services.progress.phases.set_phase(GUILD, ALICE, 3)
    reply = await services.ask.ask(AskRequest("How do I serve a model with FastAPI?", GUILD, ALICE))
    assert reply.asker_phase == 3
    assert reply.answer.kind == AnswerKind.ANSWER
    assert reply.answer.sources[0].section == "Deployment"


async def test_unanswered_questions_are_recorded_per_guild(services: BotServices) -> None:
    reply = await services.ask.ask(AskRequest("Best pizza topping in Naples?", GUILD, ALICE))
    assert reply.answer.kind == AnswerKind.NOT_COVERED
    top = await services.progress.feedback.top_unanswered(GUILD)
    assert [q.question for q in top] == ["Best pizza topping in Naples?"]
    dm = await services.ask.ask(AskRequest("Best pizza topping in Rome?", None, ALICE))
    assert dm.answer.kind == AnswerKind.NOT_COVERED
    assert len(await services.progress.feedback.top_unanswered(GUILD)) == 1


async def test_follow_up_uses_the_previous_question_as_context(services: BotServices) -> None:
    alone = await services.ask.ask(AskRequest("and then?", GUILD, ALICE))
    assert alone.answer.kind == AnswerKind.NOT_COVERED
    follow = await services.ask.ask(
        AskRequest("and then?", GUILD, ALICE, "How do I serve a model with FastAPI?")
    )
    assert follow.answer.kind == AnswerKind.ANSWER
    assert follow.answer.question == "and then?"
    assert follow.answer.sources[0].section == "Deployment"


async def test_guild_faq_overrides_the_guide_for_that_guild_only(services: BotServices) -> None:
    assert services.config is not None
    await services.config.set_faq(GUILD, ALICE, "How much do ML engineers earn?", "Ask HR.")
    mine = await services.ask.ask(AskRequest("how much do ML engineers earn", GUILD, ALICE))
    assert mine.answer.text.startswith("Ask HR.")
    assert "Source: Server FAQ › How much do ML engineers earn?" in mine.answer.text
    assert mine.answer.sources[0].title == "Server FAQ"
    assert mine.answer.confident
    other = await services.ask.ask(AskRequest("How much do ML engineers earn?", GUILD + 1, ALICE))
    assert "Ask HR." not in other.answer.text


async def test_milestone_for_maps_cited_sections(services: BotServices) -> None:
    reply = await services.ask.ask(
        AskRequest("supervised learning regression and classification", GUILD, ALICE)
    )
    milestone = milestone_for(reply.answer, services.progress.guide)
    assert milestone is not None
    assert milestone.id == "p1-supervised"
    small_talk = await services.ask.ask(AskRequest("hello", GUILD, ALICE))
    assert milestone_for(small_talk.answer, services.progress.guide) is None
