"""Runs `mentor ARGS...` in a process where torch, transformers and sentence-transformers
cannot be imported, as on a torch-free install. Every attempt to import one is also
reported on stderr as "BLOCKED IMPORT name", so a test can tell "never tried" from "tried,
failed and carried on".

    python tests/integration/no_torch.py ask "question"
    python tests/integration/no_torch.py --bot-process   # what `mentor run` loads, no gateway
"""

from __future__ import annotations

import importlib.abc
import sys
from collections.abc import Sequence
from types import ModuleType

BLOCKED = {"torch", "transformers", "sentence_transformers"}


class BlockBuildTools(importlib.abc.MetaPathFinder):
    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> None:
        if fullname.split(".")[0] in BLOCKED:
            print(f"BLOCKED IMPORT {fullname}", file=sys.stderr, flush=True)
            raise ModuleNotFoundError(f"No module named {fullname!r}", name=fullname)
        return None


def bot_process() -> int:
    """Import what `mentor run` imports (discord.py, the bot, the database stack) and load
    the engine through the same loader the bot uses, then answer one question."""
    import bot.database
    import bot.discord.runner  # noqa: F401
    import storage.engine  # noqa: F401
    from bot.container import engine_loader
    from bot.settings import Settings

    mentor = engine_loader(Settings())()
    print(mentor.ask("How long does Phase 1 take?").text)
    return 0


if __name__ == "__main__":
    sys.meta_path.insert(0, BlockBuildTools())
    if sys.argv[1:] == ["--bot-process"]:
        sys.exit(bot_process())
    from bot.cli import main

    sys.exit(main(sys.argv[1:]))
