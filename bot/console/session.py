"""A console session: the answer engine plus the member's progress, on one event loop.

The storage services are async; the REPL is a plain blocking loop. One `asyncio.Runner`
lives for the whole session so the database engine and its connections stay on the loop
they were created on, and every command runs to completion before the next prompt.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from bot.console.community import CommunityContext, sync_community_commands
from bot.console.progress import ProgressContext, sync_progress_commands
from bot.console.repl import Console, Reader, Writer, run_console
from bot.database import open_storage
from bot.services.mentor import Answer, MentorService
from bot.settings import Settings

log = logging.getLogger(__name__)


@contextmanager
def console_session(
    settings: Settings, mentor: MentorService, *, connect_args: Mapping[str, Any] | None = None
) -> Iterator[Console]:
    """The console wired to the database, open for as many `run_console` loops as needed."""
    with asyncio.Runner() as runner:
        storage = runner.run(open_storage(settings, mentor.guide, connect_args=connect_args))
        try:
            ctx = ProgressContext(storage.services)

            def phase_of() -> int | None:
                try:
                    info = runner.run(storage.services.phases.current(ctx.guild_id, ctx.user_id))
                except Exception:  # the answer only loses its "you're in Phase N" note
                    log.warning("could not read the member's phase", exc_info=True)
                    return None
                return info.number if info else None

            def on_unanswered(answer: Answer) -> None:
                best = answer.sources[0].score if answer.sources else None
                try:
                    runner.run(
                        storage.services.feedback.record_unanswered(
                            ctx.guild_id, ctx.user_id, answer.question, best
                        )
                    )
                except Exception:  # losing a statistic must not end the chat
                    log.exception("could not record an unanswered question")

            yield Console(
                mentor,
                commands={
                    **sync_progress_commands(ctx, runner),
                    **sync_community_commands(CommunityContext(storage.services), runner),
                },
                phase_of=phase_of,
                on_unanswered=on_unanswered,
            )
        finally:
            runner.run(storage.close())


def run_session(
    settings: Settings, mentor: MentorService, *, read: Reader = input, write: Writer = print
) -> int:
    with console_session(settings, mentor) as console:
        return run_console(console, read=read, write=write)
