"""British spellings to American ones, so that the lexical views match either.

The guide is written in British English ("containerise", "specialisation", "behaviour");
many members type American English ("containerize", "specialization", "behavior"). The
Snowball stemmer does not join the two: it stems "specialization" to "special" and
"specialisation" to "specialis", so BM25, the title and text overlaps and the missing-word
evidence treated a member's "containerize" as a word the guide never uses. Mapping every
word to its American spelling before stemming, on both sides (the guide, its anticipated
questions and the question), joins them. Dense embeddings are not touched: MiniLM already
places the two spellings together.

The table is breame's (about 1,700 British words with their American spelling). Jargon
it does not list ("tokenise", "vectorise", "containerise") follows the -ise → -ize rule,
but only for words English does not know as they are: "precise", "advise", "exercise" and
"expertise" are common words, keep their -ise and are left alone.
"""

from __future__ import annotations

import re
from functools import lru_cache

from breame.data.spelling_constants import BRITISH_ENGLISH_SPELLINGS

from knowledge.query import english_words

# -ise verbs and their forms: tokenise, tokenised, tokenising, tokenisation(s), tokeniser(s).
_ISE = re.compile(r"^([a-z]{4,})is(e|es|ed|ing|ation|ations|er|ers)$")


@lru_cache(maxsize=65_536)
def american_spelling(word: str) -> str:
    """`word` (lower case) in its American spelling; unchanged when it has no other."""
    mapped = BRITISH_ENGLISH_SPELLINGS.get(word)
    if mapped is not None:
        return mapped
    match = _ISE.match(word)
    if match is not None and word not in english_words():
        return f"{match.group(1)}iz{match.group(2)}"
    return word
