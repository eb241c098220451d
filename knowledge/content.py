"""Loads the written guide: Markdown files with YAML front matter.

The guide is the single source of truth for the roadmap: the phase list, each phase's
duration and milestones all come from front matter, so the storage layer, the nudges and
the bot never keep a second copy of them in code.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import yaml

BUNDLED_GUIDE_DIR = Path(__file__).resolve().parent / "guide"
PHASES = (0, 1, 2, 3)
# libyaml's safe loader when PyYAML has it (the same safe constructors, parsing in C): the
# question banks (about 2,800 lines) took 0.8 s with the pure-Python loader, the guide's
# front matter and the glossary another 0.02 s.
YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_FRONT_MATTER = re.compile(r"\A---\s*\n(.*?)\n---\s*\n", re.DOTALL)
_MILESTONE_ID = re.compile(r"^p[0-3]-[a-z0-9-]+$")


class GuideError(ValueError):
    """The guide on disk is malformed; the message names the file and the problem."""


@dataclass(frozen=True, slots=True)
class Milestone:
    id: str
    title: str
    phase: int
    section: str | None
    document: str


@dataclass(frozen=True, slots=True)
class Document:
    slug: str
    title: str
    phase: int | None
    kind: str
    tags: tuple[str, ...]
    body: str
    duration: str | None = None
    milestones: tuple[Milestone, ...] = ()


@dataclass(frozen=True, slots=True)
class Phase:
    number: int
    title: str
    duration: str | None
    document: str
    milestones: tuple[Milestone, ...]

    @property
    def label(self) -> str:
        return "Prerequisites" if self.number == 0 else f"Phase {self.number}"


@dataclass(frozen=True)
class Guide:
    documents: tuple[Document, ...]
    content_hash: str
    _milestones: dict[str, Milestone] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        index = {m.id: m for d in self.documents for m in d.milestones}
        object.__setattr__(self, "_milestones", index)

    @property
    def phases(self) -> tuple[Phase, ...]:
        """One entry per phase number; a phase may span several files (phase 2 does).

        The first file of a phase (by name) gives its title and duration; the milestones of
        all its files are listed in file order.
        """
        by_number: dict[int, list[Document]] = {}
        for doc in self.documents:
            if doc.kind == "roadmap" and doc.phase is not None:
                by_number.setdefault(doc.phase, []).append(doc)
        phases = []
        for number in sorted(by_number):
            docs = by_number[number]
            milestones = tuple(m for d in docs for m in d.milestones)
            first = docs[0]
            phases.append(Phase(number, first.title, first.duration, first.slug, milestones))
        return tuple(phases)

    def phase(self, number: int) -> Phase | None:
        return next((p for p in self.phases if p.number == number), None)

    def milestone(self, milestone_id: str) -> Milestone | None:
        return self._milestones.get(milestone_id)

    @property
    def milestones(self) -> tuple[Milestone, ...]:
        return tuple(self._milestones.values())

    def document(self, slug: str) -> Document | None:
        return next((d for d in self.documents if d.slug == slug), None)


def _parse_phase(value: object, where: str) -> int | None:
    if value is None or (isinstance(value, str) and value.strip().lower() in {"", "none", "null"}):
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value not in PHASES:
        raise GuideError(f"{where}: phase must be one of {PHASES} or null, got {value!r}")
    return value


def _parse_milestones(raw: object, phase: int | None, slug: str) -> tuple[Milestone, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list) or phase is None:
        raise GuideError(f"{slug}: milestones must be a list, on a document with a phase")
    out = []
    for item in raw:
        if not isinstance(item, dict) or not item.get("id") or not item.get("title"):
            raise GuideError(f"{slug}: every milestone needs an id and a title, got {item!r}")
        mid = str(item["id"])
        if not _MILESTONE_ID.match(mid):
            raise GuideError(f"{slug}: milestone id {mid!r} must look like 'p1-some-skill'")
        section = item.get("section")
        out.append(Milestone(mid, str(item["title"]), phase, section and str(section), slug))
    return tuple(out)


def parse_document(slug: str, text: str) -> Document:
    """Parse one guide file; pure so chunking tests can feed strings directly."""
    match = _FRONT_MATTER.match(text)
    if not match:
        raise GuideError(f"{slug}: missing YAML front matter between '---' lines")
    try:
        meta = yaml.load(match.group(1), Loader=YAML_LOADER) or {}
    except yaml.YAMLError as exc:
        raise GuideError(f"{slug}: front matter is not valid YAML: {exc}") from exc
    if not isinstance(meta, dict):
        raise GuideError(f"{slug}: front matter must be a mapping")
    body = text[match.end() :]
    title = str(meta.get("title") or "").strip()
    if not title:
        heading = re.search(r"^#\s+(.+)$", body, re.MULTILINE)
        title = heading.group(1).strip() if heading else slug
    phase = _parse_phase(meta.get("phase"), slug)
    kind = str(meta.get("kind") or "topic")
    tags = tuple(str(t) for t in (meta.get("tags") or ()))
    duration = meta.get("duration")
    milestones = _parse_milestones(meta.get("milestones"), phase, slug)
    return Document(slug, title, phase, kind, tags, body, duration and str(duration), milestones)


def hash_texts(parts: Iterable[tuple[str, str]]) -> str:
    digest = hashlib.sha256()
    for name, text in sorted(parts):
        digest.update(name.encode())
        digest.update(b"\0")
        digest.update(text.encode())
        digest.update(b"\0")
    return digest.hexdigest()


def _read_text(path: Path) -> str:
    """The file as UTF-8; a file in another encoding is a GuideError naming it and the byte."""
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise GuideError(
            f"{path}: not valid UTF-8 (byte 0x{exc.object[exc.start]:02x} at offset "
            f"{exc.start}); save the guide files as UTF-8"
        ) from exc


def load_guide(directory: Path | None = None) -> Guide:
    """Read every `*.md` file under `directory` (the bundled guide by default)."""
    root = Path(directory) if directory else BUNDLED_GUIDE_DIR
    files = sorted(root.glob("*.md"))
    if not files:
        raise GuideError(f"no guide files (*.md) found in {root}")
    texts = [(path.stem, _read_text(path)) for path in files]
    documents = tuple(parse_document(slug, text) for slug, text in texts)
    seen: dict[str, str] = {}
    for doc in documents:
        for milestone in doc.milestones:
            if milestone.id in seen:
                raise GuideError(
                    f"milestone id {milestone.id!r} appears in {seen[milestone.id]} and {doc.slug}"
                )
            seen[milestone.id] = doc.slug
    return Guide(documents, hash_texts(texts))
