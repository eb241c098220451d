"""The real bot over real HTTP + WebSocket against discord-digital-twin."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from storage.engine import transaction
from storage.repositories.bot_state import BotStateRepository
from tests.e2e.conftest import RunningBot, Twin
from tests.e2e.shims import UPLOADS

pytestmark = pytest.mark.asyncio(loop_scope="package")

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
# Interaction callback types (Discord API).
CHANNEL_MESSAGE = 4
DEFERRED_CHANNEL_MESSAGE = 5
UPDATE_MESSAGE = 7
MODAL = 9
TEXT_INPUT = 4  # component type


def _custom_ids(message: dict) -> list[str]:
    return [c["custom_id"] for row in message.get("components", []) for c in row["components"]]


async def test_commands_were_synced_to_the_dev_guild(running: RunningBot) -> None:
    # The "already synced" marker is in the database, shared by every shard process.
    async with transaction(running.bot.services.progress.sessionmaker, write=False) as session:
        marker = await BotStateRepository(session).get(f"commands:guild-{running.twin.guild_id}")
    assert marker == running.bot.command_digest()


async def test_mention_is_answered_with_citations(running: RunningBot) -> None:
    twin = running.twin
    bot_id = twin.info["botUserId"]
    sent = await twin.call(
        "sendMessage",
        userId=twin.user("alice"),
        channelId=twin.channel("general"),
        content=f"<@{bot_id}> How do I serve a model with FastAPI? @everyone",
    )
    [reply] = await twin.bot_messages(sent["id"])
    embed = reply["embeds"][0]
    assert embed["title"] == "How do I serve a model with FastAPI?"
    assert embed["fields"][0]["name"] == "Sources"
    assert "Deployment" in embed["fields"][0]["value"]
    assert "@everyone" not in reply["content"]
    # The twin echoes the reference as a JSON number and JavaScript rounds 64-bit ids to
    # doubles (53-bit mantissa), so compare within that rounding error.
    referenced = int(reply["message_reference"]["message_id"])
    assert abs(referenced - int(sent["id"])) <= 2**11
    assert _custom_ids(reply)[:2] == ["mentor:fb:1", "mentor:fb:0"]


async def test_slash_ask_defers_then_follows_up(running: RunningBot) -> None:
    twin = running.twin
    question = "What tools do I need for supervised learning?"
    interaction = await twin.slash(
        "alice", "ask", [{"name": "question", "type": 3, "value": question}]
    )
    ack = await twin.ack(interaction)
    assert ack["type"] == DEFERRED_CHANNEL_MESSAGE
    [follow_up] = await twin.bot_messages(interaction)
    assert follow_up["embeds"][0]["title"] == question
    assert follow_up["embeds"][0]["fields"][0]["name"] in ("Sources", "Closest sections")


async def test_thumbs_up_click_is_stored(running: RunningBot) -> None:
    twin = running.twin
    question = "How do I serve a model with FastAPI?"
    interaction = await twin.slash(
        "alice", "ask", [{"name": "question", "type": 3, "value": question}]
    )
    [answer] = await twin.bot_messages(interaction)
    before = await running.services.progress.feedback.feedback_summary(twin.guild_id)
    click = await twin.call(
        "click",
        userId=twin.user("bob"),
        channelId=twin.channel("general"),
        messageId=answer["id"],
        customId="mentor:fb:1",
    )
    ack = await twin.ack(click["id"])
    assert ack["type"] == CHANNEL_MESSAGE
    after = await running.services.progress.feedback.feedback_summary(twin.guild_id)
    assert after.helpful == before.helpful + 1
    export = await running.services.progress.privacy.export(twin.guild_id, int(twin.user("bob")))
    assert export["tables"]["answer_feedback"][-1]["question"] == question


async def test_thumbs_down_reaction_is_stored_as_feedback(running: RunningBot) -> None:
    twin = running.twin
    question = "What tools do I need for supervised learning?"
    # Asked by Carol: Alice has used up her cooldown in the tests above.
    interaction = await twin.slash(
        "carol", "ask", [{"name": "question", "type": 3, "value": question}]
    )
    [answer] = await twin.bot_messages(interaction)
    assert answer["embeds"][0]["title"] == question
    feedback = running.services.progress.feedback
    before = await feedback.feedback_summary(twin.guild_id)
    await twin.call(
        "react",
        userId=twin.user("dave"),
        channelId=twin.channel("general"),
        messageId=answer["id"],
        emoji="👎",
    )
    for _ in range(100):
        after = await feedback.feedback_summary(twin.guild_id)
        if after.not_helpful > before.not_helpful:
            break
        await asyncio.sleep(0.05)
    assert after.not_helpful == before.not_helpful + 1
    export = await running.services.progress.privacy.export(twin.guild_id, int(twin.user("dave")))
    assert export["tables"]["answer_feedback"][-1]["question"] == question


async def test_log_then_progress(running: RunningBot) -> None:
    twin = running.twin
    logged = await twin.slash(
        "alice",
        "log",
        [
            {"name": "minutes", "type": 4, "value": 45},
            {"name": "topic", "type": 3, "value": "backprop"},
        ],
    )
    [confirmation] = await twin.bot_messages(logged)
    assert "Logged **45m** of backprop" in confirmation["content"]
    assert confirmation["flags"] & 64  # ephemeral
    UPLOADS.clear()
    progress = await twin.slash("alice", "progress")
    assert (await twin.ack(progress))["type"] == DEFERRED_CHANNEL_MESSAGE
    [card] = await twin.bot_messages(progress)
    fields = {f["name"]: f["value"] for f in card["embeds"][0]["fields"]}
    assert fields["This week"].startswith("45m")
    assert "backprop: 45m" in fields["Top topics"]
    assert card["embeds"][0]["image"]["url"] == "attachment://progress.png"
    [upload] = UPLOADS
    assert upload.filename == "progress.png"
    assert upload.data.startswith(PNG_MAGIC)


async def test_roadmap_select_marks_a_milestone(running: RunningBot) -> None:
    twin = running.twin
    interaction = await twin.slash("alice", "roadmap", [{"name": "phase", "type": 4, "value": 1}])
    [checklist] = await twin.bot_messages(interaction)
    assert _custom_ids(checklist) == ["mentor:roadmap-select"]
    selected = await twin.call(
        "select",
        userId=twin.user("alice"),
        channelId=twin.channel("general"),
        messageId=checklist["id"],
        customId="mentor:roadmap-select",
        values=["p1-supervised"],
    )
    assert (await twin.ack(selected["id"]))["type"] == UPDATE_MESSAGE
    items = await running.services.progress.milestones.checklist(
        twin.guild_id, int(twin.user("alice")), 1
    )
    assert [(i.id, i.status) for i in items.items] == [("p1-supervised", "done")]


async def test_admin_command_refused_for_a_non_admin(running: RunningBot) -> None:
    twin = running.twin
    await twin.call("setPermissions", userId=twin.user("bob"), permissions="0")
    insights = [{"name": "insights", "type": 1, "options": []}]
    refused = await twin.slash("bob", "admin", insights)
    [reply] = await twin.bot_messages(refused)
    assert "Manage Server" in reply["content"]
    assert reply["flags"] & 64
    allowed = await twin.slash("admin", "admin", insights)
    [card] = await twin.bot_messages(allowed)
    assert card["embeds"][0]["title"] == "What members ask that the guide misses"


def _form_inputs(form: dict) -> dict[str, str]:
    """Label -> custom_id of each text input in a modal as the bot sent it."""
    found: dict[str, str] = {}

    def walk(component: dict) -> None:
        if component.get("type") == TEXT_INPUT:
            found[component["label"]] = component["custom_id"]
        for child in component.get("components", []):
            walk(child)
        if "component" in component:
            walk(component["component"])

    for component in form["components"]:
        walk(component)
    return found


async def test_two_log_forms_open_at_once_both_submits_are_stored(running: RunningBot) -> None:
    """Two members open the /log form, then submit in the opposite order, one after the
    other: each submit is a real MODAL_SUBMIT (interaction type 5) over the gateway, routed
    by discord.py's own modal store."""
    twin = running.twin
    stats = running.services.progress.stats
    members = {"bob": 25, "carol": 35}
    before = {
        name: (await stats.summary(twin.guild_id, int(twin.user(name)))).all_time.minutes
        for name in members
    }
    forms = {}
    for name in members:
        opened = await twin.slash(name, "log")
        ack = await twin.ack(opened)
        assert ack["type"] == MODAL
        forms[name] = json.loads(ack["data"])
    assert forms["bob"]["custom_id"] != forms["carol"]["custom_id"]
    # Carol submits first, and her reply is awaited before Bob submits: with one shared
    # custom_id, discord.py has forgotten the form by then and Bob's entry was dropped.
    for name in reversed(members):
        inputs = _form_inputs(forms[name])
        submitted = await twin.call(
            "submitModal",
            userId=twin.user(name),
            channelId=twin.channel("general"),
            customId=forms[name]["custom_id"],
            fields=[
                {"customId": inputs["Minutes"], "value": str(members[name])},
                {"customId": inputs["Topic"], "value": f"{name}'s topic"},
                {"customId": inputs["Note (optional)"], "value": ""},
                {"customId": inputs["Link (optional)"], "value": ""},
            ],
        )
        answered = await twin.ack(submitted["id"])  # each submit gets its own reply
        assert answered["type"] == CHANNEL_MESSAGE
        confirmation = json.loads(answered["data"])
        assert f"Logged **{members[name]}m** of {name}'s topic" in confirmation["content"]
        assert confirmation["flags"] & 64  # private
    for name, minutes in members.items():
        after = await stats.summary(twin.guild_id, int(twin.user(name)))
        assert after.all_time.minutes == before[name] + minutes


