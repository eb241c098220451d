"""Query expansion from a small glossary of the abbreviations learners actually type.

"mle salary?" means nothing to MiniLM or to BM25 over a guide that spells the role out, so
abbreviations are replaced by their full terms before retrieval. The glossary is data
(`knowledge/glossary.yaml`), not code, so adding a term needs no code change.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

GLOSSARY_FILE = Path(__file__).resolve().parent / "glossary.yaml"


@dataclass(frozen=True)
class Glossary:
    abbreviations: dict[str, str] = field(default_factory=dict)
    filler: frozenset[str] = frozenset()

    @property
    def topicless_words(self) -> frozenset[str]:
        """Words that say nothing about whether the guide covers a question."""
        return self.filler | frozenset(self.abbreviations)


def load_glossary(path: Path | None = None) -> Glossary:
    data = yaml.safe_load(Path(path or GLOSSARY_FILE).read_text(encoding="utf-8")) or {}
    abbreviations = {str(k).lower(): str(v) for k, v in (data.get("abbreviations") or {}).items()}
    filler = frozenset(str(w).lower() for w in data.get("filler") or ())
    return Glossary(abbreviations, filler)


class QueryExpander:
    def __init__(self, glossary: Glossary | None = None) -> None:
        self.glossary = glossary or Glossary()
        terms = self.glossary.abbreviations
        self._pattern: re.Pattern[str] | None = None
        if terms:
            keys = sorted(terms, key=len, reverse=True)  # longest first: "ab test" before "ab"
            alternation = "|".join(re.escape(k) for k in keys)
            self._pattern = re.compile(rf"(?<![\w/&])({alternation})(?![\w/&])", re.IGNORECASE)

    def expand(self, text: str) -> str:
        """Replace each known abbreviation by its full term, in place.

        In place rather than appended: a trailing "(machine learning engineer)" pulls every
        question towards the section that defines the role.
        """
        if self._pattern is None:
            return text
        return self._pattern.sub(lambda m: self.glossary.abbreviations[m.group(1).lower()], text)
