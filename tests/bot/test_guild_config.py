"""GuildConfigService on a real migrated SQLite file."""

from __future__ import annotations

import pytest

from bot.discord.context import BotServices
from bot.services.errors import ValidationError
from bot.services.guild_config import GuildConfigService
from tests.bot.helpers import ALICE, BOB, CHANNEL, GUILD


@pytest.fixture
def config(services: BotServices) -> GuildConfigService:
    assert services.config is not None
    return services.config


async def test_ask_and_nudge_channels_set_and_clear(config: GuildConfigService) -> None:
    assert await config.ask_channel(GUILD) is None
    await config.set_ask_channel(GUILD, CHANNEL)
    await config.set_nudge_channel(GUILD, CHANNEL + 1)
    assert await config.ask_channel(GUILD) == CHANNEL
    assert await config.nudge_channel(GUILD) == CHANNEL + 1
    assert await config.ask_channel(GUILD + 1) is None
    await config.set_ask_channel(GUILD, None)
    assert await config.ask_channel(GUILD) is None
    assert await config.nudge_channel(GUILD) == CHANNEL + 1


async def test_phase_roles_map_replace_and_remove(config: GuildConfigService) -> None:
    await config.set_phase_role(GUILD, 1, 501)
    await config.set_phase_role(GUILD, 3, 503)
    await config.set_phase_role(GUILD, 1, 511)
    assert await config.phase_roles(GUILD) == {1: 511, 3: 503}
    await config.set_phase_role(GUILD, 3, None)
    assert await config.phase_roles(GUILD) == {1: 511}
    with pytest.raises(ValidationError, match="no phase 7"):
        await config.set_phase_role(GUILD, 7, 501)


async def test_faq_upsert_lookup_and_remove(config: GuildConfigService) -> None:
    assert await config.set_faq(GUILD, ALICE, "Where do we meet?", "Voice channel, Fridays.")
    assert not await config.set_faq(GUILD, BOB, "where do we MEET", "Stage channel.")
    [entry] = await config.list_faqs(GUILD)  # same normalised question: replaced, not added
    assert (entry.question, entry.answer, entry.created_by) == (
        "where do we MEET",
        "Stage channel.",
        BOB,
    )
    assert await config.list_faqs(GUILD + 1) == ()
    assert await config.remove_faq(GUILD, "where do we meet")
    assert not await config.remove_faq(GUILD, "where do we meet")
    assert await config.list_faqs(GUILD) == ()


@pytest.mark.parametrize(
    ("question", "answer", "message"),
    [
        ("?", "x", "as members would ask"),
        ("q" * 301, "x", "under 300"),
        ("Where?", "   ", "empty"),
        ("Where?", "a" * 1501, "1,501 characters"),
    ],
)
async def test_faq_rejects_bad_input(
    config: GuildConfigService, question: str, answer: str, message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        await config.set_faq(GUILD, ALICE, question, answer)
    assert await config.list_faqs(GUILD) == ()


async def test_forgetting_the_author_keeps_the_answer_anonymised(
    services: BotServices, config: GuildConfigService
) -> None:
    await services.progress.phases.set_phase(GUILD, ALICE, 1)
    await config.set_faq(GUILD, ALICE, "Where do we meet?", "Fridays.")
    await services.progress.privacy.forget(GUILD, ALICE)
    [entry] = await config.list_faqs(GUILD)
    assert entry.created_by is None
    assert entry.answer == "Fridays."
