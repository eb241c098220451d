"""Query normalisation: the words learners type, rewritten into the words the guide uses.

Three rewrites, each measured on the fit part of `benchmarks/learner_questions.jsonl` (see
`benchmarks/quality.py` for what each one buys on the report part; the product leaves
ordinals off, see `knowledge.engine.build_expander`):

- **ordinals**: "the first phase", "3rd stage", "phase three", "the last phase" become
  "phase 1" / "phase 3"; MiniLM barely tells ordinals apart, and the phase-match feature
  needs the number;
- **glossary**: abbreviations and slang from `knowledge/glossary.yaml` ("mle", "k8s",
  "stats/prob", "ml ops") become the guide's terms, in place, also next to a slash;
- **typos**: a word that is neither in the guide's vocabulary nor an English word
  ("pyhton", "reccomender", "deploymnet") becomes the closest guide word within one edit
  (two for long words), by rapidfuzz's optimal-string-alignment distance. Real English
  words are never "corrected" towards the guide: that would make an off-topic question look
  covered. The English word list is the one symspellpy ships (82,765 words), read lazily.
  A word typed as one that the guide writes as two ("fastai" for fast.ai, "datascience",
  "scikitlearn") is split into them first: within one edit of a guide word it would
  otherwise be "corrected" into another name ("fastai" became "fastapi"). A clipped word
  that is not English ("libs", "algos", "hyperparams", "repo") becomes the commonest guide
  word it begins.
"""

from __future__ import annotations

import bisect
import importlib.util
import math
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache, lru_cache
from itertools import pairwise
from pathlib import Path

import numpy as np
import yaml
from rapidfuzz import process
from rapidfuzz.distance import OSA

from knowledge.content import YAML_LOADER

GLOSSARY_FILE = Path(__file__).resolve().parent / "glossary.yaml"
_ENGLISH_WORDS_FILE = "frequency_dictionary_en_82_765.txt"

_ORDINALS = {
    "zeroth": 0, "zero": 0, "0": 0,
    "first": 1, "1st": 1, "one": 1, "1": 1,
    "second": 2, "2nd": 2, "two": 2, "2": 2, "ii": 2,
    "third": 3, "3rd": 3, "three": 3, "3": 3, "iii": 3,
    "last": 3, "final": 3,
}  # fmt: skip
# "step" is left out on purpose: "what's the first step?" means "where do I start".
_STAGE = r"(?:phase|stage)s?"
_BEFORE = re.compile(
    rf"\b(zeroth|first|1st|second|2nd|third|3rd|last|final)\s+{_STAGE}\b", re.IGNORECASE
)
_AFTER = re.compile(rf"\b{_STAGE}\s*(zero|one|two|three|iii|ii|[0-3])\b(?!\.\d)", re.IGNORECASE)
_WORD = re.compile(r"[a-z]+")
MIN_TYPO_LENGTH = 5
# Clipped words ("lib", "algo", "repo") are unclipped from this length on.
MIN_CLIPPED_LENGTH = 3
LONG_WORD = 8


@dataclass(frozen=True)
class Glossary:
    abbreviations: dict[str, str] = field(default_factory=dict)
    filler: frozenset[str] = frozenset()

    @property
    def topicless_words(self) -> frozenset[str]:
        """Words that say nothing about whether the guide covers a question."""
        return self.filler | frozenset(self.abbreviations)


def load_glossary(path: Path | None = None) -> Glossary:
    text = Path(path or GLOSSARY_FILE).read_text(encoding="utf-8")
    data = yaml.load(text, Loader=YAML_LOADER) or {}
    abbreviations = {str(k).lower(): str(v) for k, v in (data.get("abbreviations") or {}).items()}
    filler = frozenset(str(w).lower() for w in data.get("filler") or ())
    return Glossary(abbreviations, filler)


def normalize_ordinals(text: str) -> str:
    """'the third stage' / 'phase three' / 'the last phase' → 'phase 3'."""
    text = _BEFORE.sub(lambda m: f"phase {_ORDINALS[m.group(1).lower()]}", text)
    return _AFTER.sub(lambda m: f"phase {_ORDINALS[m.group(1).lower()]}", text)


