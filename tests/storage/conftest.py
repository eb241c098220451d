"""Fixtures for storage and service tests: real databases, a small guide, a fake clock.

Every test gets a fresh database:
- SQLite: a new file in tmp_path (copied from a template migrated once per session, so
  each test starts from the real migrated schema without paying for migrations again).
- PostgreSQL (when TEST_DATABASE_URL is set): a fresh schema per test, migrated with the
  real migrations and dropped afterwards; otherwise the variant is skipped, visibly.
"""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.services.bundle import ProgressServices, build_progress_services
from knowledge.content import Guide, load_guide
from storage.engine import make_engine, make_sessionmaker
from storage.migrate import upgrade
from tests.storage.support import FakeClock, fresh_schema

PG_ENV = "TEST_DATABASE_URL"
BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
]

GUIDE_FILES = {
    "phase-0-prerequisites.md": """---
title: Prerequisites
phase: 0
kind: roadmap
duration: 4-8 weeks
milestones:
  - {id: p0-python, title: Write idiomatic Python, section: Python}
  - {id: p0-linear-algebra, title: Linear algebra basics, section: Maths}
---
# Prerequisites
Python and maths.
""",
    "phase-1-foundations.md": """---
title: ML foundations
phase: 1
kind: roadmap
duration: 3 months
milestones:
  - {id: p1-backprop, title: Derive backprop by hand, section: Neural networks}
  - {id: p1-sklearn, title: Train a baseline with scikit-learn, section: Classical ML}
  - {id: p1-eval, title: Evaluate models honestly, section: Evaluation}
---
# ML foundations
Models and evaluation.
""",
    "phase-2-engineering.md": """---
title: ML engineering
phase: 2
kind: roadmap
duration: 3 months
milestones:
  - {id: p2-serving, title: Serve a model behind an API, section: Serving}
---
# ML engineering
Shipping models.
""",
    "faq.md": """---
title: FAQ
kind: topic
---
# FAQ
Questions.
""",
}


@pytest.fixture(scope="session")
def guide(tmp_path_factory: pytest.TempPathFactory) -> Guide:
    """A small, fixed guide so tests don't depend on the real guide's wording."""
    root = tmp_path_factory.mktemp("guide")
    for name, body in GUIDE_FILES.items():
        (root / name).write_text(body, encoding="utf-8")
    return load_guide(root)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@dataclass
class DatabaseTarget:
    """Where a test's database lives; `engine()` opens it with the right options."""

    backend: str
    url: str
    connect_args: dict[str, Any] = field(default_factory=dict)
    path: Path | None = None

    def engine(self, **kwargs: Any) -> AsyncEngine:
        return make_engine(self.url, connect_args=self.connect_args, **kwargs)


def _sqlite_url(path: Path) -> str:
    return f"sqlite+aiosqlite:///{path}"


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.sqlite3"
    asyncio.run(upgrade(_sqlite_url(path)))
    return path


@pytest.fixture(params=BACKENDS)
async def empty_db(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[DatabaseTarget]:
    """A database with no tables (migration tests start here)."""
    if request.param == "sqlite":
        path = tmp_path / "data" / "mentor.sqlite3"  # parent missing on purpose
        yield DatabaseTarget("sqlite", _sqlite_url(path), path=path)
        return
    url = os.environ.get(PG_ENV)
    if not url:
        pytest.skip(f"{PG_ENV} not set")
    async with fresh_schema(url) as schema:
        yield DatabaseTarget(
            "postgres", url, connect_args={"server_settings": {"search_path": schema}}
        )


@pytest.fixture
async def engine(empty_db: DatabaseTarget, sqlite_template: Path) -> AsyncIterator[AsyncEngine]:
    """A migrated database at head, fresh for this test."""
    if empty_db.backend == "sqlite":
        assert empty_db.path is not None
        empty_db.path.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(sqlite_template, empty_db.path)
        eng = empty_db.engine()
    else:
        eng = empty_db.engine()
        await upgrade(eng)
    try:
        yield eng
    finally:
        await eng.dispose()


@pytest.fixture
def sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return make_sessionmaker(engine)


@pytest.fixture
def services(
    sessionmaker: async_sessionmaker[AsyncSession], guide: Guide, clock: FakeClock
) -> ProgressServices:
    return build_progress_services(sessionmaker, guide, clock)


@pytest.fixture
def backend(empty_db: DatabaseTarget) -> str:
    return empty_db.backend
