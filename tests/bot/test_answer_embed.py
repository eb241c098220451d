"""The answer embed: the body without the plain-text source line, sources in a field."""

from __future__ import annotations

import pytest

from bot.discord.views.answer import answer_embed
from bot.services.mentor import Answer, AnswerKind, Source


def _source(section: str) -> Source:
    return Source("Phase 3: production", section, 0.8, "phase-3", 3)


@pytest.mark.parametrize("count", [1, 2])
def test_the_plain_source_line_leaves_the_body_for_the_sources_field(count: int) -> None:
    sources = tuple(_source(f"Section {i}") for i in range(count))
    footer = ("Sources: " if count > 1 else "Source: ") + "; ".join(s.section for s in sources)
    answer = Answer(
        "how do i deploy?",
        f"Use Docker.\n\n{footer}\nRoadmap: this is Phase 3 material.",
        True,
        sources,
        AnswerKind.ANSWER,
        3,
    )
    embed = answer_embed(answer)
    assert embed.description == "Use Docker."
    assert embed.fields[0].value.splitlines() == [f"• {s.label}" for s in sources]
