"""Content checks for the written guide in knowledge/guide/.

The bot answers a question with one retrieved section of the guide, so these tests
check the structure that retrieval relies on (front matter, headings, section size),
that the guide covers the facts of its two source articles, and that no sentence was
copied from those articles (8-word shingles). The originality check needs the source
articles in shared/seeds next to the repository and is skipped without them.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
GUIDE_DIR = REPO_ROOT / "knowledge" / "guide"
SEEDS_DIR = REPO_ROOT.parent / "shared" / "seeds"

GUIDE_FILES = sorted(GUIDE_DIR.glob("*.md"))

VALID_PHASES = {0, 1, 2, 3, None}
VALID_KINDS = {"roadmap", "faq", "topic"}
MILESTONE_ID = re.compile(r"^p[0-3]-[a-z0-9-]+$")
HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*$")
MAX_SECTION_CHARS = 1200
MIN_SECTION_CHARS = 200
SHINGLE_SIZE = 8

# Names of courses and books may be quoted verbatim; they are masked before the
# shingle comparison so that a long title does not count as a copied sentence.
PROPER_NAMES = [
    "Cluster Analysis and Unsupervised Machine Learning in Python",
    "Automate the Boring Stuff with Python",
    "Mathematics for Machine Learning",
    "Structuring Machine Learning Projects",
    "Applied Machine Learning in Python",
    "Production Machine Learning Systems",
    "Practical Deep Learning for Coders",
    "Deep Learning Specialization",
    "Python Crash Course",
    "Hugging Face Transformers",
]

KEY_FACTS = [
    # the opening numbers and the production gap
    "40+",
    "three years",
    "2024",
    "12,000",
    "78%",
    "fewer than 20%",
    "bootcamp",
    "Jupyter",
    "CI/CD",
    "notebook-to-production",
    # timelines (both sources)
    "18–24 months",
    "6–12 months",
    "12–18 months",
    "2–3 months",
    "3–4 months",
    "1–2 months",
    "2–4 months",
    "4–6 months",
    "data analyst",
    # prerequisites
    "REST API",
    "virtual environments",
    "package management",
    "eigenvalues",
    "vector spaces",
    "dot product",
    "chain rule",
    "partial derivatives",
    "Bayes' theorem",
    "hypothesis testing",
    "confidence intervals",
    "statistical significance",
    "Khan Academy",
    "MIT OpenCourseWare",
    "3Blue1Brown",
    "Brilliant.org",
    "Deisenroth",
    "Faisal",
    "Ong",
    "Python Crash Course",
    "Eric Matthes",
    "Automate the Boring Stuff",
    "Al Sweigart",
    "broadcasting",
    "missing values",
    "Seaborn",
    "heatmaps",
    "government open data",
    "shell scripting",
    # phase 1
    "bias-variance",
    "gradient descent",
    "ensemble methods",
    "random forests",
    "support vector machines",
    "k-nearest neighbours",
    "anomaly detection",
    "dimensionality reduction",
    "fraud detection",
    "log analysis",
    "scikit-learn",
    "house prices",
    "sentiment analysis",
    # phase 2 and specialisations
    "dropout",
    "batch normalisation",
    "transfer learning",
    "PyTorch",
    "Keras",
    "perceptrons",
    "activation functions",
    "tabular",
    "time-series",
    "YOLO",
    "Faster R-CNN",
    "segmentation",
    "generative models",
    "autonomous vehicles",
    "medical imaging",
    "surveillance",
    "augmented reality",
    "attention mechanisms",
    "Hugging Face",
    "translation",
    "collaborative filtering",
    "content-based filtering",
    "hybrid",
    "cold start",
    "beyond accuracy",
    # phase 3
    "MLflow",
    "Weights & Biases",
    "Feast",
    "Tecton",
    "model registries",
    "FastAPI",
    "Flask",
    "Kubernetes",
    "Airflow",
    "Prefect",
    "Evidently",
    "A/B testing",
    "SageMaker",
    "Vertex AI",
    "Azure ML",
    "Google AI Platform",
    "Dask",
    "Spark",
    "ETL",
    "data warehousing",
    "GitLab",
    "pull requests",
    "code reviews",
    "Colab",
    "free cloud tier",
    "monitoring dashboard",
    # courses
    "Structuring Machine Learning Projects",
    "Applied Machine Learning in Python",
    "Production Machine Learning Systems",
    "Machine Learning: Regression",
    "Machine Learning: Classification",
    "Cluster Analysis and Unsupervised Machine Learning in Python",
    "Udemy",
    "Coursera",
    "Andrew Ng",
    "two-week",
    "error analysis",
    "train/dev/test",
    "ridge",
    "lasso",
    "k-means",
    "hierarchical clustering",
    "fast.ai",
    "Practical Deep Learning for Coders",
    "Deep Learning Specialization",
    # portfolio and career
    "three focused",
    "ten shallow",
    "3–5",
    "at least 2",
    "5+ competitions",
    "bronze medal",
    "5–10",
    "recommendation system",
    "Telegram",
    "Discord",
    "README",
    "Kaggle",
    "Medium",
    "dev.to",
    "LinkedIn",
    "Twitter",
    "scikit-learn, TensorFlow",
    "Upwork",
    "meetups",
    "virtual conferences",
    "r/MachineLearning",
    "priority order",
    # staying current
    "arXiv",
    "The Batch",
    "Import AI",
    "TWIML",
    "Lex Fridman",
    # FAQ
    "$130K–$160K",
    "$200K–$350K+",
    "total compensation",
    "outside the US",
    "AWS ML Specialty",
    "GCP Professional ML Engineer",
    "SQL",
    "Scala",
    "Go and Rust",
    "Julia",
    "physics",
    "algorithms and data structures",
    "research scientists",
]


def split_front_matter(text: str) -> tuple[dict, str]:
    """Return the YAML front matter and the Markdown body of a guide file."""
    lines = text.splitlines()
    assert lines, "empty file"
    assert lines[0].strip() == "---", "file must start with a '---' front matter line"
    end = next((i for i in range(1, len(lines)) if lines[i].strip() == "---"), None)
    assert end is not None, "front matter is not closed with '---'"
    meta = yaml.safe_load("\n".join(lines[1:end])) or {}
    assert isinstance(meta, dict), "front matter must be a mapping"
    return meta, "\n".join(lines[end + 1 :])


def headings(body: str) -> list[tuple[int, str]]:
    """Every Markdown heading of the body as (level, text)."""
    found = []
    for line in body.splitlines():
        match = HEADING.match(line)
        if match:
            found.append((len(match.group(1)), match.group(2)))
    return found


def sections(body: str) -> list[tuple[str, str]]:
    """The ## and ### sections of the body as (heading, body text)."""
    result: list[tuple[str, str]] = []
    current: str | None = None
    buffer: list[str] = []
    for line in body.splitlines():
        match = HEADING.match(line)
        if match and len(match.group(1)) in (2, 3):
            if current is not None:
                result.append((current, "\n".join(buffer).strip()))
            current, buffer = match.group(2), []
        elif match and len(match.group(1)) == 1:
            continue
        elif current is not None:
            buffer.append(line)
    if current is not None:
        result.append((current, "\n".join(buffer).strip()))
    return result


