"""The Discord adapter: the bot, its cogs and views, and the helpers only they use.

This package is the only code allowed to import discord.py. It turns gateway events and
interactions into calls on the Discord-free services in `bot.services` and renders the
results; it never imports the console (`tests/unit/test_layering.py` enforces both).
"""
