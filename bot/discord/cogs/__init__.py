"""One cog per feature: answers, progress, settings and data, admin."""
