"""Text handling at the edge of the answer engine: cleaning questions and trimming passages.

Questions arrive from chat, stdin and Discord with anything in them: control characters,
zalgo, Markdown, mass mentions. They are normalised here once, so retrieval sees words and
nothing the user typed is ever echoed back as markup or a ping.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable

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


# Combining marks that belong to no script: the general diacritics blocks. Zalgo is built
# from these; Devanagari, Thai, Arabic, Hebrew ... use marks from their own blocks.
_GENERIC_MARKS = ((0x0300, 0x036F), (0x1AB0, 0x1AFF), (0x1DC0, 0x1DFF), (0x20D0, 0x20FF),
                  (0xFE20, 0xFE2F))  # fmt: skip
_ASCII_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_MAX_MARKS_PER_LETTER = 8  # Tibetan stacks run to ~5; beyond 8 is never writing


def _is_mark(char: str) -> bool:
    return unicodedata.category(char) in ("Mn", "Mc", "Me")


def _is_generic_mark(char: str) -> bool:
    code = ord(char)
    return unicodedata.category(char) == "Me" or any(lo <= code <= hi for lo, hi in _GENERIC_MARKS)


def _clusters(text: str) -> list[str]:
    """`text` (NFD) as base characters, each with the combining marks that follow it."""
    clusters: list[str] = []
    for char in text:
        if clusters and _is_mark(char):
            clusters[-1] += char
        else:
            clusters.append(char)
    return clusters


def _is_zalgo(clusters: list[str]) -> bool:
    """A generic mark with no base, or one that does not compose into one letter with its
    base (é, ế, ᾄ do; zalgo's overlays and stacks do not)."""
    for cluster in clusters:
        if _is_generic_mark(cluster[0]):
            return True
        generic = any(_is_generic_mark(c) for c in cluster[1:])
        if generic and len(unicodedata.normalize("NFC", cluster)) != 1:
            return True
    return False


def _drop_stacked_marks(text: str) -> str:
    """Undo zalgo without harming real writing.

    Real accents compose into one precomposed letter (é, ñ, Vietnamese ế, polytonic ᾄ) and
    are kept. Once any generic mark fails to compose, the text is zalgo and every generic
    mark goes, so "H̸̡̪o̶w̷" reads "How" rather than "Hơw". Script-specific marks (Devanagari
    vowel signs, Thai tone marks) are always kept, up to a sane number per letter.
    """
    if text.isascii():  # no combining marks, nothing to undo: most questions, per character
        return text  # loops cost about 0.2 ms each
    clusters = _clusters(unicodedata.normalize("NFD", text))
    zalgo = _is_zalgo(clusters)
    out: list[str] = []
    for cluster in clusters:
        base, marks = cluster[0], cluster[1:]
        if zalgo:
            if _is_generic_mark(base):
                base = ""
            marks = "".join(c for c in marks if not _is_generic_mark(c))
        out.append(base + marks[:_MAX_MARKS_PER_LETTER])
    return unicodedata.normalize("NFC", "".join(out))


def clean_question(raw: str) -> str:
    """Readable plain text: NFKC, no control chars, no zalgo pile-ups, no markup or pings."""
    text = _drop_stacked_marks(unicodedata.normalize("NFKC", raw))
    # Control, format, unassigned and private-use characters become spaces (in ASCII, the
    # only such characters are the controls).
    if text.isascii():
        text = _ASCII_CONTROL.sub(" ", text)
    else:
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


def select_passage(text: str, limit: int, relevance: Callable[[str], float]) -> str:
    """The section within `limit`, keeping its most relevant sentences, in their order.

    When a whole section does not fit (two sections share one answer), the sentences that
    hold the question's words matter more than the ones that happen to come first. The
    first sentence gets a small bonus, since it usually states the section's point.
    """
    text = text.strip()
    if len(text) <= limit:
        return text
    units: list[tuple[int, bool, str]] = []  # (index, starts a line, sentence)
    for line in (raw.strip() for raw in text.splitlines()):
        if line:
            for position, sentence in enumerate(_SENTENCE_END.split(line)):
                if sentence:
                    units.append((len(units), position == 0, sentence))
    ranked = sorted(units, key=lambda u: (-(relevance(u[2]) + (0.5 if u[0] == 0 else 0.0)), u[0]))
    chosen: set[int] = set()
    used = 0
    for index, _, sentence in ranked:
        cost = len(sentence) + (1 if chosen else 0)
        if used + cost <= limit:
            chosen.add(index)
            used += cost
    if not chosen:
        return _cut_at_word(units[0][2], limit) if units else ""
    out = ""
    previous = -2
    for index, line_start, sentence in units:
        if index not in chosen:
            continue
        if out:
            out += "\n" if line_start or index != previous + 1 else " "
        out += sentence
        previous = index
    return out


def _cut_at_word(sentence: str, limit: int) -> str:
    cut = sentence[: max(limit - 1, 1)].rsplit(" ", 1)[0]
    return cut.rstrip(",;:") + "…"
