"""The fitted ranking and answer models, applied with numpy.

Both are linear models fitted offline by `benchmarks/fit_ranking.py` on the fit part of the
labelled question sets, and shipped as data (`knowledge/ranking.json`): importing
scikit-learn at run time would cost more start-up than the whole answer engine.

- The **ranking model** scores every section as `features · weights` (a listwise softmax
  fit: the right section should win against all the others of the same question).
- The **answer model** is a logistic regression on evidence about the chosen section (its
  score and lead, whether the question's words occur in it, whether the dense and lexical
  views agree, how near the question lies to questions the guide does not answer); the
  guide answers when the probability reaches `threshold`, which the fit chose to maximise
  the sum of the two rates (in scope answered right, off topic declined) on the fit part.
- `runner_up_gap`: how close the second section must score for the answer to quote it too.
- The **query adapter** (`knowledge/query_adapter.npy`, named with its hash in the weights
  file) is a square matrix fitted on the guide's question banks: the question's vector,
  mapped by it, lies nearer the rows of the section that answers it. The ranker reads the
  dense views of both vectors (`adapted_*` features); one matrix-vector product per question.
"""

from __future__ import annotations

import hashlib
import io
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from knowledge.features import QUESTION_FEATURES, SECTION_FEATURES

RANKING_FILE = Path(__file__).resolve().parent / "ranking.json"
ADAPTER_NAME = "query_adapter.npy"  # beside the weights file


class RankingModelError(ValueError):
    """The weights file is missing, malformed or made for other features."""


@dataclass(frozen=True)
class LinearModel:
    names: tuple[str, ...]
    weights: np.ndarray
    bias: float = 0.0

    def apply(self, matrix: np.ndarray) -> np.ndarray:
        return matrix @ self.weights + self.bias


@dataclass(frozen=True, eq=False)
class RankingModel:
    ranker: LinearModel
    answer: LinearModel
    threshold: float
    digest: str
    # An answer quotes the runner-up section as well when it scores within this much of the
    # best (a listwise score: the runner-up is then at least e^-gap as likely to be the
    # right one). 0 quotes one section only.
    runner_up_gap: float = 0.0
    # (dimension, dimension) float32, or None: the adapted features repeat the plain ones.
    adapter: np.ndarray | None = None

    def adapt(self, vector: np.ndarray) -> np.ndarray | None:
        """The question's unit vector mapped by the adapter, renormalised (None: no adapter,
        or one fitted for another embedding size)."""
        if self.adapter is None or self.adapter.shape[0] != vector.shape[-1]:
            return None
        mapped = vector @ self.adapter
        norm = float(np.linalg.norm(mapped))
        return (mapped / norm if norm > 0 else mapped).astype(np.float32)

    def section_scores(self, matrix: np.ndarray) -> np.ndarray:
        return self.ranker.apply(matrix)

    def answer_probability(self, row: np.ndarray) -> float:
        logit = float(self.answer.apply(row[None, :])[0])
        return float(1.0 / (1.0 + np.exp(-np.clip(logit, -50.0, 50.0))))

    def to_json(self) -> dict[str, object]:
        data: dict[str, object] = {
            "ranker": _model_json(self.ranker),
            "answer": _model_json(self.answer),
            "threshold": self.threshold,
            "runner_up_gap": self.runner_up_gap,
        }
        if self.adapter is not None:
            digest = hashlib.sha256(adapter_bytes(self.adapter)).hexdigest()
            data["query_adapter"] = {"file": ADAPTER_NAME, "sha256": digest}
        return data


def adapter_bytes(matrix: np.ndarray) -> bytes:
    """The adapter as shipped: a float16 .npy (half the size; its rounding, about 2e-4, is
    far below anything the ranker can tell apart)."""
    buffer = io.BytesIO()
    np.save(buffer, np.asarray(matrix, dtype=np.float16), allow_pickle=False)
    return buffer.getvalue()


