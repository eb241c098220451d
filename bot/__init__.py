"""MLE Mentor: the application layer (CLI, console chat, Discord bot, services)."""
