"""Answer-engine benchmark: prints figures, asserts nothing.

    .venv/bin/python benchmarks/ask.py [--questions benchmarks/questions.jsonl]

Measures, on the bundled guide and model:
- index build time (embedding every chunk, writing the FAISS file and manifest);
- time from process start to first answer, for a fresh `mentor ask` process with the index
  already on disk (the normal case) and with no index (first run ever);
- warm `MentorService.ask` latency p50/p95/p99 over every question of the set (each asked
  once, so the query-embedding cache never hits);
- peak RSS of a `mentor ask` process (with and without an index on disk) and of this one.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(pct / 100 * len(ordered) + 0.5) - 1))
    return ordered[rank]


def first_answer(data_dir: Path) -> tuple[float, float]:
    """Wall seconds and peak RSS (MB) of one fresh `mentor ask` process."""
    mentor = shutil.which("mentor", path=str(Path(sys.executable).parent)) or "mentor"
    env = {**os.environ, "MENTOR_DATA_DIR": str(data_dir), "LOG_LEVEL": "WARNING"}
    started = time.perf_counter()
    proc = subprocess.Popen(
        [mentor, "ask", "How long does Phase 2 take?"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - started
    if status != 0:
        raise SystemExit(f"mentor ask failed with status {status}")
    return elapsed, usage.ru_maxrss / 1024


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--questions", default=str(ROOT / "benchmarks" / "questions.jsonl"))
    args = parser.parse_args()
    lines = Path(args.questions).read_text(encoding="utf-8").splitlines()
    questions = [json.loads(line)["q"] for line in lines if line.strip()]

    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        # Child processes first, while this process is still small: on Linux a child's
        # ru_maxrss starts from its parent's RSS at fork, so measuring them after loading
        # the model here would report this process's size instead of theirs.
        cold_no_index, build_rss_mb = first_answer(tmp_path)
        runs = [first_answer(tmp_path) for _ in range(3)]
        cold_runs = [seconds for seconds, _ in runs]
        child_rss_mb = max(rss for _, rss in runs)

        from bot.services.mentor import MentorService
        from knowledge.chunking import chunk_documents
        from knowledge.content import load_guide
        from knowledge.embedder import SentenceTransformerEmbedder
        from knowledge.engine import load_knowledge
        from knowledge.store import IndexStore

        started = time.perf_counter()
        embedder = SentenceTransformerEmbedder()
        model_load = time.perf_counter() - started

        guide = load_guide()
        chunks = chunk_documents(guide.documents)
        started = time.perf_counter()
        IndexStore(tmp_path / "index").build(embedder, guide.content_hash, chunks)
        build = time.perf_counter() - started

        kb = load_knowledge(tmp_path / "index", embedder=embedder)
        mentor = MentorService(kb.retriever, kb.guide)
        mentor.ask("warm-up question about docker")
        latencies = []
        for question in questions:
            started = time.perf_counter()
            mentor.ask(question)
            latencies.append((time.perf_counter() - started) * 1000)

    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"guide: {len(guide.documents)} files, {len(chunks)} chunks")
    print(f"model load (in process): {model_load:.2f} s")
    print(f"index build: {build:.2f} s")
    print(
        f"process start to first answer, index on disk: median {statistics.median(cold_runs):.2f} s"
    )
    print(f"process start to first answer, no index yet: {cold_no_index:.2f} s")
    p50, p95, p99 = (percentile(latencies, p) for p in (50, 95, 99))
    print(
        f"warm ask latency over {len(latencies)} questions: "
        f"p50 {p50:.1f} ms, p95 {p95:.1f} ms, p99 {p99:.1f} ms"
    )
    print(
        f"peak RSS: `mentor ask` with the index on disk {child_rss_mb:.0f} MB, building it first "
        f"{build_rss_mb:.0f} MB; this benchmark process (model + {len(latencies)} asks) "
        f"{rss_mb:.0f} MB"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
