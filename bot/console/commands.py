"""The console's command-table plumbing, shared by every family of console commands.

A family (progress, community) is a dict of async handlers `(ctx, args) -> str` with help
texts. Failures become one line (see `explain_failure`), so a command never ends the REPL, and
`bind_sync` adapts a table to the REPL's synchronous `(args) -> str` shape on the session's
one event loop (the database engine's connections must stay on the loop that made them).
"""

from __future__ import annotations

import asyncio
import logging
import shlex
from collections.abc import Awaitable, Callable, Mapping
from typing import TypeVar

from bot.services.errors import MentorError, ValidationError
from storage.errors import describe_database_fault

log = logging.getLogger(__name__)
SOMETHING_WENT_WRONG = "Sorry, something went wrong with that one; it has been logged."

Ctx = TypeVar("Ctx")
AsyncHandler = Callable[[Ctx, str], Awaitable[str]]
Table = Mapping[str, tuple[AsyncHandler[Ctx], str]]


def split_args(args: str) -> list[str]:
    """Shell-like words ("quoted notes" stay whole); bad quoting is a clear message."""
    try:
        return shlex.split(args)
    except ValueError as exc:
        raise ValidationError(f"Could not read that: {exc} (check your quotes).") from exc


def explain_failure(exc: Exception, what: str) -> str:
    """The one line a person sees when `what` failed; the traceback goes to the log only.

    A domain error is the member's to fix and reads as itself; a database that refused
    (locked, read-only, full) is named as such; anything else is a bug, logged in full.
    """
    if isinstance(exc, MentorError):
        return str(exc)
    fault = describe_database_fault(exc)
    if fault is not None:
        log.warning("%s: the database refused: %s", what, exc)
        return fault
    log.error("%s failed", what, exc_info=exc)
    return SOMETHING_WENT_WRONG


def guarded(handler: AsyncHandler[Ctx]) -> AsyncHandler[Ctx]:
    """A handler that never raises: failures become a one-line reply (`explain_failure`)."""

    async def run(ctx: Ctx, args: str) -> str:
        try:
            return await handler(ctx, args)
        except Exception as exc:
            return explain_failure(exc, f"console command {handler.__name__}")

    run.__name__ = handler.__name__
    run.__doc__ = handler.__doc__
    return run


async def dispatch(table: Table[Ctx], ctx: Ctx, line: str) -> str | None:
    """Run `line` if it names a command of `table`; None if it is not one of them."""
    name, _, args = line.strip().partition(" ")
    entry = table.get(name.lower())
    return None if entry is None else await entry[0](ctx, args.strip())


def bind_sync(
    table: Table[Ctx], ctx: Ctx, runner: asyncio.Runner
) -> dict[str, tuple[Callable[[str], str], str]]:
    def bind(handler: AsyncHandler[Ctx]) -> Callable[[str], str]:
        return lambda args: runner.run(handler(ctx, args))

    return {name: (bind(handler), text) for name, (handler, text) in table.items()}
