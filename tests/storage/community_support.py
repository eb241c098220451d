"""Fakes for the community tests: a Sender that behaves like the Discord one."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from bot.services.delivery import OutgoingMessage, Sender, SendOutcome


@dataclass
class FakeSender:
    """Records what it delivered. `script` gives outcomes in order (then: sent).

    Like the real one it returns typed outcomes and never raises for Forbidden/429;
    `block` makes a send hang until released (to cancel it mid-flight).
    """

    script: list[SendOutcome] = field(default_factory=list)
    delivered: list[OutgoingMessage] = field(default_factory=list)
    calls: int = 0
    roles: list[tuple[int, int, int]] = field(default_factory=list)
    block: asyncio.Event | None = None
    entered: asyncio.Event = field(default_factory=asyncio.Event)

    async def send(self, message: OutgoingMessage) -> SendOutcome:
        self.calls += 1
        self.entered.set()
        if self.block is not None:
            await self.block.wait()
        outcome = self.script.pop(0) if self.script else SendOutcome.sent()
        if outcome.kind == "sent":
            self.delivered.append(message)
        return outcome

    async def grant_role(self, guild_id: int, user_id: int, role_id: int) -> SendOutcome:
        self.roles.append((guild_id, user_id, role_id))
        return SendOutcome.sent()


def _conforms(sender: Sender) -> Sender:
    """Type-checked: FakeSender satisfies the Sender protocol."""
    return sender


_conforms(FakeSender())


class Crash(BaseException):
    """Stands in for the process dying (not an Exception: nothing catches it)."""
