"""The /log form when several members have it open at once, through discord.py's own store.

discord.py keeps open modals in `ViewStore._modals`, keyed by the modal's custom_id, and
routes a submit by the custom_id in its payload. A fixed id made the second member's form
replace the first one's there, so one submit was dropped without an answer; each form now
has its own id. The store and the dispatch below are discord.py's real code.
"""

from __future__ import annotations

import asyncio
from typing import Any
from unittest.mock import MagicMock

import pytest
from discord.state import ConnectionState
from discord.ui.view import ViewStore

from bot.discord.cogs.progress import ProgressCog
from bot.discord.context import BotServices
from bot.discord.views.log_form import FORM_PREFIX, LogModal, parse_minutes
from bot.services.errors import ValidationError
from tests.bot.helpers import ALICE, BOB, GUILD, make_interaction, sent_kwargs


@pytest.fixture
def cog(bot: MagicMock, services: BotServices) -> ProgressCog:
    return ProgressCog(bot, services)


def submit_payload(modal: LogModal, **values: str) -> list[dict[str, Any]]:
    """The `components` of a MODAL_SUBMIT interaction, as Discord sends them."""
    return [
        {
            "type": 1,
            "components": [
                {"type": 4, "custom_id": getattr(modal, name).custom_id, "value": value}
            ],
        }
        for name, value in values.items()
    ]


async def open_form(cog: ProgressCog, store: ViewStore, user_id: int) -> LogModal:
    """Run `/log` without options as `user_id`; the modal lands in the store as in
    `InteractionResponse.send_modal`."""
    interaction = make_interaction(client=cog.bot, user_id=user_id)
    interaction.response.send_modal.side_effect = lambda modal: store.add_view(modal)
    await cog.log_time.callback(cog, interaction, None, None, None, None)
    modal = interaction.response.send_modal.call_args.args[0]
    assert isinstance(modal, LogModal)
    return modal


async def test_two_members_with_the_form_open_at_once_both_get_logged(
    cog: ProgressCog, services: BotServices
) -> None:
    store = ViewStore(MagicMock(spec_set=ConnectionState))
    alice_form = await open_form(cog, store, ALICE)
    bob_form = await open_form(cog, store, BOB)
    assert alice_form.custom_id != bob_form.custom_id
    assert alice_form.custom_id.startswith(FORM_PREFIX)

    # Bob submits first and is answered before Alice submits (the reported sequence).
    submits = []
    for user_id, form, minutes in ((BOB, bob_form, "20"), (ALICE, alice_form, "45")):
        submit = make_interaction(client=cog.bot, user_id=user_id)
        payload = submit_payload(form, minutes=minutes, topic="numpy", note="", link="")
        store.dispatch_modal(form.custom_id, submit, payload, {})  # type: ignore[arg-type]
        await asyncio.wait_for(form.wait(), timeout=5)
        submits.append(submit)

    for submit, minutes in zip(submits, ("20m", "45m"), strict=True):
        sent = sent_kwargs(submit.response.send_message)
        assert f"Logged **{minutes}** of numpy" in str(sent["content"])
        assert sent["ephemeral"] is True
    assert (await services.progress.stats.summary(GUILD, BOB)).all_time.minutes == 20
    assert (await services.progress.stats.summary(GUILD, ALICE)).all_time.minutes == 45


async def test_forms_expire_so_abandoned_ones_do_not_pile_up(cog: ProgressCog) -> None:
    form = LogModal(cog.services)
    assert form.timeout is not None
    assert form.timeout >= 15 * 60


@pytest.mark.parametrize("text", ["²", "4²", "٤٥", "", "-5", "1e3", "lots"])
def test_minutes_are_ascii_digits_only(text: str) -> None:
    with pytest.raises(ValidationError, match="whole number"):
        parse_minutes(text)