def load(path: Path) -> tuple[dict, str]:
    return split_front_matter(path.read_text(encoding="utf-8"))


def all_guide_text() -> str:
    return "\n".join(path.read_text(encoding="utf-8") for path in GUIDE_FILES)


def normalise(text: str) -> list[str]:
    """Lowercase words of [a-z0-9] only, with quoted proper names masked."""
    joined = " " + " ".join(re.findall(r"[a-z0-9]+", text.lower())) + " "
    for name in PROPER_NAMES:
        masked = " " + " ".join(re.findall(r"[a-z0-9]+", name.lower())) + " "
        joined = joined.replace(masked, " propername ")
    return joined.split()


def shingles(words: list[str], size: int = SHINGLE_SIZE) -> set[tuple[str, ...]]:
    return {tuple(words[i : i + size]) for i in range(len(words) - size + 1)}


def test_guide_directory_has_files() -> None:
    assert GUIDE_DIR.is_dir(), f"missing {GUIDE_DIR}"
    assert len(GUIDE_FILES) >= 8, "expected the guide to be split into several files"


@pytest.mark.parametrize("path", GUIDE_FILES, ids=lambda p: p.name)
def test_front_matter_keys_and_types(path: Path) -> None:
    meta, body = load(path)
    assert set(meta) >= {"title", "phase", "kind", "tags"}, f"missing keys: {sorted(meta)}"
    assert isinstance(meta["title"], str)
    assert meta["title"].strip()
    assert meta["phase"] in VALID_PHASES
    assert not isinstance(meta["phase"], bool)
    assert meta["kind"] in VALID_KINDS
    assert isinstance(meta["tags"], list)
    assert meta["tags"]
    for tag in meta["tags"]:
        assert isinstance(tag, str)
        assert tag == tag.lower()
        assert tag.strip()

    titles = [text for level, text in headings(body) if level == 1]
    assert titles == [meta["title"]], "exactly one '# Title' line, equal to the title key"

    is_phase_file = meta["phase"] is not None
    if is_phase_file:
        assert meta["kind"] == "roadmap", "phase files are kind: roadmap"
    else:
        assert meta["kind"] in {"faq", "topic"}, "cross-cutting files are faq or topic"
        assert "milestones" not in meta
        assert "duration" not in meta


