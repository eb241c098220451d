"""Section-aware chunking of guide documents.

Each `##`/`###` section becomes one chunk whose title keeps the heading path, because an
answer is one chunk: it must make sense alone and be citable by name. Sections longer than
`max_chars` are split on paragraph boundaries so an answer stays concise. Pure functions:
no I/O, no model.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from knowledge.content import Document

DEFAULT_MAX_CHARS = 900
INTRO_SECTION = "Introduction"
_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")


@dataclass(frozen=True, slots=True)
class Chunk:
    id: int
    document: str
    title: str
    section: str
    text: str
    phase: int | None
    kind: str
    tags: tuple[str, ...] = ()

    @property
    def question(self) -> str | None:
        """FAQ sections are questions; their heading is indexed on its own as well."""
        return self.section if self.kind == "faq" and self.section.endswith("?") else None

    @property
    def heading_path(self) -> str:
        return f"{self.title} › {self.section}"

    def embedding_text(self) -> str:
        return f"{self.heading_path}\n{self.text}"


def _split_paragraphs(text: str, max_chars: int) -> list[str]:
    """Greedy packing of whole paragraphs; a lone oversize paragraph stays whole."""
    paragraphs = [p.strip() for p in re.split(r"\n\s*\n", text) if p.strip()]
    parts: list[str] = []
    current = ""
    for paragraph in paragraphs:
        candidate = f"{current}\n\n{paragraph}" if current else paragraph
        if current and len(candidate) > max_chars:
            parts.append(current)
            current = paragraph
        else:
            current = candidate
    if current:
        parts.append(current)
    return parts


def _sections(body: str) -> Iterable[tuple[str, str]]:
    """Yield (heading path below the document title, section text)."""
    stack: list[tuple[int, str]] = []
    lines: list[str] = []

    def flush() -> tuple[str, str] | None:
        text = "\n".join(lines).strip()
        lines.clear()
        if not text:
            return None
        path = " › ".join(name for _, name in stack) or INTRO_SECTION
        return path, text

    for line in body.splitlines():
        match = _HEADING.match(line)
        if not match:
            lines.append(line)
            continue
        level, name = len(match.group(1)), match.group(2).strip()
        if (section := flush()) is not None:
            yield section
        if level == 1:
            stack.clear()
            continue
        while stack and stack[-1][0] >= level:
            stack.pop()
        stack.append((level, name))
    if (section := flush()) is not None:
        yield section


def chunk_document(
    doc: Document, *, start_id: int = 0, max_chars: int = DEFAULT_MAX_CHARS
) -> list[Chunk]:
    chunks: list[Chunk] = []
    for section, text in _sections(doc.body):
        for part in _split_paragraphs(text, max_chars):
            chunks.append(
                Chunk(
                    id=start_id + len(chunks),
                    document=doc.slug,
                    title=doc.title,
                    section=section,
                    text=part,
                    phase=doc.phase,
                    kind=doc.kind,
                    tags=doc.tags,
                )
            )
    return chunks


def chunk_documents(docs: Iterable[Document], *, max_chars: int = DEFAULT_MAX_CHARS) -> list[Chunk]:
    """Chunk ids are dense positions 0..n-1, stable for a given guide and chunker version."""
    chunks: list[Chunk] = []
    for doc in docs:
        chunks.extend(chunk_document(doc, start_id=len(chunks), max_chars=max_chars))
    return chunks
