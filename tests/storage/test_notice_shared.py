"""The closed-DM notice is told once per problem across processes and restarts.

Two `NudgeService`s on two engines over one database stand for two bot processes (or
one process before and after a restart): what one has told, the other knows.
"""

from __future__ import annotations

from bot.services.nudges import DM_CLOSED_NOTICE, NudgeService, ProblemNotices
from storage.engine import make_sessionmaker, transaction
from storage.repositories.nudges import NudgeRepository
from tests.storage.support import ALICE, GUILD


async def _close_dms(sessionmaker, clock) -> None:
    async with transaction(sessionmaker, write=True) as session:
        await NudgeRepository(session).mark_dm_closed(GUILD, ALICE, clock())


async def test_notice_told_in_one_process_is_known_to_another(
    empty_db, engine, sessionmaker, guide, clock
) -> None:
    other_engine = empty_db.engine()
    try:
        here = NudgeService(sessionmaker, guide, clock)
        there = NudgeService(make_sessionmaker(other_engine), guide, clock)
        notices = ProblemNotices()
        await here.set_preferences(GUILD, ALICE, enabled=True, via="dm")
        await _close_dms(sessionmaker, clock)

        assert await notices.due(here, GUILD, ALICE) == DM_CLOSED_NOTICE
        await notices.mark_told(here, GUILD, ALICE, DM_CLOSED_NOTICE)
        assert await ProblemNotices().due(there, GUILD, ALICE) is None  # other process

        # Fixed (choosing a route clears dm_closed): forgotten, so a new refusal is told.
        await there.set_preferences(GUILD, ALICE, via="dm")
        assert await ProblemNotices().due(there, GUILD, ALICE) is None
        await _close_dms(sessionmaker, clock)
        assert await ProblemNotices().due(here, GUILD, ALICE) == DM_CLOSED_NOTICE
    finally:
        await other_engine.dispose()
