"""👍 / 👎 reactions on an answer count as feedback, like its buttons.

Members react out of habit; ignoring that lost the signal. A reaction is recorded through
the same `FeedbackService.record_feedback` as the buttons, so one member has one vote per
answer whichever way they cast it (reacting after clicking replaces the vote). Only the
bot's own answer messages that carry the vote buttons count; the reaction stays silent (no
reply), as reactions are.
"""

from __future__ import annotations

import logging

import discord
from discord.ext import commands

from bot.discord.context import BotServices
from bot.discord.views.answer import cited_section_of, question_of
from bot.services.errors import MentorError

log = logging.getLogger("mentor.discord.reactions")

VOTES = {"👍": True, "👎": False}
_SKIN_TONES = "".join(chr(c) for c in range(0x1F3FB, 0x1F400))
FEEDBACK_PREFIX = "mentor:fb:"


def vote_of(emoji: discord.PartialEmoji) -> bool | None:
    """True for 👍, False for 👎 (any skin tone), None for anything else."""
    if emoji.is_custom_emoji():
        return None
    return VOTES.get(str(emoji).strip(_SKIN_TONES + "\ufe0f"))


def takes_votes(message: discord.Message) -> bool:
    """An answer with 👍/👎 buttons (not small talk, not a DM, not another bot message)."""
    return any(
        (getattr(child, "custom_id", None) or "").startswith(FEEDBACK_PREFIX)
        for row in message.components
        for child in getattr(row, "children", ())
    )


class ReactionFeedbackCog(commands.Cog, name="Reactions"):
    def __init__(self, bot: commands.Bot, services: BotServices) -> None:
        self.bot = bot
        self.services = services

    async def _answer(self, payload: discord.RawReactionActionEvent) -> discord.Message | None:
        """The reacted message: from the cache when possible, else one API call."""
        cached = discord.utils.get(self.bot.cached_messages, id=payload.message_id)
        if cached is not None:
            return cached
        channel = self.bot.get_partial_messageable(payload.channel_id, guild_id=payload.guild_id)
        try:
            return await channel.fetch_message(payload.message_id)
        except discord.HTTPException:
            log.warning(
                "could not read answer %s for a reaction (channel=%s)",
                payload.message_id,
                payload.channel_id,
            )
            return None

    @commands.Cog.listener()
    async def on_raw_reaction_add(self, payload: discord.RawReactionActionEvent) -> None:
        helpful = vote_of(payload.emoji)
        me = self.bot.user
        if helpful is None or payload.guild_id is None or me is None:
            return
        if payload.user_id == me.id or payload.message_author_id not in (None, me.id):
            return  # Discord names the author of the reacted message: skip others' at once
        if payload.member is not None and payload.member.bot:
            return
        message = await self._answer(payload)
        if message is None or message.author.id != me.id or not takes_votes(message):
            return
        try:
            await self.services.progress.feedback.record_feedback(
                payload.guild_id,
                payload.user_id,
                question_of(message) or "(unknown question)",
                helpful,
                cited_section_of(message),
            )
        except MentorError:
            log.warning("could not record a reaction vote", exc_info=True)
