"""How a question relates to the conversation: two-part questions and follow-ups.

Pure text rules, no model: they decide *which* retrievals the answer engine runs, and the
fitted models judge the results. Measured with `benchmarks/followups.py` (follow-up pairs)
and `benchmarks/quality.py` (two-part questions).
"""

from __future__ import annotations

import re

# A second question inside one message: "how long is phase 1 and which tools does it use?"
_QUESTION_WORD = (
    r"(?:how|what|whats|what's|which|where|when|why|who|is|are|do|does|should|can|could|"
    r"would|will|any|anything|tell)"
)
_PART_BREAK = re.compile(
    rf"(?:\?\s+|[,;]\s*(?:and\s+|also\s+|plus\s+)?|\s+(?:and|also|plus)\s+(?:also\s+)?)"
    rf"(?={_QUESTION_WORD}\b)",
    re.IGNORECASE,
)
_WORDS = re.compile(r"[a-z0-9']+", re.IGNORECASE)
MIN_PART_WORDS = 3

# Words that point back at the previous answer.
_REFERENCE = re.compile(
    r"\b(it|its|it's|that|this|these|those|there|they|them|their|then|same|one|ones|"
    r"above|former|latter)\b",
    re.IGNORECASE,
)
_CONTINUATION = re.compile(
    r"^\s*(?:and|but|so|also|plus|ok(?:ay)?\s+(?:and|but|so)|what about|how about|"
    r"what else|anything else|any other|and then|after that|then)\b",
    re.IGNORECASE,
)
_PHASE_REFERENCE = re.compile(
    r"\b(?:that|this|the same|the|said)\s+(?:phase|stage)\b(?!\s*[0-9])", re.IGNORECASE
)
_TOPIC_CHANGE = re.compile(
    r"\b(?:different|another|other|unrelated|separate|new)\s+(?:questions?|topics?|things?)\b|"
    r"\b(?:chang|switch)(?:e|es|ed|ing)?\s+(?:the\s+)?(?:topics?|subjects?)\b|"
    r"\bon another note\b|\bunrelated\s*[:,;.-]|\b(?:also|btw|by the way)[,:]?\s+unrelated\b",
    re.IGNORECASE,
)


def question_parts(question: str) -> tuple[str, str] | None:
    """The two questions of a two-part message, or None when it asks one thing.

    Splits at the first break ("?", ",", "and", "also") that is followed by a question
    word, when both sides have at least three words: "how long is phase 1 and which tools
    does it use?" → ("how long is phase 1", "which tools does it use?").
    """
    for match in _PART_BREAK.finditer(question):
        first = question[: match.start()].strip(" ,;")
        second = question[match.end() :].strip()
        if len(_WORDS.findall(first)) >= MIN_PART_WORDS and len(_WORDS.findall(second)) >= (
            MIN_PART_WORDS
        ):
            return first, second
    return None


def refers_back(question: str) -> bool:
    """Does the message lean on what came before ("and how long does that take?")?"""
    if _TOPIC_CHANGE.search(question):
        return False
    return bool(_CONTINUATION.search(question) or _REFERENCE.search(question))


def changes_topic(question: str) -> bool:
    """Does the member say outright that this is a new question?"""
    return bool(_TOPIC_CHANGE.search(question))


def resolve_phase(question: str, phase: int | None) -> str:
    """'that phase' / 'this stage' → 'phase N' of the previous answer, when it had one."""
    if phase is None:
        return question
    return _PHASE_REFERENCE.sub(f"phase {phase}", question)
