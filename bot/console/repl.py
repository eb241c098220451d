"""The offline console chat: the same services as the bot, on stdin/stdout.

Lines starting with `/` are commands; anything else is a question for the guide. The loop
takes `read`/`write` callables so tests drive it without a terminal. Progress commands and
the member's phase come in from outside (see `bot.console.session`), so this module knows
nothing about databases or event loops.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from bot.console.commands import explain_failure
from bot.services.mentor import Answer, AnswerKind, MentorService
from bot.services.parsing import replace_surrogates

Reader = Callable[[str], str]
Writer = Callable[[str], None]
Command = Callable[[str], str]
PROMPT = "you> "
BANNER = (
    "MLE Mentor, offline console. Ask a question about becoming an ML engineer, "
    "or type /help for commands and /quit to leave."
)


class Console:
    def __init__(
        self,
        mentor: MentorService,
        *,
        commands: Mapping[str, tuple[Command, str]] | None = None,
        phase_of: Callable[[], int | None] = lambda: None,
        on_unanswered: Callable[[Answer], None] = lambda _answer: None,
    ) -> None:
        self.mentor = mentor
        self._phase_of = phase_of
        self._on_unanswered = on_unanswered
        self.commands: dict[str, tuple[Command, str]] = {
            "/help": (self._help, "/help — list the commands"),
            "/quit": (self._quit, "/quit — leave the chat (also /exit or Ctrl-D)"),
            "/exit": (self._quit, ""),
            **(commands or {}),
        }
        self.running = True

    def _help(self, _args: str) -> str:
        lines = [text for _, text in self.commands.values() if text]
        lines.append("Anything else is a question for the guide.")
        return "\n".join(lines)

    def _quit(self, _args: str) -> str:
        self.running = False
        return "Bye, and keep studying!"

    def handle(self, line: str) -> str | None:
        """The reply to one input line (None for a blank line).

        Undecodable input bytes (surrogates) become U+FFFD first, so they can be stored.
        """
        line = replace_surrogates(line).strip()
        if not line:
            return None
        if line.startswith("/"):
            name, _, args = line.partition(" ")
            entry = self.commands.get(name.lower())
            if entry is None:
                return f"Unknown command {name!r}. Type /help for the list."
            return entry[0](args.strip())
        answer = self.mentor.ask(line, phase=self._phase_of())
        if answer.kind is AnswerKind.NOT_COVERED:
            self._on_unanswered(answer)
        return answer.text


def run_console(console: Console, *, read: Reader = input, write: Writer = print) -> int:
    """Read, answer, repeat until /quit or end of input; no line ends the loop."""
    write(BANNER)
    while console.running:
        try:
            line = read(PROMPT)
        except EOFError:
            write("")
            break
        except KeyboardInterrupt:
            write("\n(Ctrl-C) Type /quit to leave.")
            continue
        try:
            reply = console.handle(line)
        except KeyboardInterrupt:  # Ctrl-C during a command: its transaction rolled back
            reply = "(Ctrl-C) Stopped that one. Type /quit to leave."
        except Exception as exc:  # a REPL survives any line; the traceback goes to the log
            reply = explain_failure(exc, "console line")
        if reply:
            write(f"mentor> {reply}\n")
    return 0
