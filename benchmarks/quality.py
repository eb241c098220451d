"""What each part of the answer engine buys: rates on the report part, the unseen set and dev.

    .venv/bin/python benchmarks/quality.py [--skip-product]

Every ranking variant is refitted on the fit part only and scored on the report part of
`benchmarks/learner_questions.jsonl`, on the unseen check set (`benchmarks/unseen_questions.jsonl`,
written after the models were fitted) and on the shared dev set (none is ever fitted on):
- **product**: everything on, with the shipped weights (`knowledge/ranking.json`) and
  refitted from scratch, the base every ablation is compared with;
- **BM25 only** / **dense only**: the guide's section rows alone (no anticipated questions,
  no query normalisation), one score, one threshold fitted on the fit part;
- **product without X**: one technique turned off, the rest refitted (a variant without some
  index rows refits the query adapter on the rows it keeps).
Then the product itself through `MentorService` (real composed answers, as `score.py`
judges them), with and without quoting a close runner-up and answering two-part questions
in two sections. Finally the cost of each stage per question. Prints figures; asserts
nothing.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from evalkit import HELD_OUT_SPLITS, FeatureSet, all_cases, evaluate, matches
from fit_ranking import features_for, fit, prepare, query_adapter

from bot.services.mentor import MentorService
from bot.services.mentor_text import clean_question
from knowledge.engine import build_expander, load_knowledge
from knowledge.features import QUESTION_FEATURES, SECTION_FEATURES, FeatureBuilder
from knowledge.query import QueryExpander, load_glossary
from knowledge.ranking import load_ranking_model
from knowledge.retriever import HybridRetriever
from knowledge.store import ROW_OUT_OF_SCOPE, ROW_QUESTION, IndexRows

SPLITS = HELD_OUT_SPLITS


def _without_rows(rows: IndexRows, kinds: set[str]) -> tuple[IndexRows, np.ndarray]:
    """The row table without rows of `kinds`, and the positions of the rows kept."""
    keep = np.array([k not in kinds for k in rows.kinds])
    kept = IndexRows(
        rows.chunk_ids[keep],
        tuple(k for k, m in zip(rows.kinds, keep, strict=True) if m),
        tuple(t for t, m in zip(rows.texts, keep, strict=True) if m),
    )
    return kept, np.flatnonzero(keep)


class _SubsetIndex:
    """The dense index seen through a subset of its rows (for variants without some)."""

    def __init__(self, inner, rows: np.ndarray) -> None:
        self._inner = inner
        self._rows = rows

    def row_scores(self, query: np.ndarray) -> np.ndarray:
        return self._inner.row_scores(query)[self._rows]


def single_score_rates(data: FeatureSet, column: str) -> dict[str, dict[str, float]]:
    """Rank by one feature; answer when the top value reaches one threshold fitted on fit."""
    index = SECTION_FEATURES.index(column)
    raw = "bm25_raw_max" if column == "bm25_text" else None
    tops, rights = [], []
    for i, f in enumerate(data.features):
        values = data.matrices[i][:, index]
        best = int(np.argmax(values))
        tops.append(f.bm25_raw_max if raw else float(values[best]))  # type: ignore[attr-defined]
        rights.append(bool(data.labels[i, best]))
    tops_a, rights_a = np.array(tops), np.array(rights)
    kinds = np.array([c.kind for c in data.cases])
    splits = np.array([c.split for c in data.cases])

    def rates(mask: np.ndarray, t: float) -> tuple[float, float]:
        inside, off = mask & (kinds == "in"), mask & (kinds == "off")
        return (
            float(((tops_a >= t) & rights_a)[inside].mean()),
            float((tops_a < t)[off].mean()),
        )

    fit_mask = splits == "fit"
    best_t = max(np.unique(tops_a[fit_mask]), key=lambda t: sum(rates(fit_mask, t)))
    return {s: dict(zip(("in", "off"), rates(splits == s, best_t), strict=True)) for s in SPLITS}


def ranking_table(setup, cases) -> list[tuple[str, dict[str, dict[str, float]]]]:
    chunks, rows, embedder, vectors, expander, _ = setup
    glossary = load_glossary()
    nothing = QueryExpander(glossary, ordinals=False, abbreviations=False)
    shipped = load_ranking_model()
    adapters: dict[frozenset[str], np.ndarray] = {}

    def adapter_without(drop_rows: set[str]) -> np.ndarray:
        """The shipped adapter, or one refitted on the rows a variant keeps (an adapter
        fitted on the anticipated questions would smuggle them into "without" them)."""
        key = frozenset(drop_rows)
        if key not in adapters:
            if drop_rows:
                kept, kept_index = _without_rows(rows, drop_rows)
                adapters[key] = query_adapter(kept, vectors.vectors()[kept_index])
            else:
                adapters[key] = shipped.adapter
        return adapters[key]

    def variant(
        expand: QueryExpander,
        drop_rows: set[str],
        active: tuple[str, ...] = SECTION_FEATURES,
        *,
        american: bool = True,
    ) -> dict[str, dict[str, float]]:
        kept, kept_index = _without_rows(rows, drop_rows)
        b = FeatureBuilder(
            chunks, kept, topicless=sorted(glossary.topicless_words), american=american
        )
        adapter = adapter_without(drop_rows)
        data = features_for(cases, embedder, _SubsetIndex(vectors, kept_index), expand, b, adapter)
        model = fit(data, active=active)
        return {s: evaluate(data.subset(data.mask(split=s)), model) for s in SPLITS}

    baseline_rows = {ROW_QUESTION, ROW_OUT_OF_SCOPE}  # text (and heading) rows remain
    kept, kept_index = _without_rows(rows, baseline_rows)
    b = FeatureBuilder(chunks, kept, topicless=sorted(glossary.topicless_words))
    base = features_for(cases, embedder, _SubsetIndex(vectors, kept_index), nothing, b)
    corrector = expander._corrector
    product = features_for(cases, embedder, vectors, expander, setup[5], shipped.adapter)
    own_sets = product.mask() & np.array([c.ranking for c in product.cases])

    def refit(data: FeatureSet = product, **options: object) -> dict[str, dict[str, float]]:
        model = fit(data, **options)
        return {s: evaluate(product.subset(product.mask(split=s)), model) for s in SPLITS}

    return [
        (
            "product, shipped weights",
            {s: evaluate(product.subset(product.mask(split=s)), shipped) for s in SPLITS},
        ),
        ("product, refitted (the ablations' base)", refit()),
        ("BM25 only", single_score_rates(base, "bm25_text")),
        ("dense only", single_score_rates(base, "dense_text")),
        ("without anticipated questions", variant(expander, {ROW_QUESTION})),
        ("without out-of-scope bank", variant(expander, {ROW_OUT_OF_SCOPE})),
        ("without typo correction", variant(QueryExpander(glossary, ordinals=False), set())),
        (
            "without glossary expansion",
            variant(
                QueryExpander(glossary, corrector=corrector, ordinals=False, abbreviations=False),
                set(),
            ),
        ),
        (
            "without run-together, clipped words",
            variant(build_expander(chunks, split_joined=False, unclip=False), set()),
        ),
        ("without American spelling", variant(expander, set(), american=False)),
        ("with ordinals → phase N", variant(QueryExpander(glossary, corrector=corrector), set())),
        ("without any normalisation", variant(nothing, set(), american=False)),
        (
            "without the neighbour vote",
            refit(answer_active=[n for n in QUESTION_FEATURES if n != "out_of_scope_neighbours"]),
        ),
        (
            "without the section vote",
            refit(answer_active=[n for n in QUESTION_FEATURES if n != "section_neighbours"]),
        ),
        ("without quoting a close runner-up", refit(runner_up_gap=0.0)),
        ("without the answer-fit set", refit(product.subset(own_sets))),
        (
            "without the query adapter",
            refit(active=tuple(n for n in SECTION_FEATURES if not n.startswith("adapted_"))),
        ),
    ]


def product_rates(mentor: MentorService, cases) -> dict[str, dict[str, float]]:
    out: dict[str, dict[str, float]] = {}
    for split in SPLITS:
        part = [c for c in cases if c.split == split]
        ok_in = [
            (a := mentor.ask(c.q)).confident and len(a.text) <= 1500 and matches(c, a.text)
            for c in part
            if c.kind == "in"
        ]
        ok_off = [not mentor.ask(c.q).confident for c in part if c.kind == "off"]
        out[split] = {"in": float(np.mean(ok_in)), "off": float(np.mean(ok_off))}
    return out


def stage_costs(retriever: HybridRetriever, questions: list[str]) -> dict[str, float]:
    """Median milliseconds per question of each stage of one retrieval."""
    stages: dict[str, list[float]] = {k: [] for k in ("normalise", "embed", "features", "models")}
    embedder = retriever._embedder
    for q in questions:
        t0 = time.perf_counter()
        expanded = retriever.expander.expand(clean_question(q))
        t1 = time.perf_counter()
        vector = embedder.embed([expanded + " "])[0]  # a fresh string: no cache hit
        t2 = time.perf_counter()
        adapted = retriever.model.adapt(vector)
        f = retriever.features.build(
            expanded,
            retriever._vectors.row_scores(vector),
            set(),
            None if adapted is None else retriever._vectors.row_scores(adapted),
        )
        t3 = time.perf_counter()
        scores = retriever.model.section_scores(f.matrix)
        np.argsort(-scores)
        t4 = time.perf_counter()
        for key, dt in zip(stages, (t1 - t0, t2 - t1, t3 - t2, t4 - t3), strict=True):
            stages[key].append(dt * 1000)
    return {k: statistics.median(v) for k, v in stages.items()}


def _row(name: str, rates: dict[str, dict[str, float]]) -> str:
    cells = "  ".join(f"{rates[s]['in']:.3f} / {rates[s]['off']:.3f}" for s in SPLITS)
    return f"| {name:<32} | {cells.replace('  ', ' | ')} |"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--skip-product", action="store_true")
    args = parser.parse_args()
    cases = all_cases()
    setup = prepare()
    print("| variant (in-scope right / off-topic declined) | " + " | ".join(SPLITS) + " |")
    print("|---" * (len(SPLITS) + 1) + "|")
    for name, rates in ranking_table(setup, cases):
        print(_row(name, rates), flush=True)
    if args.skip_product:
        return 0
    knowledge = load_knowledge(Path(tempfile.mkdtemp(prefix="mentor-quality-")))
    variants = {
        "product, composed answers": {},
        "  without two-part answers": {"two_part": False},
        "  without quoting a close runner-up": {"runner_up": False},
    }
    for name, options in variants.items():
        mentor = MentorService(knowledge.retriever, knowledge.guide, **options)
        print(_row(name, product_rates(mentor, cases)), flush=True)
    questions = [c.q for c in cases if c.split == "report"]
    costs = stage_costs(knowledge.retriever, questions)
    print("\nmedian ms per question: " + ", ".join(f"{k} {v:.2f}" for k, v in costs.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
