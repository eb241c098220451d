"""A measured and dropped idea, kept so its README figures can be printed again.

    .venv/bin/python benchmarks/query_adapter.py [--l2 0.01] [--steps 60]

A **linear query adapter**: a 384 × 384 matrix W, started at the identity, that maps a
question's MiniLM vector before it is compared with the index rows. It is fitted with numpy
on the question banks only (each anticipated question must find its own section's other
rows, each out-of-scope question the bank's other rows: a softmax over every row with the
question's own row left out, L2 towards the identity), so the fit part's features stay
honest for the ranker refitted on top. It would cost one matrix-vector product per question.

Printed, side by side from one run:
- the dense view alone (the section with the best cosine of any of its rows), right section
  first, raw and adapted, on the fit part and the held-out splits;
- the product refitted on the fit part three ways: raw vectors (the ablations' base), the
  adapted vector for everything, and the adapted vector for the section features with the
  raw one for the out-of-scope bank features.

Dropped: the dense view gains 5 to 6 points, but the refitted product's right-section rate
moves within a point either way (fit part down, report and unseen up), and the answer
decision turns it into a trade between in-scope and off-topic rates rather than a gain.
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import re
import sys

import numpy as np
from evalkit import HELD_OUT_SPLITS, NAMED_PHASE_PATTERN, FeatureSet, all_cases, matches
from fit_ranking import fit, prepare, report

from bot.services.mentor_text import clean_question
from knowledge.store import ROW_OUT_OF_SCOPE, ROW_QUESTION


def fit_adapter(
    rows: np.ndarray, chunk_of: np.ndarray, kinds: np.ndarray, *, l2: float, steps: int
) -> np.ndarray:
    """W such that each banked question, mapped by W, finds the rest of its own kind."""
    questions = np.flatnonzero(kinds == ROW_QUESTION)
    banked = np.flatnonzero(kinds == ROW_OUT_OF_SCOPE)
    own = np.concatenate([questions, banked])
    x = rows[own]
    positive = np.zeros((len(own), len(rows)), dtype=bool)
    for i, row in enumerate(questions.tolist()):
        positive[i] = chunk_of == chunk_of[row]
    positive[len(questions) :] = kinds == ROW_OUT_OF_SCOPE
    identity = np.eye(rows.shape[1], dtype=np.float32)
    w = identity.copy()
    m = np.zeros_like(w)
    v = np.zeros_like(w)
    sharpness, rate = 20.0, 1e-3
    everyone = np.arange(len(own))
    for t in range(1, steps + 1):  # Adam on the mean softmax loss
        z = x @ w
        norm = np.linalg.norm(z, axis=1, keepdims=True)
        u = z / norm
        logits = sharpness * (u @ rows.T)
        logits[everyone, own] = -1e9
        logits -= logits.max(axis=1, keepdims=True)
        p = np.exp(logits)
        p /= p.sum(axis=1, keepdims=True)
        on_positive = p * positive
        grad_u = sharpness * (p - on_positive / (on_positive.sum(1, keepdims=True) + 1e-12)) @ rows
        grad_z = (grad_u - (grad_u * u).sum(1, keepdims=True) * u) / norm
        grad = x.T @ grad_z / len(x) + l2 * (w - identity)
        m = 0.9 * m + 0.1 * grad
        v = 0.999 * v + 0.001 * grad**2
        w -= rate * (m / (1 - 0.9**t)) / (np.sqrt(v / (1 - 0.999**t)) + 1e-8)
    return w


def adapt(vectors: np.ndarray, w: np.ndarray) -> np.ndarray:
    mapped = vectors @ w
    return (mapped / np.linalg.norm(mapped, axis=1, keepdims=True)).astype(np.float32)


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
    parser.add_argument("--l2", type=float, default=0.01)
    parser.add_argument("--steps", type=int, default=60)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    chunks, index_rows, embedder, vectors, expander, builder = prepare()
    rows = np.asarray(vectors.vectors(), dtype=np.float32)
    kinds = np.asarray(index_rows.kinds)
    chunk_of = np.asarray(index_rows.chunk_ids)
    banked = int(np.isin(kinds, [ROW_QUESTION, ROW_OUT_OF_SCOPE]).sum())
    print(f"fitting the adapter on {banked} banked questions ...", flush=True)
    w = fit_adapter(rows, chunk_of, kinds, l2=args.l2, steps=args.steps)
    print(f"‖W − I‖ = {np.linalg.norm(w - np.eye(len(w))):.2f}")

    cases = all_cases()
    queries = [expander.expand(clean_question(c.q)) for c in cases]
    raw = embedder.embed(queries)
    adapted = adapt(raw, w)
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

    def features(section_vectors: np.ndarray, bank_vectors: np.ndarray) -> FeatureSet:
        found, matrices = [], []
        for query, section, bank in zip(queries, section_vectors, bank_vectors, strict=True):
            named = {int(n) for n in re.findall(NAMED_PHASE_PATTERN, query, re.IGNORECASE)}
            f = builder.build(query, vectors.row_scores(section), named)
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
        "raw vectors (refitted base)": (raw, raw),
        "adapted vector for everything": (adapted, adapted),
        "adapted for sections, raw for the bank features": (adapted, raw),
    }
    for title, (section_vectors, bank_vectors) in variants.items():
        print(f"\nproduct refitted, {title}:", flush=True)
        data = features(section_vectors, bank_vectors)
        report(data, fit(data))
    return 0


if __name__ == "__main__":
    sys.exit(main())
