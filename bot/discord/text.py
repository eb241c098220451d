"""Pure text helpers for Discord's size limits (no discord import, trivially unit-tested).

Discord rejects a whole message over its limits (2,000 characters of content; 4,096 for an
embed description, 1,024 per field value, 256 for titles, 6,000 for an embed in total), so
long text is split on paragraph boundaries first, then lines, then words, and only as a
last resort mid-word: readers see whole paragraphs wherever possible.
"""

from __future__ import annotations

import re

MESSAGE_LIMIT = 2_000
EMBED_DESCRIPTION_LIMIT = 4_096
EMBED_FIELD_LIMIT = 1_024
EMBED_TITLE_LIMIT = 256
EMBED_FOOTER_LIMIT = 2_048
EMBED_TOTAL_LIMIT = 6_000
ELLIPSIS = "…"

_SEPARATORS = ("\n\n", "\n", " ")


def truncate(text: str, limit: int) -> str:
    """`text` cut to at most `limit` characters, with an ellipsis when cut."""
    if limit <= 0:
        return ""
    if len(text) <= limit:
        return text
    return text[: limit - 1].rstrip() + ELLIPSIS


def split_message(text: str, limit: int = MESSAGE_LIMIT) -> list[str]:
    """Chunks of at most `limit` characters, split at the coarsest boundary that fits.

    Chunk boundaries prefer paragraph breaks, then line breaks, then spaces; whitespace at
    a boundary is dropped. Empty or blank input gives no chunks.
    """
    if limit < 1:
        raise ValueError("limit must be positive")
    rest = text.strip()
    chunks: list[str] = []
    while len(rest) > limit:
        window = rest[: limit + 1]
        cut = -1
        for separator in _SEPARATORS:
            cut = window.rfind(separator)
            if cut > 0:
                break
        if cut <= 0:
            cut = limit  # one unbroken run longer than the limit: hard split
        chunks.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest:
        chunks.append(rest)
    return chunks


def strip_bot_mention(content: str, bot_id: int) -> str:
    """The message without the `<@bot>` / `<@!bot>` mention that addressed the question."""
    return re.sub(rf"<@!?{bot_id}>", " ", content).strip()


def one_line(text: str, limit: int) -> str:
    """Collapse whitespace and truncate: for titles, select labels and audit lines."""
    return truncate(" ".join(text.split()), limit)
