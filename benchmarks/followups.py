"""Follow-ups through the answer service: are they answered in the context of the thread?

    .venv/bin/python benchmarks/followups.py [--set benchmarks/followups.jsonl] [--show]

Each pair is `{"id", "earlier", "followup", "kind": "continue"|"switch", "expect": [regex]}`:
a member asked `earlier`, got an answer, then sent `followup` as a reply. The follow-up
passes when `MentorService.ask(followup, previous=earlier)` answers confidently and matches
every regex (the report part is printed apart).
"continue" pairs only make sense with the earlier question; "switch" pairs
change the topic and must be answered on their own. For comparison the script also prints
the follow-up asked alone (no context) and with the earlier question always prepended.
Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

from evalkit import ROOT, matches_text

from bot.container import build_knowledge, build_mentor
from bot.settings import Settings

FOLLOWUPS = ROOT / "benchmarks" / "followups.jsonl"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--set", type=Path, default=FOLLOWUPS)
    parser.add_argument("--show", action="store_true", help="print every failure")
    args = parser.parse_args()
    pairs = [json.loads(line) for line in args.set.read_text().splitlines() if line.strip()]
    mentor = build_mentor(build_knowledge(Settings()))
    modes = {
        "product (previous=earlier)": lambda p: mentor.ask(p["followup"], previous=p["earlier"]),
        "alone (no context)": lambda p: mentor.ask(p["followup"]),
        "always prepended": lambda p: mentor.ask(f"{p['earlier']} {p['followup']}"),
    }
    for name, ask in modes.items():
        passed: Counter[str] = Counter()
        total: Counter[str] = Counter()
        for pair in pairs:
            answer = ask(pair)
            ok = answer.confident and matches_text(pair["expect"], answer.text)
            for key in (pair["kind"], "all", f"{pair.get('split', 'fit')} part"):
                total[key] += 1
                passed[key] += ok
            if not ok and args.show and name.startswith("product"):
                print(f"FAIL {pair['id']} [{pair['kind']}] {pair['followup']!r}")
        rates = ", ".join(
            f"{k} {passed[k]}/{total[k]} = {passed[k] / total[k]:.2f}"
            for k in ("continue", "switch", "all", "report part")
            if total[k]
        )
        print(f"{name:>28}: {rates}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
