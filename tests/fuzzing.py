"""Property-based testing settings shared by every fuzz test, and a count of its inputs.

`fuzz(...)` is hypothesis' `@given` with the project's settings (200 examples, no deadline:
a real SQLite commit can take longer than hypothesis' default 200 ms on a busy machine)
plus a counter, so each run reports how many generated inputs it pushed through the code
(see `pytest_terminal_summary` in tests/conftest.py and the README's Reliability section).
"""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Callable
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

MAX_EXAMPLES = 200
FUZZ_INPUTS: Counter[str] = Counter()


def fuzz(
    *strategies: st.SearchStrategy[Any],
    max_examples: int = MAX_EXAMPLES,
    **named: st.SearchStrategy[Any],
) -> Callable[[Callable[..., None]], Callable[..., None]]:
    def decorate(test: Callable[..., None]) -> Callable[..., None]:
        @functools.wraps(test)
        def counted(*args: Any, **kwargs: Any) -> None:
            FUZZ_INPUTS[test.__qualname__] += 1
            test(*args, **kwargs)

        return settings(
            max_examples=max_examples,
            deadline=None,
            suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
        )(given(*strategies, **named)(counted))

    return decorate


# Text as members really send it, and worse: every code point class, including lone
# surrogates, NUL, line and paragraph separators, superscript and non-ASCII digits,
# combining marks, and the ASCII that parsers care about.
TRICKY_CHARS = st.sampled_from(
    [
        *"0123456789+-_ /\"'=#:.,mh",
        *["²", "³", "¹", "①", "٣", "７", "\u0663", "\x00", "\x85", "\u2028", "\u2029", "\ufeff"],
        *["\udce9", "\ud800", "\u0336", "\u0301", "\u200b", "\t", "\r", "\x1b", "é", "ß", "🚀"],
    ]
)
MEMBER_TEXT = st.one_of(
    st.text(max_size=40),
    st.text(TRICKY_CHARS, max_size=25),
    st.text(st.characters(codec="utf-8"), max_size=30),
    st.from_regex(r"[+-]?[0-9]{1,25}", fullmatch=True),
)
