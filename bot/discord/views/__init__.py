"""Discord UI: embeds, buttons, selects and modals (glue only; logic lives in services)."""
