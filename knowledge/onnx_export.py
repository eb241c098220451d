"""Exports the sentence-transformers model to ONNX, once, at index build (needs torch).

Only this module imports torch, and only `mentor index build` or an index load that finds
no valid export calls it, on a machine with the `build` extra. The export holds the
transformer alone (token embeddings out); pooling and normalisation happen in numpy in
`knowledge.onnx_embedder`, where the parity test can see them.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import shutil
import time
import warnings
from pathlib import Path
from typing import Any

from knowledge.embedder import (
    EmbedderError,
    ModelSource,
    load_sentence_transformer,
    sha256_file,
    source_fingerprint,
)
from knowledge.onnx_embedder import (
    DATA_FILE,
    EXPORT_FILES,
    EXPORT_FORMAT,
    MODEL_FILE,
    RECORD_FILE,
    TOKENIZER_FILE,
    ExportRecord,
)

log = logging.getLogger(__name__)

OPSET = 17
_INPUTS = ("input_ids", "attention_mask", "token_type_ids")


def build_tools_available() -> bool:
    """Whether torch and sentence-transformers can be imported, without importing them."""
    try:
        return all(
            importlib.util.find_spec(name) is not None
            for name in ("torch", "sentence_transformers")
        )
    except (ImportError, ValueError):
        return False


def export_onnx(source: ModelSource, directory: Path) -> ExportRecord:
    """Write model.onnx (with its weights in model.onnx.data), tokenizer.json and, last,
    model.json into `directory`.

    The record is removed first and written last, so an export interrupted half-way is
    seen as missing, never as valid.
    """
    started = time.perf_counter()
    try:
        import torch
    except ImportError as exc:
        raise EmbedderError(
            "torch is not installed here; run `mentor index build` on a machine with the "
            "build extra (pip install 'mle-mentor[build]')."
        ) from exc
    import sentence_transformers
    import transformers

    model = load_sentence_transformer(source.load_from)
    modules = list(model)  # type: ignore[call-overload]
    pooling = getattr(modules[1], "pooling_mode", None) if len(modules) > 1 else None
    if pooling != "mean":
        raise EmbedderError(
            f"The model {source.model_id!r} uses {pooling!r} pooling; only mean pooling "
            "(as in all-MiniLM-L6-v2) can be exported."
        )
    transformer = modules[0]
    encoder = _token_embeddings(transformer.auto_model.eval(), torch)
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    (directory / RECORD_FILE).unlink(missing_ok=True)
    tmp_model = directory / (MODEL_FILE + ".tmp")
    # The example batch has a padded row: traced with an all-ones mask, transformers may
    # drop the attention mask from the graph and padded batches would then embed wrongly.
    ids = torch.ones((2, 8), dtype=torch.long)
    mask = torch.ones_like(ids)
    mask[1, 5:] = 0
    axes = {name: {0: "batch", 1: "sequence"} for name in (*_INPUTS, "token_embeddings")}
    # The tracer warns that the mask-shape and causal-mask checks become constants: right for
    # an encoder that is always given an attention mask and never a cache. Not user news.
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            encoder,
            (ids, mask, torch.zeros_like(ids)),
            str(tmp_model),
            input_names=list(_INPUTS),
            output_names=["token_embeddings"],
            dynamic_axes=axes,
            opset_version=OPSET,
            dynamo=False,
        )
    _externalise_weights(tmp_model, directory / MODEL_FILE)
    tokenizer = model.tokenizer  # type: ignore[attr-defined]
    tmp_tokenizer = directory / (TOKENIZER_FILE + ".tmp")
    tokenizer.backend_tokenizer.save(str(tmp_tokenizer))
    os.replace(tmp_tokenizer, directory / TOKENIZER_FILE)
    record = ExportRecord(
        format=EXPORT_FORMAT,
        model_id=source.model_id,
        source=source_fingerprint(source.path),
        dimension=int(model.get_embedding_dimension()),  # type: ignore[attr-defined]
        max_seq_length=int(model.max_seq_length),  # type: ignore[attr-defined]
        pooling=pooling,
        exporter=(
            f"torch {torch.__version__}, transformers {transformers.__version__}, "
            f"sentence-transformers {sentence_transformers.__version__}, opset {OPSET}"
        ),
        files={name: sha256_file(directory / name) for name in EXPORT_FILES},
        exported_at=time.time(),
    )
    tmp_record = directory / (RECORD_FILE + ".tmp")
    tmp_record.write_text(record.to_json(), encoding="utf-8")
    os.replace(tmp_record, directory / RECORD_FILE)
    log.info(
        "exported %s to ONNX in %s (%.1fs)",
        source.model_id,
        directory,
        time.perf_counter() - started,
    )
    return record


def _externalise_weights(exported: Path, target: Path) -> None:
    """Rewrite the exported model with its weights in `DATA_FILE` beside the graph (see
    there why), then put the graph in place."""
    import onnx

    model = onnx.load(str(exported))
    (target.parent / DATA_FILE).unlink(missing_ok=True)  # save appends to an existing file
    onnx.save_model(
        model,
        str(exported),
        save_as_external_data=True,
        all_tensors_to_one_file=True,
        location=DATA_FILE,
        size_threshold=1024,
    )
    # onnx creates the data file private (0600); give it the graph file's mode, so a data
    # dir shared the usual way stays readable as before.
    shutil.copymode(exported, target.parent / DATA_FILE)
    os.replace(exported, target)


def _token_embeddings(model: Any, torch: Any) -> Any:
    """Wrap the Hugging Face model so the export calls it with keyword arguments: with
    transformers 5 a positional call fails ("multiple values for argument 'use_cache'")."""

    class TokenEmbeddings(torch.nn.Module):  # type: ignore[misc,name-defined]
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            return self.model(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state

    return TokenEmbeddings()
