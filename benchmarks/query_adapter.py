"""The query adapter, and three ways to use it: which one pays.

    .venv/bin/python benchmarks/query_adapter.py [--l2 0.03] [--steps 60]

The **query adapter** (`evalkit.fit_query_adapter`) is a 384 × 384 matrix W, from the
identity, that maps a question's MiniLM vector before it meets the index rows; it is fitted
with numpy on the question banks only, so the fit part stays honest for the ranker refitted
on top. Printed, side by side from one run:
- the dense view alone (the section with the best cosine of any of its rows), right section
  first, raw and adapted, on the fit part and the held-out splits;
- the product refitted on the fit part four ways: raw vectors only (no adapter); the
  adapted vector instead of the raw one everywhere; adapted for the section features and raw
  for the out-of-scope bank features; and raw features **plus** the four dense views of the
  adapted vector as extra ranking features, which is what ships (`adapted_*` in
  `knowledge/features.py`).
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import re
import sys

import numpy as np
from evalkit import (
    ADAPTER_L2,
    ADAPTER_STEPS,
    HELD_OUT_SPLITS,
    NAMED_PHASE_PATTERN,
    SECTION_FEATURES,
    FeatureSet,
    all_cases,
    fit_query_adapter,
    matches,
    normalise_rows,
)
from fit_ranking import fit, prepare, report

from bot.services.mentor_text import clean_question
from knowledge.store import ROW_OUT_OF_SCOPE, ROW_QUESTION

PLAIN = tuple(n for n in SECTION_FEATURES if not n.startswith("adapted_"))


def dense_first(
    queries: np.ndarray, rows: np.ndarray, chunk_of: np.ndarray, in_scope: np.ndarray, n: int
) -> np.ndarray:
    scores = queries @ rows.T
    scores[:, ~in_scope] = -2.0
    best = np.full((len(queries), n), -2.0, dtype=np.float32)
    for chunk in range(n):
        best[:, chunk] = scores[:, chunk_of == chunk].max(axis=1)
    return best.argmax(axis=1)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--l2", type=float, default=ADAPTER_L2)
    parser.add_argument("--steps", type=int, default=ADAPTER_STEPS)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    chunks, index_rows, embedder, vectors, expander, builder = prepare()
    rows = np.asarray(vectors.vectors(), dtype=np.float32)
    kinds = np.asarray(index_rows.kinds)
    chunk_of = np.asarray(index_rows.chunk_ids)
    banked = int(np.isin(kinds, [ROW_QUESTION, ROW_OUT_OF_SCOPE]).sum())
    print(f"fitting the adapter on {banked} banked questions ...", flush=True)
    w = fit_query_adapter(rows, chunk_of, kinds, l2=args.l2, steps=args.steps)
    print(f"‖W − I‖ = {np.linalg.norm(w - np.eye(len(w))):.2f}")

    cases = all_cases()
    queries = [expander.expand(clean_question(c.q)) for c in cases]
    raw = embedder.embed(queries)
    adapted = normalise_rows(raw @ w)
    texts = [f"{c.text}\n{c.title} › {c.section}" for c in chunks]
    labels = np.array([[c.kind == "in" and matches(c, t) for t in texts] for c in cases])
    split = np.array([c.split for c in cases])
    in_scope = kinds != ROW_OUT_OF_SCOPE
    print("\ndense view alone, right section first (raw → adapted):")
    firsts = [dense_first(q, rows, chunk_of, in_scope, len(chunks)) for q in (raw, adapted)]
    for name in ("fit", *HELD_OUT_SPLITS):
        mask = (split == name) & labels.any(axis=1)
        rates = [labels[mask][np.arange(mask.sum()), f[mask]].mean() for f in firsts]
        print(f"  {name:>6}: {rates[0]:.3f} → {rates[1]:.3f} of {int(mask.sum())}")

    def features(
        section_vectors: np.ndarray, bank_vectors: np.ndarray, extra: np.ndarray | None = None
    ) -> FeatureSet:
        """Section features from `section_vectors`, the out-of-scope bank features from
        `bank_vectors`, and with `extra` the adapted views from those vectors."""
        found, matrices = [], []
        for i, (query, section, bank) in enumerate(
            zip(queries, section_vectors, bank_vectors, strict=True)
        ):
            named = {int(n) for n in re.findall(NAMED_PHASE_PATTERN, query, re.IGNORECASE)}
            more = None if extra is None else vectors.row_scores(extra[i])
            f = builder.build(query, vectors.row_scores(section), named, more)
            if bank is not section:
                b = builder.build(query, vectors.row_scores(bank), named)
                f = dataclasses.replace(
                    f,
                    out_of_scope=b.out_of_scope,
                    out_of_scope_neighbours=b.out_of_scope_neighbours,
                    banked_scores=b.banked_scores,
                )
            found.append(f)
            matrices.append(f.matrix)
        return FeatureSet(list(cases), np.stack(matrices), labels, found)

    variants = {
        "raw vectors only (no adapter)": (features(raw, raw), PLAIN),
        "adapted vector for everything": (features(adapted, adapted), PLAIN),
        "adapted for sections, raw for the bank features": (features(adapted, raw), PLAIN),
        "raw features plus the adapted dense views (the product)": (
            features(raw, raw, adapted),
            SECTION_FEATURES,
        ),
    }
    for title, (data, active) in variants.items():
        print(f"\nproduct refitted, {title}:", flush=True)
        report(data, fit(data, active=active))
    return 0


if __name__ == "__main__":
    sys.exit(main())
