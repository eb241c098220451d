"""Text handling at the edge of the answer engine: cleaning questions and trimming passages.

Questions arrive from chat, stdin and Discord with anything in them: control characters,
zalgo, Markdown, mass mentions. They are normalised here once, so retrieval sees words and
nothing the user typed is ever echoed back as markup or a ping.
"""

from __future__ import annotations

import re
import unicodedata

MAX_QUESTION_CHARS = 1_000
_MARKDOWN = re.compile(r"[*_`~>|#\[\]]+|\(https?://[^)]*\)")
_MENTION = re.compile(r"@(everyone|here)\b|<@[!&]?\d+>|<#\d+>", re.IGNORECASE)
_SPACE = re.compile(r"\s+")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[\"'(\[]?[A-Z0-9$])")
_GREETING_WORDS = {
    "hi", "hello", "hey", "heya", "hiya", "yo", "howdy", "greetings", "morning", "evening",
    "afternoon", "good", "gm", "sup", "there", "mentor", "bot", "all", "everyone", "folks",
}  # fmt: skip
_THANKS_WORDS = {
    "thanks", "thank", "you", "thx", "ty", "cheers", "much", "so", "a", "lot", "appreciate",
    "it", "great", "awesome", "perfect", "helpful", "that", "was", "very", "nice", "ok", "okay",
    "cool", "got", "bye", "goodbye", "later", "see", "ya",
}  # fmt: skip


def _drop_stacked_marks(text: str) -> str:
    """Keep a combining mark only if it composes into one letter with its base (é, ñ, ü).

    Zalgo text piles dozens of non-composing marks onto each letter; real accents compose.
    """
    out: list[str] = []
    for char in unicodedata.normalize("NFD", text):
        if unicodedata.category(char) in ("Mn", "Me") and out:
            composed = unicodedata.normalize("NFC", out[-1] + char)
            if len(composed) == 1:
                out[-1] = composed
            continue
        out.append(char)
    return "".join(out)


def clean_question(raw: str) -> str:
    """Readable plain text: NFKC, no control chars, no zalgo pile-ups, no markup or pings."""
    text = _drop_stacked_marks(unicodedata.normalize("NFKC", raw))
    # Control, format, unassigned and private-use characters become spaces.
    text = "".join(" " if unicodedata.category(ch).startswith("C") else ch for ch in text)
    text = _MENTION.sub(" ", text)
    text = _MARKDOWN.sub(" ", text)
    return _SPACE.sub(" ", text).strip()


def has_words(text: str) -> bool:
    return any(ch.isalnum() for ch in text)


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z']+", text.lower())


def small_talk(text: str) -> str | None:
    """'greeting' or 'thanks' when the message is nothing but that, else None."""
    words = _words(text)
    if not words or len(words) > 8 or ("?" in text and len(words) > 3):
        return None
    if any(w.startswith("thank") or w in {"thx", "ty", "cheers"} for w in words) and all(
        w in _THANKS_WORDS or w in _GREETING_WORDS for w in words
    ):
        return "thanks"
    if words[0] in _GREETING_WORDS - {"good", "there", "all"} and all(
        w in _GREETING_WORDS for w in words
    ):
        return "greeting"
    if words[:2] in (["good", "morning"], ["good", "evening"], ["good", "afternoon"]):
        return "greeting" if all(w in _GREETING_WORDS for w in words) else None
    return None


def split_sentences(text: str) -> list[str]:
    """Sentence split that keeps list items whole and never breaks inside '2–4 months.'."""
    pieces: list[str] = []
    for line in text.splitlines():
        line = line.strip()
        if line:
            pieces.extend(s for s in _SENTENCE_END.split(line) if s)
    return pieces


def trim_passage(text: str, limit: int) -> str:
    """The longest prefix of whole sentences within `limit`, keeping list lines as lines.

    A single first sentence longer than the limit is cut at a word boundary with an
    ellipsis rather than dropped, so an answer is never empty.
    """
    text = text.strip()
    if len(text) <= limit:
        return text
    out = ""
    for line in (raw.strip() for raw in text.splitlines()):
        if not line:
            continue
        for position, sentence in enumerate(_SENTENCE_END.split(line)):
            separator = "" if not out else ("\n" if position == 0 else " ")
            candidate = out + separator + sentence
            if len(candidate) > limit:
                return out or _cut_at_word(sentence, limit)
            out = candidate
    return out


def _cut_at_word(sentence: str, limit: int) -> str:
    cut = sentence[: max(limit - 1, 1)].rsplit(" ", 1)[0]
    return cut.rstrip(",;:") + "…"
