"""The `mentor` command line: ask, chat, index build, start.

Contract kept exactly for other tools: `mentor ask --jsonl` writes one JSON object per input
line on stdout, in order, flushed; everything else (logs, progress, library chatter) goes to
stderr.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import json
import logging
import os
import re
import signal
import sys
from collections.abc import Sequence
from typing import Any, TextIO

from pydantic import ValidationError

from bot.container import build_knowledge, build_mentor
from bot.services.mentor import Answer, MentorService
from bot.services.parsing import is_whole_number, replace_surrogates
from bot.settings import Settings
from knowledge.content import GuideError
from knowledge.embedder import EmbedderError
from knowledge.store import ProgressCallback
from storage.errors import StorageError

log = logging.getLogger("mentor")
FAILED_ANSWER = "Sorry, something went wrong while answering that one. It has been logged."


LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def _configure_logging(level: str) -> None:
    logging.basicConfig(
        level=getattr(logging, level.upper(), logging.INFO), stream=sys.stderr, format=LOG_FORMAT
    )
    noisy_loggers = ("sentence_transformers", "transformers", "httpx", "faiss", "alembic")
    for noisy in noisy_loggers:
        logging.getLogger(noisy).setLevel(logging.WARNING)


def _phase(value: str) -> int:
    if not is_whole_number(value, max_digits=3):  # int() would take '١' and ' 1 '
        raise argparse.ArgumentTypeError(f"phase must be 0, 1, 2 or 3, not {value!r}")
    phase = int(value)
    if phase not in (0, 1, 2, 3):
        raise argparse.ArgumentTypeError(f"phase must be 0, 1, 2 or 3, not {phase}")
    return phase


def progress_bar(desc: str) -> ProgressCallback:
    """A tqdm bar on stderr, created lazily: a cached index never shows one, nor imports
    tqdm (0.03 s of `mentor ask`)."""
    bar: Any = None

    def update(done: int, total: int) -> None:
        nonlocal bar
        if bar is None:
            from tqdm import tqdm

            bar = tqdm(total=total, desc=desc, unit="text", file=sys.stderr)
        bar.update(done - bar.n)
        if done >= total:
            bar.close()

    return update


def _load_mentor(settings: Settings) -> MentorService:
    # Library output during model load must never reach stdout (the JSONL channel).
    with contextlib.redirect_stdout(sys.stderr):
        return build_mentor(build_knowledge(settings, progress=progress_bar("embedding guide")))


def render(answer: Answer) -> str:
    return answer.text


# Every character `str.splitlines` breaks on that `json.dumps(ensure_ascii=False)` leaves raw
# (it already escapes the C0 controls \n \r \x0b \x0c \x1c-\x1e).
# tests/unit/test_input_fuzz.py checks this list against all of Unicode.
_LINE_BREAKS = {"\x85": "\\u0085", "\u2028": "\\u2028", "\u2029": "\\u2029"}
_LINE_BREAK = re.compile("[\x85\u2028\u2029]")


def json_line(payload: dict[str, Any]) -> str:
    """`payload` as one physical line for any line-based reader, newline included.

    Raw U+2028, U+2029 or U+0085 inside a string are valid JSON, but Python's
    `str.splitlines` and many JSONL tools split on them, cutting one object in two.
    """
    text = replace_surrogates(json.dumps(payload, ensure_ascii=False))  # stdout is strict UTF-8
    return _LINE_BREAK.sub(lambda match: _LINE_BREAKS[match.group()], text) + "\n"


def ask_jsonl(mentor: MentorService, stdin: TextIO, stdout: TextIO, phase: int | None) -> int:
    """One JSON line out per line in, whatever the line holds."""
    count = 0
    for line in stdin:
        question = line.rstrip("\r\n")
        try:
            payload = mentor.ask(question, phase=phase).to_json()
        except Exception:
            log.exception("failed to answer line %d", count + 1)
            payload = {
                "question": question,
                "answer": FAILED_ANSWER,
                "confident": False,
                "sources": [],
            }
        stdout.write(json_line(payload))
        stdout.flush()
        count += 1
    return count


def cmd_ask(settings: Settings, args: argparse.Namespace) -> int:
    if not args.jsonl and not args.question:
        print(
            "mentor ask: give a QUESTION, or --jsonl to read questions from stdin", file=sys.stderr
        )
        return 2
    mentor = _load_mentor(settings)
    if args.jsonl:
        # Undecodable bytes become U+FFFD instead of killing the stream mid-batch.
        sys.stdin.reconfigure(encoding="utf-8", errors="replace")  # type: ignore[union-attr]
        sys.stdout.reconfigure(encoding="utf-8")  # type: ignore[union-attr]
        ask_jsonl(mentor, sys.stdin, sys.stdout, args.phase)
        return 0
    print(render(mentor.ask(" ".join(args.question), phase=args.phase)))
    return 0


def log_console_to_file(settings: Settings) -> logging.Handler | None:
    """Send the console's own log records (tracebacks included) to a file, not the screen.

    In the chat, stderr is the person's terminal: a failed command shows one line there and
    its traceback goes to `console.log` in the data directory. If that file cannot be
    opened, records stay on stderr (better on screen than lost). Returns the handler.
    """
    path = settings.mentor_data_dir / "console.log"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handler = logging.FileHandler(path, encoding="utf-8")
    except OSError as exc:
        log.warning("console log stays on stderr: cannot open %s (%s)", path, exc)
        return None
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    console_log = logging.getLogger("bot.console")
    console_log.addHandler(handler)
    console_log.propagate = False
    return handler


def cmd_chat(settings: Settings, args: argparse.Namespace) -> int:
    from bot.console.session import run_session

    if "log_level" not in settings.model_fields_set:
        # A person is typing here: only problems belong between their prompts.
        logging.getLogger().setLevel(logging.WARNING)
    print("Loading the guide and the embedding model…", file=sys.stderr)
    mentor = _load_mentor(settings)
    if isinstance(sys.stdin, io.TextIOWrapper):
        # Bytes that are not UTF-8 become U+FFFD, never surrogates a database cannot store.
        sys.stdin.reconfigure(encoding="utf-8", errors="replace")
    log_console_to_file(settings)
    return run_session(settings, mentor)


def cmd_db_upgrade(settings: Settings, args: argparse.Namespace) -> int:
    from bot.database import migrate_database

    revision = asyncio.run(migrate_database(settings))
    print(f"Database is at revision {revision}.")
    return 0


def cmd_index_build(settings: Settings, args: argparse.Namespace) -> int:
    """Rebuild the index; export the ONNX model first if it is missing, stale or `--export`
    asks for it (that part needs torch: the `build` extra)."""
    with contextlib.redirect_stdout(sys.stderr):
        knowledge = build_knowledge(
            settings, rebuild=True, export=args.export, progress=progress_bar("embedding guide")
        )
    manifest = knowledge.manifest
    print(
        f"Index built in {manifest.build_seconds:.2f}s: {manifest.chunk_count} chunks, "
        f"{manifest.row_count} vectors of {manifest.dimension} dims ({manifest.model_id}) "
        f"in {settings.index_dir}"
    )
    if manifest.model_hash:
        print(
            f"ONNX model {manifest.model_hash[:12]} ({manifest.exporter}), "
            f"run with {manifest.runtime}"
        )
    return 0


NO_TOKEN_NO_TERMINAL = (
    "mentor start: DISCORD_TOKEN is not set and there is no terminal to chat in. Set "
    "DISCORD_TOKEN (environment or .env) to run the bot, or use `mentor chat` to feed the "
    "console questions on stdin."
)


def cmd_start(settings: Settings, args: argparse.Namespace) -> int:
    """The bot with a token; without one the console chat, but only for a person at a
    terminal: in a container or a service, reading end of input and exiting 0 would look
    like success, so that is exit 1 with a message saying what is missing."""
    if settings.token:
        return cmd_run(settings, args)
    if not sys.stdin.isatty():
        print(NO_TOKEN_NO_TERMINAL, file=sys.stderr)
        return 1
    print("DISCORD_TOKEN is not set: starting the offline console chat.", file=sys.stderr)
    return cmd_chat(settings, args)


def cmd_health(settings: Settings, args: argparse.Namespace) -> int:
    from bot.health import run_health

    return run_health(
        settings.mentor_data_dir,
        settings.effective_database_url,
        settings.index_dir,
        settings.mentor_model,
    )


def cmd_run(settings: Settings, args: argparse.Namespace) -> int:
    if not settings.token:
        print("mentor run: DISCORD_TOKEN is not set (environment or .env).", file=sys.stderr)
        return 2
    from bot.discord.runner import BotStartupError, run_bot
    from knowledge.engine import check_embedder

    # The engine loads in the background once connected; a missing model stops us here.
    check_embedder(settings.index_dir, settings.mentor_model)
    try:
        asyncio.run(run_bot(settings))
    except BotStartupError as exc:
        log.error("%s", exc)
        return 1
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mentor", description="MLE Mentor: study companion.")
    sub = parser.add_subparsers(dest="command", required=True)

    ask = sub.add_parser("ask", help="answer a question from the guide")
    ask.add_argument("question", nargs="*", help="the question (omit with --jsonl)")
    ask.add_argument("--jsonl", action="store_true", help="read questions from stdin, JSON out")
    ask.add_argument("--phase", type=_phase, help="the asker's roadmap phase (0-3)")
    ask.set_defaults(handler=cmd_ask)

    sub.add_parser("chat", help="offline console chat").set_defaults(handler=cmd_chat)

    db = sub.add_parser("db", help="manage the database")
    db_sub = db.add_subparsers(dest="db_command", required=True)
    db_sub.add_parser("upgrade", help="run migrations to the latest revision").set_defaults(
        handler=cmd_db_upgrade
    )

    index = sub.add_parser("index", help="manage the retrieval index")
    index_sub = index.add_subparsers(dest="index_command", required=True)
    build = index_sub.add_parser("build", help="rebuild the index now")
    build.add_argument(
        "--export",
        action="store_true",
        help="export the embedding model to ONNX again even if the current export is valid",
    )
    build.set_defaults(handler=cmd_index_build)

    sub.add_parser("start", help="the bot with DISCORD_TOKEN, else the console").set_defaults(
        handler=cmd_start
    )
    sub.add_parser("run", help="run the Discord bot").set_defaults(handler=cmd_run)
    sub.add_parser(
        "health", help="is the bot connected, the database answering, the index loaded?"
    ).set_defaults(handler=cmd_health, reads_only=True)
    return parser


def _stop_on_sigterm_as_pid_1() -> None:
    """As a container's PID 1 the kernel ignores SIGTERM unless a handler is installed, so
    `docker stop` would wait 10 s and kill. Until the bot installs its own graceful handler
    (bot.discord.lifecycle), a SIGTERM ends any command at once, as a requested stop."""
    if os.getpid() != 1:
        return

    def stop(signum: int, frame: object) -> None:
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)


def main(argv: Sequence[str] | None = None) -> int:
    _stop_on_sigterm_as_pid_1()
    args = build_parser().parse_args(argv)
    try:
        settings = Settings()
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in error['loc']).upper()}: {error['msg']}"
            for error in exc.errors()
        )
        print(f"mentor: invalid setting (environment or .env): {problems}", file=sys.stderr)
        return 2
    _configure_logging(settings.log_level)
    if not getattr(args, "reads_only", False):
        from bot.datadir import data_dir_problem

        problem = data_dir_problem(settings.mentor_data_dir)
        if problem is not None:
            print(f"mentor: {problem}", file=sys.stderr)
            return 1
    try:
        return int(args.handler(settings, args) or 0)
    except (EmbedderError, GuideError, StorageError) as exc:
        log.error("%s", exc)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
