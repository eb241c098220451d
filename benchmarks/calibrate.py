"""Fit the fusion weights and the confidence thresholds on a labelled question set.

    .venv/bin/python benchmarks/calibrate.py [--set benchmarks/questions.jsonl] [--holdout FILE]

The set is JSON lines `{"id", "kind": "in"|"off", "q", "expect": [regex, ...]}`: an in-scope
question passes when the answer is confident and matches every regex; an off-topic one passes
when it is declined. The script sweeps fusion settings and thresholds on `--set`, prints the
best few, and scores the chosen setting on `--holdout` (never fitted on). Put the chosen values
into `knowledge/confidence.py` / `knowledge/retriever.py` defaults by hand.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import re
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from bot.services.mentor import MentorService  # noqa: E402
from knowledge.confidence import ConfidencePolicy  # noqa: E402
from knowledge.engine import load_knowledge  # noqa: E402
from knowledge.query import QueryExpander, load_glossary  # noqa: E402
from knowledge.retriever import HybridRetriever  # noqa: E402

ALWAYS = ConfidencePolicy(strong_dense=-1.0, min_dense=-1.0, min_coverage=0.0)


@dataclass(frozen=True)
class Case:
    id: str
    kind: str
    q: str
    expect: tuple[str, ...]


@dataclass(frozen=True)
class Outcome:
    case: Case
    correct: bool  # the composed answer matches (in) — meaningless for off
    top_dense: float
    coverage: float


@dataclass(frozen=True)
class Row:
    lexical_weight: float
    policy: ConfidencePolicy
    correct: int
    rate_in: float
    rate_off: float


def load_cases(path: str) -> list[Case]:
    lines = Path(path).read_text(encoding="utf-8").splitlines()
    rows = [json.loads(line) for line in lines if line.strip()]
    return [Case(r["id"], r["kind"], r["q"], tuple(r.get("expect", ()))) for r in rows]


def outcomes(retriever: HybridRetriever, guide, cases: list[Case]) -> list[Outcome]:
    mentor = MentorService(retriever, guide, policy=ALWAYS)
    out = []
    for case in cases:
        answer = mentor.ask(case.q)
        retrieval = retriever.search(case.q)
        correct = all(re.search(p, answer.text, re.I) for p in case.expect)
        out.append(Outcome(case, correct, retrieval.top_dense, retrieval.term_coverage))
    return out


def rates(results: list[Outcome], policy: ConfidencePolicy) -> tuple[float, float]:
    def confident(o: Outcome) -> bool:
        if o.top_dense >= policy.strong_dense:
            return True
        return o.top_dense >= policy.min_dense and o.coverage >= policy.min_coverage

    ins = [o for o in results if o.case.kind == "in"]
    offs = [o for o in results if o.case.kind == "off"]
    rate_in = sum(o.correct and confident(o) for o in ins) / max(len(ins), 1)
    rate_off = sum(not confident(o) for o in offs) / max(len(offs), 1)
    return rate_in, rate_off


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--set", default=str(ROOT / "benchmarks" / "questions.jsonl"))
    parser.add_argument("--holdout")
    parser.add_argument("--show-misses", action="store_true")
    args = parser.parse_args()
    cases = load_cases(args.set)
    holdout = load_cases(args.holdout) if args.holdout else []

    with tempfile.TemporaryDirectory() as tmp:
        kb = load_knowledge(Path(tmp))
    embedder, vectors = kb.embedder, kb.vectors  # one model load; its query cache is reused

    policies = [
        ConfidencePolicy(strong, low, cov)
        for strong, low, cov in itertools.product(
            [0.50, 0.55, 0.60, 0.65, 0.70, 1.01],
            [0.25, 0.30, 0.35, 0.40, 0.45],
            [0.5, 0.6, 0.75, 0.9],
        )
        if low <= strong
    ]
    expander = QueryExpander(load_glossary())
    rows: list[Row] = []
    for lexical_weight in (0.0, 0.05, 0.1, 0.15, 0.2, 0.3):
        retriever = HybridRetriever(
            kb.chunks, vectors, embedder, expander=expander, lexical_weight=lexical_weight
        )
        results = outcomes(retriever, kb.guide, cases)
        correct = sum(o.correct for o in results if o.case.kind == "in")
        for policy in policies:
            rate_in, rate_off = rates(results, policy)
            rows.append(Row(lexical_weight, policy, correct, rate_in, rate_off))

    # Best worst-case rate first; then the higher off-topic rate (declining beats guessing).
    rows.sort(key=lambda r: (min(r.rate_in, r.rate_off), r.rate_off, r.rate_in), reverse=True)
    n_in = sum(c.kind == "in" for c in cases)
    print(f"calibration set: {len(cases)} questions ({n_in} in-scope)")
    for row in rows[:10]:
        print(
            f"in {row.rate_in:.3f} off {row.rate_off:.3f}  lexical_weight={row.lexical_weight:<4} "
            f"right top answer {row.correct}/{n_in}  {row.policy}"
        )
    best = rows[0]
    retriever = HybridRetriever(
        kb.chunks, vectors, embedder, expander=expander, lexical_weight=best.lexical_weight
    )
    if args.show_misses:
        for o in outcomes(retriever, kb.guide, cases):
            if o.case.kind == "in" and not o.correct:
                top = retriever.search(o.case.q).best
                where = top.chunk.section if top else "-"
                print(f"  wrong: {o.case.id} {o.case.q!r} dense={o.top_dense:.2f} got {where!r}")
    if holdout:
        rate_in, rate_off = rates(outcomes(retriever, kb.guide, holdout), best.policy)
        print(f"holdout {args.holdout}: in-scope {rate_in:.2f}, off-topic {rate_off:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