async def _drift_answer(twin: Twin, user: str) -> dict[str, Any]:
    """`user` asks the bot about data drift in #general; its answer (cited from Monitoring)."""
    asked = await twin.call(
        "sendMessage",
        userId=twin.user(user),
        channelId=twin.channel("general"),
        content=f"<@{twin.info['botUserId']}> How do I detect data drift with Evidently?",
    )
    [answer] = await twin.bot_messages(asked["id"])
    assert "Monitoring" in answer["embeds"][0]["fields"][0]["value"]
    return answer


async def test_a_reply_to_an_answer_is_read_as_a_follow_up(running: RunningBot) -> None:
    twin = running.twin  # members the other tests leave clear of the question cooldown
    bot_id = twin.info["botUserId"]
    answer = await _drift_answer(twin, "dave")
    follow_up = "and which tool do I use for that?"
    alone = await twin.call(
        "sendMessage",
        userId=twin.user("admin"),
        channelId=twin.channel("general"),
        content=f"<@{bot_id}> {follow_up}",
    )
    [alone_answer] = await twin.bot_messages(alone["id"])
    assert "Monitoring" not in alone_answer["embeds"][0]["fields"][0]["value"]
    # The same words as a reply to the drift answer are read with the question it answers.
    follow = await twin.call(
        "sendMessage",
        userId=twin.user("dave"),
        channelId=twin.channel("general"),
        content=follow_up,
        replyTo=answer["id"],
    )
    [reply] = await twin.bot_messages(follow["id"])
    embed = reply["embeds"][0]
    assert embed["fields"][0]["name"] == "Sources"
    assert "Monitoring" in embed["fields"][0]["value"]


async def test_a_message_in_a_thread_on_an_answer_is_read_as_a_follow_up(
    running: RunningBot,
) -> None:
    twin = running.twin
    answer = await _drift_answer(twin, "carol")
    # The bot forgets its recent answers, as after a restart: the thread's question must
    # come from the starter message itself (the stand-in's thread id is not the message's).
    cog = running.bot.get_cog("Answers")
    assert cog is not None
    cog._recent.clear()  # type: ignore[attr-defined]
    thread = await twin.call(
        "startThread",
        userId=twin.user("carol"),
        channelId=twin.channel("general"),
        messageId=answer["id"],
    )
    follow = await twin.call(
        "sendMessage",
        userId=twin.user("carol"),
        channelId=thread["id"],
        content="and which tool do I use for that?",
    )
    [reply] = await twin.call(
        "waitBotMessages", channelId=thread["id"], afterId=follow["id"], count=1, timeout=15_000
    )
    embed = reply["embeds"][0]
    assert embed["fields"][0]["name"] == "Sources"
    assert "Monitoring" in embed["fields"][0]["value"]
