"""Plain helpers shared by the storage tests (fixtures live in conftest.py)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta


@dataclass
class FakeClock:
    """An injectable clock the test moves by hand."""

    now: datetime = field(default_factory=lambda: datetime(2026, 3, 4, 12, 0, tzinfo=UTC))

    def __call__(self) -> datetime:
        return self.now

    def set(self, value: datetime) -> None:
        self.now = value

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


# Realistic 64-bit Discord snowflakes (well above 2**53, so float rounding would show).
GUILD = 111_111_111_111_111_111
OTHER_GUILD = 222_222_222_222_222_222
ALICE = 900_000_000_000_000_001
BOB = 900_000_000_000_000_002
CAROL = 900_000_000_000_000_003
