"""Sending to Discord without Discord: the `Sender` protocol, typed outcomes, pacing, retries.

Exactly-once, and where it is only at-most-once (the protocol every delivery follows):

1. **claim**: insert the row under its unique key (member + ISO week, guild + week,
   challenge + kind), committed. Whoever inserts it owns the delivery; nobody else can.
2. **intent**: set `sending_at` and `attempts += 1`, committed, *then* call the sender.
3. **mark**: record the outcome (sent / failed / retry later), committed.

A crash after 1 (before 2) leaves an idle claim; once it is older than `stale_after` it is
re-claimed and sent: no skip, and no duplicate because nothing was sent. A crash after 2
(during the send or after it, before 3) leaves `sending_at` set; Discord offers no
idempotency key for a DM or channel post that we could check afterwards, so the message
may or may not have gone out. We choose **at-most-once** there: the row becomes 'skipped'
with the reason "outcome unknown" and a warning is logged, never sent twice. That window
is the duration of one HTTP call. Nothing is ever skipped silently: every due delivery
ends as a row saying sent, failed (why) or skipped (why).

Refusals are typed: `forbidden` (DMs closed: final, the member is marked `dm_closed`),
`rate_limited` (retry after Discord's `retry_after`), `error` (transient: bounded retries
with backoff). Both retryable kinds mean "not delivered", so retrying cannot duplicate.
`unknown` (a timeout: Discord may have processed it) is handled like a crash mid-send:
recorded as skipped, never retried.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Literal, Protocol

Target = Literal["dm", "channel"]
OutcomeKind = Literal["sent", "forbidden", "rate_limited", "error", "unknown"]
Sleep = Callable[[float], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class OutgoingMessage:
    """One message to deliver; `key` is stable per delivery (usable as a Discord nonce)."""

    kind: Literal["nudge", "digest", "announcement"]
    guild_id: int
    target: Target
    text: str
    key: str
    user_id: int | None = None  # the DM recipient, or the member to mention in a channel
    channel_id: int | None = None  # for target == "channel"


@dataclass(frozen=True, slots=True)
class SendOutcome:
    kind: OutcomeKind
    retry_after: float = 0.0  # seconds, for rate_limited
    detail: str = ""

    @classmethod
    def sent(cls) -> SendOutcome:
        return cls("sent")

    @classmethod
    def forbidden(cls, detail: str = "forbidden") -> SendOutcome:
        return cls("forbidden", detail=detail)

    @classmethod
    def rate_limited(cls, retry_after: float) -> SendOutcome:
        return cls("rate_limited", retry_after=max(0.0, float(retry_after)), detail="429")

    @classmethod
    def error(cls, detail: str) -> SendOutcome:
        return cls("error", detail=detail)

    @classmethod
    def unknown(cls, detail: str) -> SendOutcome:
        """The call may have reached Discord (e.g. a timeout): never retried (at-most-once)."""
        return cls("unknown", detail=detail)


class Sender(Protocol):
    """What the scheduler needs from Discord. Implementations map exceptions to outcomes.

    The Discord implementation turns discord.Forbidden into `forbidden`, HTTPException
    with status 429 into `rate_limited(retry_after)`, other HTTP 5xx / connection refused
    into `error`, and a timeout (the request may have been processed) into `unknown`. It
    must not raise for those; anything it raises is treated as a crash.
    """

    async def send(self, message: OutgoingMessage) -> SendOutcome: ...

    async def grant_role(self, guild_id: int, user_id: int, role_id: int) -> SendOutcome: ...


@dataclass(frozen=True, slots=True)
class Pacing:
    """At most `messages` sends per `seconds` (default 5 per 10 s), and in-call retries."""

    messages: int = 5
    seconds: float = 10.0
    tries: int = 3  # sender calls per delivery attempt (429 / transient)
    max_wait: float = 60.0  # cap on one retry_after wait inside a run
    max_attempts: int = 5  # delivery attempts (runs) before a delivery is marked failed

    def __post_init__(self) -> None:
        if self.messages < 1 or self.seconds <= 0 or self.tries < 1 or self.max_attempts < 1:
            raise ValueError("pacing needs messages >= 1, seconds > 0, tries/max_attempts >= 1")


class Pacer:
    """A sliding window limiter: the (n+1)th send waits until the oldest leaves the window."""

    def __init__(
        self,
        pacing: Pacing,
        *,
        sleep: Sleep = asyncio.sleep,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._pacing = pacing
        self._sleep = sleep
        self._monotonic = monotonic
        self._sent: deque[float] = deque()

    async def wait(self) -> None:
        window = self._pacing.seconds
        now = self._monotonic()
        while self._sent and now - self._sent[0] >= window:
            self._sent.popleft()
        if len(self._sent) >= self._pacing.messages:
            await self._sleep(window - (now - self._sent[0]))
            self._sent.popleft()
        self._sent.append(self._monotonic())


async def send_with_retries(
    sender: Sender,
    message: OutgoingMessage,
    pacer: Pacer,
    pacing: Pacing,
    sleep: Sleep = asyncio.sleep,
) -> SendOutcome:
    """Call the sender, honouring pacing, 429 retry_after and transient backoff (bounded)."""
    outcome = SendOutcome.error("not attempted")
    for attempt in range(pacing.tries):
        await pacer.wait()
        outcome = await sender.send(message)
        if outcome.kind in ("sent", "forbidden", "unknown"):
            return outcome
        if attempt + 1 == pacing.tries:
            break
        if outcome.kind == "rate_limited":
            if outcome.retry_after > pacing.max_wait:
                break  # too long to wait inside a run: the ledger retries later
            await sleep(outcome.retry_after)
        else:
            await sleep(min(pacing.max_wait, 2.0**attempt))
    return outcome