def save_ranking_model(model: RankingModel, path: Path | None = None) -> None:
    """The weights file and, beside it, the adapter it names."""
    path = Path(path or RANKING_FILE)
    if model.adapter is not None:
        path.with_name(ADAPTER_NAME).write_bytes(adapter_bytes(model.adapter))
    path.write_text(json.dumps(model.to_json(), indent=2) + "\n", encoding="utf-8")


def _model_json(model: LinearModel) -> dict[str, object]:
    return {
        "weights": {n: round(float(w), 6) for n, w in zip(model.names, model.weights, strict=True)},
        "bias": round(float(model.bias), 6),
    }


def _model(data: object, names: tuple[str, ...], what: str) -> LinearModel:
    if not isinstance(data, dict) or not isinstance(data.get("weights"), dict):
        raise RankingModelError(f"the {what} model has no weights")
    weights = data["weights"]
    if set(weights) != set(names):
        missing = sorted(set(names) - set(weights))
        extra = sorted(set(weights) - set(names))
        raise RankingModelError(
            f"the {what} model's features do not match this code (missing {missing}, "
            f"unknown {extra}); refit with benchmarks/fit_ranking.py"
        )
    vector = np.array([float(weights[n]) for n in names], dtype=np.float32)
    return LinearModel(names, vector, float(data.get("bias", 0.0)))


def model_from_json(
    data: dict[str, object], digest: str = "", adapter: np.ndarray | None = None
) -> RankingModel:
    threshold = data.get("threshold")
    if not isinstance(threshold, int | float):
        raise RankingModelError("the weights file has no answer threshold")
    return RankingModel(
        ranker=_model(data.get("ranker"), SECTION_FEATURES, "ranking"),
        answer=_model(data.get("answer"), QUESTION_FEATURES, "answer"),
        threshold=float(threshold),
        digest=digest,
        runner_up_gap=_gap(data.get("runner_up_gap", 0.0)),
        adapter=adapter,
    )


def _load_adapter(entry: object, directory: Path) -> np.ndarray | None:
    """The adapter the weights file names, checked against its recorded hash: weights fitted
    with one adapter are wrong with another, so a mismatch is refused, not ignored."""
    if entry is None:
        return None
    if (
        not isinstance(entry, dict)
        or not isinstance(entry.get("file"), str)
        or not isinstance(entry.get("sha256"), str)
    ):
        raise RankingModelError("query_adapter must name a file and its sha256")
    path = directory / Path(entry["file"]).name
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise RankingModelError(f"cannot read the query adapter {path}: {exc}") from exc
    if hashlib.sha256(raw).hexdigest() != entry["sha256"]:
        raise RankingModelError(
            f"the query adapter {path} is not the one the weights were fitted with "
            "(sha256 differs); refit with benchmarks/fit_ranking.py"
        )
    try:
        matrix = np.load(io.BytesIO(raw), allow_pickle=False)
    except (ValueError, OSError, EOFError) as exc:
        raise RankingModelError(f"the query adapter {path} is not a .npy array: {exc}") from exc
    if matrix.ndim != 2 or matrix.shape[0] != matrix.shape[1] or not matrix.size:
        raise RankingModelError(f"the query adapter {path} must be a square matrix")
    return matrix.astype(np.float32)


def _gap(value: object) -> float:
    if not isinstance(value, int | float) or isinstance(value, bool) or not 0 <= value < 100:
        raise RankingModelError("runner_up_gap must be a number from 0 to 100")
    return float(value)


def load_ranking_model(path: Path | None = None) -> RankingModel:
    path = Path(path or RANKING_FILE)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise RankingModelError(f"cannot read the ranking weights {path}: {exc}") from exc
    try:
        data = json.loads(raw)
    except ValueError as exc:
        raise RankingModelError(f"the ranking weights {path} are not valid JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise RankingModelError(f"the ranking weights {path} must be a JSON object")
    adapter = _load_adapter(data.get("query_adapter"), path.parent)
    # The weights file records the adapter's hash, so its digest covers both files.
    return model_from_json(data, hashlib.sha256(raw).hexdigest(), adapter)