@pytest.mark.parametrize(
    "path", [p for p in GUIDE_FILES if load(p)[0].get("phase") is not None], ids=lambda p: p.name
)
def test_phase_files_have_duration_and_milestones(path: Path) -> None:
    meta, body = load(path)
    assert isinstance(meta.get("duration"), str)
    assert meta["duration"].strip()
    milestones = meta.get("milestones")
    assert isinstance(milestones, list)
    assert 5 <= len(milestones) <= 8, f"{len(milestones)} milestones"
    section_headings = {text for level, text in headings(body) if level in (2, 3)}
    for milestone in milestones:
        assert set(milestone) == {"id", "title", "section"}, milestone
        assert MILESTONE_ID.match(milestone["id"]), milestone["id"]
        assert milestone["id"].startswith(f"p{meta['phase']}-"), milestone["id"]
        assert isinstance(milestone["title"], str)
        assert milestone["title"].strip()
        assert milestone["section"] in section_headings, (
            f"milestone {milestone['id']} points at a missing heading: {milestone['section']!r}"
        )


def test_milestone_ids_are_unique_across_the_guide() -> None:
    ids = [m["id"] for path in GUIDE_FILES for m in load(path)[0].get("milestones") or []]
    assert ids, "no milestones found"
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    assert not duplicates, f"duplicate milestone ids: {duplicates}"


def test_every_phase_has_a_roadmap_file() -> None:
    phases = {load(path)[0]["phase"] for path in GUIDE_FILES}
    assert {0, 1, 2, 3} <= phases


@pytest.mark.parametrize(
    "path", [p for p in GUIDE_FILES if load(p)[0].get("kind") == "faq"], ids=lambda p: p.name
)
def test_faq_headings_are_questions(path: Path) -> None:
    _, body = load(path)
    for heading, _ in sections(body):
        assert heading.endswith("?"), f"FAQ heading is not a question: {heading!r}"


@pytest.mark.parametrize("path", GUIDE_FILES, ids=lambda p: p.name)
def test_section_sizes(path: Path) -> None:
    _, body = load(path)
    found = sections(body)
    assert found, "file has no ## sections"
    for heading, text in found:
        assert len(text) <= MAX_SECTION_CHARS, f"{heading!r} is {len(text)} characters"
        assert len(text) >= MIN_SECTION_CHARS, f"{heading!r} is only {len(text)} characters"


@pytest.mark.parametrize("path", GUIDE_FILES, ids=lambda p: p.name)
def test_plain_markdown_and_en_dash_ranges(path: Path) -> None:
    _, body = load(path)
    for line in body.splitlines():
        assert not line.lstrip().startswith("|"), f"tables are not allowed: {line!r}"
        assert not re.search(r"</?[a-zA-Z][^>]*>", line), f"HTML is not allowed: {line!r}"
        assert not re.search(r"\d\s?-\s?\$?\d", line), f"use an en dash for ranges: {line!r}"


def test_key_facts_are_covered() -> None:
    assert len(KEY_FACTS) >= 60
    text = all_guide_text().lower()
    missing = [fact for fact in KEY_FACTS if fact.lower() not in text]
    assert not missing, f"facts missing from the guide: {missing}"


def test_no_sentence_copied_from_the_source_articles() -> None:
    seeds = sorted(SEEDS_DIR.glob("*.txt")) if SEEDS_DIR.is_dir() else []
    if not seeds:
        pytest.skip(f"source articles not found in {SEEDS_DIR}; originality not checked")
    seed_shingles: set[tuple[str, ...]] = set()
    for seed in seeds:
        seed_shingles |= shingles(normalise(seed.read_text(encoding="utf-8")))
    copied = []
    for path in GUIDE_FILES:
        for shingle in sorted(shingles(normalise(path.read_text(encoding="utf-8")))):
            if shingle in seed_shingles:
                copied.append(f"{path.name}: {' '.join(shingle)}")
    assert not copied, "8-word runs copied from a source article:\n" + "\n".join(copied)
