"""/help: what a member can do, and what an admin can do when the user can manage the server.

A curated text rather than a dump of the command tree: it says what each command is for and
mentions the ways to ask that are not commands (a mention, a reply, a DM). Private, since it
depends on who asks. `tests/bot/test_help_feedback.py` checks it names every command.
"""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands

from bot.discord.cogs._common import embed
from bot.discord.context import BotServices

MEMBER_HELP = """\
**Ask** `/ask`, @mention me, reply to one of my answers, or DM me. Rate an answer with its \
👍/👎 buttons or reactions.
**Your progress** (private)
`/phase`: see or set your roadmap phase
`/log`: record study time (no options opens a form) · `/undo`: remove the last log
`/progress`: totals, topics and a 12-week chart · `/streak`: your study streak
`/roadmap`: your phase's milestones; tick them off as you learn
`/settings`: timezone and weekly nudges · `/mydata export` / `/mydata forget`
**Community**
`/leaderboard`: who studied most (public)
`/nudge`: preview your weekly nudge · `/nudges`: turn it on or off, choose when and where
`/digest`: may the weekly digest name you?
`/challenge join` / `leave` / `status`: server study challenges"""

ADMIN_HELP = """\
`/admin ask-channel`: a channel where I answer questions unprompted
`/admin nudge-channel`: where channel nudges, the digest and challenge posts go
`/admin nudge-default`: the server's default nudge slot and digest time
`/admin phase-role`: a role for each roadmap phase
`/admin insights`: what members ask that the guide misses, and the feedback ratio
`/admin faq-set` / `faq-remove`: this server's own answers · `/admin reload`: reload the guide
`/challenge-admin create` / `end` / `cancel`: run study challenges"""


class HelpCog(commands.Cog, name="Help"):
    def __init__(self, bot: commands.Bot, services: BotServices) -> None:
        self.bot = bot
        self.services = services

    @app_commands.command(name="help", description="What I can do for you (and for admins)")
    async def help(self, interaction: discord.Interaction) -> None:
        card = embed("MLE Mentor: what I can do", MEMBER_HELP)
        if interaction.guild_id is not None and interaction.permissions.manage_guild:
            card.add_field(name="Admins (Manage Server)", value=ADMIN_HELP, inline=False)
        elif interaction.guild_id is None:
            card.set_footer(text="Progress commands work inside a server; in DMs I answer.")
        await interaction.response.send_message(embed=card, ephemeral=True)
