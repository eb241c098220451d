"""Anticipated questions (doc2query) for the guide's sections, from `guide/questions.yaml`.

A learner's one-line question is closer to another one-line question than to a paragraph of
prose, so every section is indexed by the questions it answers as well as by its text. The
questions were written from each section's own text, in learners' words, by someone who had
not seen any evaluation set. A guide directory without the file simply has none.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import yaml

from knowledge.chunking import Chunk
from knowledge.content import YAML_LOADER

QUESTIONS_FILE = "questions.yaml"
OUT_OF_SCOPE_FILE = "out_of_scope.yaml"


class AnticipatedQuestionsError(ValueError):
    """The questions file is malformed or names a section the guide does not have."""


def load_anticipated(guide_dir: Path, chunks: Sequence[Chunk]) -> dict[int, tuple[str, ...]]:
    """Chunk id → its anticipated questions (every chunk of a split section gets them)."""
    path = Path(guide_dir) / QUESTIONS_FILE
    try:
        raw = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError) as exc:
        raise AnticipatedQuestionsError(f"cannot read {path}: {exc}") from exc
    try:
        data = yaml.load(raw, Loader=YAML_LOADER) or {}
    except yaml.YAMLError as exc:
        raise AnticipatedQuestionsError(f"{path} is not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise AnticipatedQuestionsError(f"{path} must map document slugs to sections")
    by_section: dict[tuple[str, str], list[int]] = {}
    for chunk in chunks:
        by_section.setdefault((chunk.document, chunk.section), []).append(chunk.id)
    found: dict[int, tuple[str, ...]] = {}
    for document, sections in data.items():
        if not isinstance(sections, dict):
            raise AnticipatedQuestionsError(f"{path}: {document!r} must map sections to lists")
        for section, questions in sections.items():
            ids = by_section.get((str(document), str(section)))
            if ids is None:
                raise AnticipatedQuestionsError(
                    f"{path}: no section {section!r} in document {document!r}"
                )
            if not isinstance(questions, list):
                raise AnticipatedQuestionsError(f"{path}: {section!r} must list questions")
            cleaned = tuple(str(q).strip() for q in questions if str(q).strip())
            for chunk_id in ids:
                found[chunk_id] = cleaned
    return found


def load_out_of_scope(guide_dir: Path) -> tuple[str, ...]:
    """Questions the guide does not answer (topic → list in `out_of_scope.yaml`), if any."""
    path = Path(guide_dir) / OUT_OF_SCOPE_FILE
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=YAML_LOADER) or {}
    except FileNotFoundError:
        return ()
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise AnticipatedQuestionsError(f"cannot read {path}: {exc}") from exc
    if not isinstance(data, dict) or not all(isinstance(v, list) for v in data.values()):
        raise AnticipatedQuestionsError(f"{path} must map topics to lists of questions")
    questions = (str(q).strip() for topic in data.values() for q in topic)
    return tuple(dict.fromkeys(q for q in questions if q))
