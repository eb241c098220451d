"""Fit the query adapter, the ranking and the answer models; write `knowledge/ranking.json`.

    .venv/bin/python benchmarks/fit_ranking.py [--dry-run]

First fits the query adapter on the guide's banked questions (no labelled set), then fits
only on questions marked `"split": "fit"` (the fit part of
`benchmarks/learner_questions.jsonl` and all of `benchmarks/questions.jsonl`); prints the
rates on the fit part, and on the report part, the unseen check set and the shared dev set,
which are never fitted on.
Rerun after changing the guide, its anticipated questions, the features or the model; the
weights' hash is part of the index manifest, so the engine notices a new file.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Iterable
from pathlib import Path

import numpy as np
from evalkit import (
    HELD_OUT_SPLITS,
    RUNNER_UP_GAP,
    FeatureSet,
    all_cases,
    compute_features,
    evaluate,
    fit_answer_model,
    fit_query_adapter,
    fit_ranker,
)

from bot.services.mentor_text import clean_question
from bot.settings import Settings
from knowledge.anticipated import load_anticipated, load_out_of_scope
from knowledge.chunking import chunk_documents
from knowledge.content import BUNDLED_GUIDE_DIR, load_guide
from knowledge.engine import build_expander, load_embedder
from knowledge.features import QUESTION_FEATURES, FeatureBuilder
from knowledge.query import QueryExpander
from knowledge.ranking import (
    ADAPTER_NAME,
    RANKING_FILE,
    LinearModel,
    RankingModel,
    load_ranking_model,
    save_ranking_model,
)
from knowledge.store import IndexStore, index_rows


def prepare(expander_for=build_expander, index_dir: Path | None = None):
    """Chunks, rows, dense index and a feature builder for the bundled guide."""
    guide = load_guide()
    chunks = chunk_documents(guide.documents)
    rows = index_rows(
        chunks,
        load_anticipated(BUNDLED_GUIDE_DIR, chunks),
        load_out_of_scope(BUNDLED_GUIDE_DIR),
    )
    # The product's data dir: its ONNX export is reused (a fresh directory would export the
    # model again, which needs torch and takes a while).
    directory = index_dir or Settings().index_dir
    embedder = load_embedder(directory)
    vectors, _ = IndexStore(directory).load_or_build(embedder, guide.content_hash, chunks, rows)
    expander: QueryExpander = expander_for(chunks)
    builder = FeatureBuilder(chunks, rows, topicless=sorted(expander.glossary.topicless_words))
    return chunks, rows, embedder, vectors, expander, builder


def features_for(cases, embedder, vectors, expander, builder, adapter=None) -> FeatureSet:
    return compute_features(
        cases, builder, embedder.embed, vectors, expander.expand, clean_question, adapter
    )


def query_adapter(rows, matrix: np.ndarray) -> np.ndarray:
    """The adapter fitted on the banked questions of `rows` (their vectors: `matrix`),
    rounded as it is shipped."""
    fitted = fit_query_adapter(np.asarray(matrix, np.float32), rows.chunk_ids, rows.kinds)
    return fitted.astype(np.float16).astype(np.float32)


def fit(
    data: FeatureSet,
    *,
    runner_up_gap: float = RUNNER_UP_GAP,
    answer_active: Iterable[str] = QUESTION_FEATURES,
    ranker: LinearModel | None = None,
    adapter: np.ndarray | None = None,
    **kwargs,
) -> RankingModel:
    """Both models on the fit part; with `ranker`, that ranker is kept and only the answer
    model and its threshold are fitted. `adapter`: the query adapter `data` was built with,
    shipped with the weights."""
    fit_part = data.subset(data.mask(split="fit"))
    ranker = ranker or fit_ranker(fit_part, **kwargs)
    answer, threshold = fit_answer_model(
        fit_part, ranker, runner_up_gap=runner_up_gap, active=answer_active
    )
    return RankingModel(
        ranker, answer, threshold, digest="", runner_up_gap=runner_up_gap, adapter=adapter
    )


def report(data: FeatureSet, model: RankingModel) -> None:
    for split in ("fit", *HELD_OUT_SPLITS):
        part = data.subset(data.mask(split=split))
        if not part.cases:
            continue
        r = evaluate(part, model)
        print(
            f"{split:>6}: in-scope {r['in']:.3f} of {r['n_in']} "
            f"(right section quoted {r['ranked']:.3f}), "
            f"off-topic declined {r['off']:.3f} of {r['n_off']}"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dry-run", action="store_true", help="print, do not write")
    parser.add_argument("--out", type=Path, default=RANKING_FILE)
    parser.add_argument(
        "--answer-only",
        action="store_true",
        help="keep the shipped ranker; fit the answer model and its threshold only",
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    _, rows, embedder, vectors, expander, builder = prepare()
    shipped = load_ranking_model() if args.answer_only else None
    if shipped is not None:
        adapter = shipped.adapter
    else:
        print("fitting the query adapter on the banked questions ...", flush=True)
        adapter = query_adapter(rows, vectors.vectors())
    data = features_for(all_cases(), embedder, vectors, expander, builder, adapter)
    model = fit(data, ranker=shipped.ranker if shipped else None, adapter=adapter)
    report(data, model)
    if not args.dry_run:
        save_ranking_model(model, args.out)
        print(f"wrote {args.out}" + (f" and {ADAPTER_NAME}" if adapter is not None else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
