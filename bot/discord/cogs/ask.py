"""Answers: /ask, @mentions, replies to the bot, threads on answers, DMs, the ask channel.

Glue only: decide whether a message is a question for us, gate it (`AskService.admit`),
get the answer (`AskService.ask`), render the embed. Follow-ups find the previous question
in a small in-memory map of recent answers, falling back to the answer embed's title (so
they survive restarts too).

A cooldown notice, "warming up", "too long" and "no question found" concern the asker
alone: interactions get them privately, and in a server channel they are a short reply
that deletes itself, so nobody is told off in public and the channel stays clean.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict

import discord
from discord import app_commands
from discord.ext import commands

from bot.discord.context import BotServices
from bot.discord.text import strip_bot_mention
from bot.discord.views.answer import answer_embed, answer_view, question_of
from bot.services.answers import AskRequest, Reply, looks_like_question
from bot.services.errors import MentorError
from bot.services.mentor import AnswerKind

log = logging.getLogger("mentor.discord.ask")

RECENT_ANSWERS = 2_000
# A DM sent this soon after the bot's last answer in that DM continues the conversation.
DM_FOLLOW_UP_SECONDS = 10 * 60.0
NOTICE_SECONDS = 20.0  # how long a notice meant for one member stays in a server channel
DM_COMMAND_HINT = (
    "Progress commands (/log, /progress, /roadmap…) work inside a server, where your "
    "progress is kept. Here in DMs I answer questions: just type one."
)
CHANNEL_PERMISSIONS_HINT = (
    "I tried to answer a question in {channel} on **{guild}** but Discord refused: I'm "
    "missing Send Messages / Embed Links / Read Message History there. Please check my "
    "role's permissions for that channel."
)


class AskCog(commands.Cog, name="Answers"):
    def __init__(self, bot: commands.Bot, services: BotServices) -> None:
        self.bot = bot
        self.services = services
        self._recent: OrderedDict[int, str] = OrderedDict()  # answer message id -> question
        # DM channel id -> (the last question answered there, when)
        self._last_dm: OrderedDict[int, tuple[str, float]] = OrderedDict()
        self._warned_channels: set[int] = set()
        # thread id -> the question its starter answer answered (None: not on our answer)
        self._thread_questions: OrderedDict[int, str | None] = OrderedDict()

    def remember(self, message_id: int, question: str) -> None:
        self._recent[message_id] = question
        while len(self._recent) > RECENT_ANSWERS:
            self._recent.popitem(last=False)

    def _render(self, reply: Reply, *, in_guild: bool) -> dict[str, object]:
        view = answer_view(reply.answer, self.services.progress.guide, in_guild=in_guild)
        payload: dict[str, object] = {
            "embed": answer_embed(reply.answer, asker_phase=reply.asker_phase)
        }
        if view is not None:
            payload["view"] = view
        return payload

    @app_commands.command(name="ask", description="Ask MLE Mentor a question about the roadmap")
    @app_commands.describe(question="Your question, e.g. How long does Phase 2 take?")
    async def ask(
        self, interaction: discord.Interaction, question: app_commands.Range[str, 1, 1000]
    ) -> None:
        # Gate first, so a cooldown or "warming up" reply is private, then defer: retrieval
        # can take longer than the 3 seconds Discord allows for the first response. A
        # message that is no question ("???") is answered privately too.
        kind = self.services.ask.admit(interaction.guild_id, interaction.user.id, question)
        await interaction.response.defer(thinking=True, ephemeral=kind == "invalid")
        reply = await self.services.ask.ask(
            AskRequest(question, interaction.guild_id, interaction.user.id)
        )
        if reply.answer.kind == AnswerKind.INVALID:
            await interaction.followup.send(reply.answer.text, ephemeral=True)
            return
        message = await interaction.followup.send(
            **self._render(reply, in_guild=interaction.guild_id is not None),  # type: ignore[arg-type]
            wait=True,
        )
        self.remember(message.id, question)

    async def _ask_channel(self, guild_id: int) -> int | None:
        cache = self.services.ask_channels
        if guild_id not in cache:
            config = self.services.config
            cache[guild_id] = await config.ask_channel(guild_id) if config is not None else None
        return cache[guild_id]

    async def _previous_question(self, message: discord.Message) -> tuple[bool, str | None]:
        """(is this a follow-up to one of our answers?, the question it follows)."""
        me = self.bot.user
        reference = message.reference
        if reference is not None and reference.message_id is not None:
            if reference.message_id in self._recent:
                return True, self._recent[reference.message_id]
            resolved = reference.resolved
            if isinstance(resolved, discord.Message) and me and resolved.author.id == me.id:
                return True, question_of(resolved)
        channel = message.channel
        if isinstance(channel, discord.Thread):
            if channel.id in self._recent:
                return True, self._recent[channel.id]  # a thread started on one of our answers
            question = await self._thread_question(channel)
            if question is not None:
                return True, question
        if message.guild is None and channel.id in self._last_dm:
            question, at = self._last_dm[channel.id]
            if time.monotonic() - at <= DM_FOLLOW_UP_SECONDS:
                return True, question
        return False, None

    async def _thread_question(self, thread: discord.Thread) -> str | None:
        """The question answered by the message this thread was started on, if it is ours.

        The starter message comes from the cache when it is there; otherwise (a thread
        opened before a restart, or a message the cache has dropped) it is fetched once per
        thread and the outcome remembered, so later messages in the thread cost no API
        call. The fetch asks the parent channel for the message whose id is the thread's,
        which is how Discord identifies a message's thread.
        """
        if thread.id in self._thread_questions:
            return self._thread_questions[thread.id]
        me = self.bot.user
        starter = thread.starter_message
        if starter is None:
            parent = thread.parent
            if not isinstance(parent, discord.TextChannel):
                return None  # a forum post's starter is inside the thread, never our answer
            try:
                starter = await parent.fetch_message(thread.id)
            except (discord.NotFound, discord.Forbidden):
                starter = None
            except discord.HTTPException:
                log.warning("could not fetch the starter message of thread %s", thread.id)
                return None  # transient: try again on the next message
        ours = starter is not None and me is not None and starter.author.id == me.id
        question = question_of(starter) if ours else None
        self._thread_questions[thread.id] = question
        while len(self._thread_questions) > RECENT_ANSWERS:
            self._thread_questions.popitem(last=False)
        return question

    async def question_in(self, message: discord.Message) -> AskRequest | None:
        """The question this message asks us, or None when it is not for us."""
        me = self.bot.user
        if me is None or message.author.bot or message.author.id == me.id:
            return None
        text = strip_bot_mention(message.content, me.id)
        guild_id = message.guild.id if message.guild else None
        follow_up, previous = await self._previous_question(message)
        addressed = me in message.mentions or follow_up or guild_id is None
        if not addressed and guild_id is not None:
            ask_channel = await self._ask_channel(guild_id)
            parent_id = getattr(message.channel, "parent_id", None)
            in_ask_channel = ask_channel is not None and ask_channel in (
                message.channel.id,
                parent_id,
            )
            addressed = in_ask_channel and looks_like_question(text)
        if not addressed:
            return None
        return AskRequest(text, guild_id, message.author.id, previous)

    @commands.Cog.listener()
    async def on_message(self, message: discord.Message) -> None:
        request = await self.question_in(message)
        if request is None:
            return
        if request.guild_id is None and request.question.startswith("/"):
            await self._send(message, content=DM_COMMAND_HINT)
            return
        try:
            self.services.ask.admit(
                request.guild_id,
                request.user_id,
                request.question,
                follow_up=request.previous_question is not None,
            )
        except MentorError as refused:
            await self._notice(message, refused.message)
            return
        try:
            reply = await self.services.ask.ask(request)
        except MentorError as error:
            await self._send(message, content=error.message)
            return
        except Exception:
            log.exception(
                "answering failed (guild=%s channel=%s user=%s)",
                request.guild_id,
                message.channel.id,
                request.user_id,
            )
            await self._send(message, content="Sorry, something went wrong answering that.")
            return
        if reply.answer.kind == AnswerKind.INVALID:
            await self._notice(message, reply.answer.text)
            return
        sent = await self._send(
            message, **self._render(reply, in_guild=request.guild_id is not None)
        )
        if sent is not None:
            self.remember(sent.id, request.question)
            if request.guild_id is None and reply.answer.kind == AnswerKind.ANSWER:
                self._remember_dm(message.channel.id, request.question)

    def _remember_dm(self, channel_id: int, question: str) -> None:
        self._last_dm[channel_id] = (question, time.monotonic())
        self._last_dm.move_to_end(channel_id)
        while len(self._last_dm) > RECENT_ANSWERS:
            self._last_dm.popitem(last=False)

    async def _notice(self, message: discord.Message, text: str) -> None:
        """A reply meant for the asker alone: in a server it deletes itself after a while
        (a reaction alone could not say how long to wait); a DM is private already."""
        if message.guild is None:
            await self._send(message, content=text)
        else:
            await self._send(message, content=text, delete_after=NOTICE_SECONDS)

    async def _send(self, message: discord.Message, **payload: object) -> discord.Message | None:
        """Reply without pinging; a permission failure is logged and reported to the owner."""
        try:
            return await message.reply(mention_author=False, **payload)  # type: ignore[arg-type]
        except discord.Forbidden as error:
            log.warning(
                "cannot answer in channel %s of guild %s: %s",
                message.channel.id,
                message.guild.id if message.guild else None,
                error.text,
            )
            await self._warn_owner(message)
        except discord.HTTPException:
            log.exception("sending an answer failed (channel=%s)", message.channel.id)
        return None

    async def _warn_owner(self, message: discord.Message) -> None:
        """Tell the server owner (once per channel per run) that a channel blocks the bot."""
        guild = message.guild
        if guild is None or message.channel.id in self._warned_channels:
            return
        self._warned_channels.add(message.channel.id)
        try:
            owner = guild.owner or await guild.fetch_member(guild.owner_id or 0)
            channel = getattr(message.channel, "mention", f"#{message.channel.id}")
            await owner.send(CHANNEL_PERMISSIONS_HINT.format(channel=channel, guild=guild.name))
        except (discord.HTTPException, AttributeError):
            log.warning("could not tell the owner of guild %s about missing permissions", guild.id)