class EnglishWords:
    """The English word list as two numpy arrays: the words, sorted, as bytes, and their
    corpus counts. A lookup is a binary search.

    It used to be a dict of 82,765 words plus a frozenset of the same words: 13 MB of Python
    objects in every process that answers, against 3 MB here, and no change to any answer
    (the counts, and so `specificity`, are the same numbers).
    """

    def __init__(self, words: np.ndarray, counts: np.ndarray) -> None:
        """`words`: a fixed-width bytes array; `counts`: int64, one per word."""
        order = np.argsort(words)  # the words are unique: no tie to order
        self._words = words[order]
        self._counts = counts.astype(np.int64)[order]
        self.top = int(self._counts.max(initial=1))

    @classmethod
    def parse(cls, data: bytes) -> EnglishWords:
        """From "word count" lines; a missing or malformed count counts as 1."""
        columns = _word_count_columns(data)
        if columns is None:  # not one "word count" pair per line: line by line
            pairs = [line.partition(b" ") for line in data.splitlines()]
            words = np.array([word for word, _, _ in pairs], dtype=np.bytes_)
            counts = np.array([int(c) if c.isdigit() else 1 for _, _, c in pairs], np.int64)
            columns = words, counts
        return cls(*columns)

    def __len__(self) -> int:
        return len(self._words)

    def count(self, word: str) -> int | None:
        """The word's corpus count, or None when English does not know it."""
        try:
            key = word.encode()
        except UnicodeEncodeError:
            return None
        # numpy compares fixed-width bytes without trailing NULs and would cut a longer key
        # to the array's width: neither may make an unknown word match a known one.
        if not key or len(key) > self._words.itemsize or key.endswith(b"\0"):
            return None
        at = int(np.searchsorted(self._words, key))
        if at < len(self._words) and self._words[at] == key:
            return int(self._counts[at])
        return None

    def __contains__(self, word: object) -> bool:
        return isinstance(word, str) and self.count(word) is not None


@cache
def english_words() -> EnglishWords:
    """Lower-case English words and their corpus counts (symspellpy's frequency list, one
    "word count" per line), or none if it is missing."""
    spec = importlib.util.find_spec("symspellpy")
    if spec is None or not spec.submodule_search_locations:
        return EnglishWords.parse(b"")
    path = Path(next(iter(spec.submodule_search_locations))) / _ENGLISH_WORDS_FILE
    try:
        data = path.read_bytes()
    except OSError:
        return EnglishWords.parse(b"")
    return EnglishWords.parse(data)


def _word_count_columns(data: bytes) -> tuple[np.ndarray, np.ndarray] | None:
    """The words (fixed-width bytes) and counts of "word count\\n" lines, cut out of the
    raw bytes with numpy; None unless every line is exactly that, with a decimal count.

    `bytes.split()` made 165,000 small Python objects for the 1 MB list: a 9 MB heap
    spike at the first question, which set the process's peak RSS. Here the transient
    arrays are a few MB and freed at once.
    """
    buffer = np.frombuffer(data, dtype=np.uint8)
    if not len(buffer):
        return None
    ends = np.flatnonzero(buffer == ord("\n"))
    if not len(ends) or ends[-1] != len(buffer) - 1:
        ends = np.append(ends, len(buffer))
    starts = np.concatenate(([0], ends[:-1] + 1))
    spaces = np.flatnonzero(buffer == ord(" "))
    if len(spaces) != len(starts):
        return None
    word_lengths = spaces - starts
    count_lengths = ends - spaces - 1
    if (word_lengths < 1).any() or (count_lengths < 1).any() or (count_lengths > 18).any():
        return None  # also a space outside its line: lengths would go negative
    words = np.zeros((len(starts), int(word_lengths.max())), dtype=np.uint8)
    for column in range(words.shape[1]):
        rows = np.flatnonzero(word_lengths > column)
        words[rows, column] = buffer[starts[rows] + column]
    counts = np.zeros(len(starts), dtype=np.int64)
    for column in range(int(count_lengths.max())):
        rows = np.flatnonzero(count_lengths > column)
        digits = buffer[spaces[rows] + 1 + column].astype(np.int64) - ord("0")
        if (digits < 0).any() or (digits > 9).any():
            return None
        counts[rows] = counts[rows] * 10 + digits
    return words.view(f"S{words.shape[1]}").ravel(), counts


def specificity(word: str) -> float:
    """0 for the commonest English words, towards 1 for rare ones; 1 for words English does
    not know (names, jargon, typos). A question's rare words say what it is about."""
    english = english_words()
    count = english.count(word.lower())
    if count is None:
        return 1.0
    top = english.top
    return max(0.0, min(1.0, math.log(top / count) / math.log(top)))


class SpellingCorrector:
    """Maps misspelt words onto the guide's own vocabulary (see the module docstring)."""

    def __init__(
        self,
        vocabulary: Iterable[str],
        *,
        protected: Iterable[str] = (),
        split_joined: bool = True,
        unclip: bool = True,
    ) -> None:
        """`split_joined` / `unclip`: the run-together and clipped-word rewrites (see the
        module docstring; off only for `benchmarks/quality.py`'s ablations)."""
        words = list(vocabulary)
        counts = Counter(w for w in words if len(w) >= MIN_TYPO_LENGTH - 1)
        self._frequency = counts
        self._choices = sorted(counts)
        self._known = set(counts) | set(protected)
        # Adjacent guide words run together ("fast.ai" → "fastai"), unless that is a word.
        everything = set(words) | self._known
        self._joined = {
            first + second: f"{first} {second}"
            for first, second in pairwise(words)
            if split_joined
            and len(first + second) >= MIN_TYPO_LENGTH
            and first + second not in everything
        }
        self._unclip = unclip
        # Learners reuse their words: a word seen before skips the English-list lookup and
        # the fuzzy search (a pure function of the word, so the cache changes nothing).
        self._corrected = lru_cache(maxsize=8192)(self._correct_word)

    def correct_word(self, word: str) -> str:
        if len(word) < MIN_CLIPPED_LENGTH or word in self._known or not self._choices:
            return word
        return self._corrected(word)

    def _correct_word(self, word: str) -> str:
        if word in english_words():
            return word
        if word in self._joined:
            return self._joined[word]
        if len(word) >= MIN_TYPO_LENGTH:
            limit = 2 if len(word) >= LONG_WORD else 1
            found = process.extract(
                word, self._choices, scorer=OSA.distance, score_cutoff=limit, limit=8
            )
            if found:
                best, _, _ = min(found, key=lambda m: (m[1], -self._frequency[m[0]], m[0]))
                return best
        return self._unclipped(word) if self._unclip else word

    def _unclipped(self, word: str) -> str:
        """A clipped word ("libs", "algos", "hyperparams", "repo") as the commonest guide
        word it begins (at least three letters longer), or the word itself."""
        stem = word[:-1] if word.endswith("s") and len(word) > MIN_CLIPPED_LENGTH else word
        start = bisect.bisect_left(self._choices, stem)
        best = word
        for choice in self._choices[start:]:
            if not choice.startswith(stem):
                break
            if len(choice) >= len(stem) + 3 and (
                best == word or self._frequency[choice] > self._frequency[best]
            ):
                best = choice
        return best

    def correct(self, text: str) -> str:
        return _WORD.sub(lambda m: self.correct_word(m.group(0)), text)


class QueryExpander:
    """Ordinals, then glossary terms, then typos; every step is optional for ablations."""

    def __init__(
        self,
        glossary: Glossary | None = None,
        *,
        corrector: SpellingCorrector | None = None,
        ordinals: bool = True,
        abbreviations: bool = True,
    ) -> None:
        self.glossary = glossary or Glossary()
        self._corrector = corrector
        self._ordinals = ordinals
        terms = self.glossary.abbreviations
        self._pattern: re.Pattern[str] | None = None
        if terms and abbreviations:
            keys = sorted(terms, key=len, reverse=True)  # longest first: "ci/cd" before "ci"
            alternation = "|".join(re.escape(k).replace(r"\ ", r"\s+") for k in keys)
            # A slash separates words here ("stats/prob"), so it is a boundary like a space.
            # Not after a lone letter and a hyphen: "k-nn" is k-nearest neighbours, not
            # "k-neural network".
            self._pattern = re.compile(
                rf"(?<![\w&])(?<!\b[a-z]-)({alternation})(?![\w&])", re.IGNORECASE
            )

    def _term(self, match: re.Match[str]) -> str:
        key = re.sub(r"\s+", " ", match.group(1).lower())
        return self.glossary.abbreviations[key]

    def expand(self, text: str) -> str:
        """The query in the guide's words.

        Glossary terms replace the abbreviation in place rather than being appended: a
        trailing "(machine learning engineer)" pulls every question towards the section that
        defines the role.
        """
        text = text.lower()
        if self._corrector is not None:
            # Before the glossary, so "reccomender sys" is fixed; glossary keys are protected.
            text = self._corrector.correct(text)
        if self._ordinals:
            text = normalize_ordinals(text)
        if self._pattern is not None:
            text = self._pattern.sub(self._term, text)
        return text


def guide_vocabulary(texts: Iterable[str]) -> list[str]:
    """Every lower-case word of the guide's own text, with repeats (they weigh ties)."""
    return [w for text in texts for w in _WORD.findall(text.lower())]
