"""Answer-engine benchmark: prints figures, asserts nothing.

    .venv/bin/python benchmarks/ask.py [--questions benchmarks/questions.jsonl] [--quick]

Everything is measured in one run, side by side, so the ratios hold on a noisy machine:
- the ONNX export and the index build (`mentor index build --export`), then the torch-free
  `mentor index build` with nothing changed (every vector reused) and from scratch;
- process start to first answer for `mentor ask` (index on disk; index to build), peak RSS
  of those processes and of one holding everything `mentor run` loads (discord.py, the
  database stack, the engine) without connecting;
- warm latency of `MentorService.ask` over every question of the set (each asked once, so
  the query cache never hits) beside the bare ONNX forward pass on the same questions,
  interleaved question by question;
- the vector search alone at 1k, 10k and 100k synthetic rows, flat against HNSW;
- the import cost of faiss, and the old sentence-transformers path as a reference row.
`--quick` skips the 100k-row search and the reference row.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
BIN = Path(sys.executable).parent
QUESTION = "How long does Phase 2 take?"
BOT_PROCESS = """
import asyncio, discord, sqlalchemy
import bot.database, bot.discord.runner
from bot.container import engine_loader
from bot.settings import Settings
from storage.engine import make_engine
from storage.migrate import upgrade
settings = Settings()
async def main():
    engine = make_engine(settings.effective_database_url)
    await upgrade(engine)
    await engine.dispose()
asyncio.run(main())
print(engine_loader(settings)().ask("How long does Phase 2 take?").text[:40])
"""
REFERENCE = """
import sys
from pathlib import Path
from bot.services.mentor import MentorService
from knowledge.embedder import SentenceTransformerEmbedder
from knowledge.engine import load_knowledge
kb = load_knowledge(Path(sys.argv[1]), embedder=SentenceTransformerEmbedder())
print(MentorService(kb.retriever, kb.guide).ask("How long does Phase 2 take?").text[:40])
"""


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(pct / 100 * len(ordered) + 0.5) - 1))
    return ordered[rank]


def timed(args: list[str], data_dir: Path, **env: str) -> tuple[float, float, str]:
    """Wall seconds, peak RSS (MB, from wait4: that child alone) and stdout of one fresh
    process."""
    environment = {
        **os.environ,
        "MENTOR_DATA_DIR": str(data_dir),
        "LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(ROOT),
        **env,
    }
    started = time.perf_counter()
    proc = subprocess.Popen(
        args, env=environment, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT
    )
    out = proc.stdout.read() if proc.stdout else b""
    err = proc.stderr.read() if proc.stderr else b""
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - started
    if status != 0:
        raise SystemExit(f"{' '.join(args)} failed:\n{err.decode()}")
    return elapsed, usage.ru_maxrss / 1024, out.decode()


def row(name: str, value: str, target: str = "") -> None:
    print(f"  {name:<58} {value:<34} {target}")


def retrieval_cost(sizes: list[int]) -> None:
    import numpy as np

    from knowledge.vector_index import VectorIndex

    rng = np.random.default_rng(0)
    dimension, k = 384, 15
    print(
        "vector search alone (synthetic unit vectors around one topic centre per 100 rows, "
        "384 dims, k=15, 200 queries from the same distribution; single queries):"
    )
    for size in sizes:
        # Uniformly random 384-d vectors have no neighbourhoods at all (HNSW recall@15 was
        # 0.24 on them at 100k); embeddings of real text cluster by topic, as these do.
        centres = rng.normal(size=(max(1, size // 100), dimension)).astype(np.float32)
        picks = rng.integers(0, len(centres), size + 200)
        points = centres[picks] + 0.8 * rng.normal(size=(size + 200, dimension)).astype(np.float32)
        points /= np.linalg.norm(points, axis=1, keepdims=True)
        vectors, queries = points[:size], points[size:]
        results = {}
        for kind in ("flat", "hnsw"):
            started = time.perf_counter()
            index = VectorIndex.build(np.arange(size), vectors, kind=kind)
            build = time.perf_counter() - started
            times = []
            for query in queries:
                started = time.perf_counter()
                index.search(query, k)
                times.append((time.perf_counter() - started) * 1000)
            results[kind] = (statistics.median(times), build)
        exact = np.argsort(-(vectors @ queries[:50].T), axis=0)[:k].T
        found = [{i for i, _ in index.search(q, k)} for q in queries[:50]]  # the HNSW index
        recall = np.mean([len(f & set(e.tolist())) / k for f, e in zip(found, exact, strict=True)])
        row(
            f"{size:>7,} rows: flat p50 / hnsw p50 (hnsw build, recall@{k})",
            f"{results['flat'][0]:.3f} / {results['hnsw'][0]:.3f} ms",
            f"({results['hnsw'][1]:.1f} s, {recall:.3f})",
        )


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--questions", default=str(ROOT / "benchmarks" / "questions.jsonl"))
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    lines = Path(args.questions).read_text(encoding="utf-8").splitlines()
    questions = [json.loads(line)["q"] for line in lines if line.strip()]
    mentor = str(BIN / "mentor")
    python = sys.executable

    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        # Child processes first, while this process is small: a child's ru_maxrss starts
        # from its parent's RSS at fork.
        export_wall, export_rss, _ = timed([mentor, "index", "build", "--export"], data)
        manifest = json.loads((data / "index" / "manifest.json").read_text())
        # Unchanged guide and model: every vector is reused from the index just built.
        reuse_wall, _, _ = timed([mentor, "index", "build"], data)
        # From scratch (no manifest, so nothing to reuse): every row embedded again.
        (data / "index" / "manifest.json").unlink()
        build_wall, build_rss, _ = timed([mentor, "index", "build"], data)
        build_seconds = json.loads((data / "index" / "manifest.json").read_text())["build_seconds"]
        (data / "index" / "manifest.json").unlink()
        cold_build, cold_build_rss, _ = timed([mentor, "ask", QUESTION], data)
        runs = [timed([mentor, "ask", QUESTION], data) for _ in range(5)]
        cold = statistics.median(r[0] for r in runs)
        ask_rss = max(r[1] for r in runs)
        _, bot_rss, _ = timed([python, "-c", BOT_PROCESS], data)
        numpy_import = timed([python, "-c", "import numpy"], data)
        faiss_import = timed([python, "-c", "import numpy, faiss"], data)
        reference = None
        if not args.quick:
            reference_args = [python, "-c", REFERENCE, str(Path(tmp) / "st-index")]
            timed(reference_args, data)  # builds its own index
            reference = timed(reference_args, data)

        import numpy as np

        from bot.services.mentor import MentorService
        from knowledge.engine import load_knowledge
        from knowledge.onnx_embedder import OnnxEmbedder
        from knowledge.query import QueryExpander, load_glossary

        kb = load_knowledge(data / "index")
        service = MentorService(kb.retriever, kb.guide)
        embedder = kb.embedder
        assert isinstance(embedder, OnnxEmbedder)
        session = embedder._session  # the bare encoder: the same session, forward pass only
        two_threads = OnnxEmbedder.load(
            data / "index", model_id=embedder.model_id, threads=2
        )._session
        expander = QueryExpander(load_glossary())
        feeds = []
        for question in questions:
            ids = np.asarray([embedder.encode_tokens(expander.expand(question))], np.int64)
            feeds.append(
                {"input_ids": ids, "attention_mask": np.ones_like(ids), "token_type_ids": ids * 0}
            )
        service.ask("warm-up question about docker")
        for feed in feeds[:5]:
            session.run(None, feed)
            two_threads.run(None, feed)
        bare, bare2, product = [], [], []
        for question, feed in zip(questions, feeds, strict=True):
            started = time.perf_counter()
            session.run(None, feed)
            bare.append((time.perf_counter() - started) * 1000)
            started = time.perf_counter()
            two_threads.run(None, feed)
            bare2.append((time.perf_counter() - started) * 1000)
            started = time.perf_counter()
            service.ask(question)
            product.append((time.perf_counter() - started) * 1000)

    print(f"guide: {manifest['chunk_count']} chunks, {manifest['row_count']} vectors")
    print(f"model: {manifest['model_id']} ({manifest['exporter']}; {manifest['runtime']})")
    print(f"{'':2}{'figure':<58} {'measured':<34} target")
    row("ONNX export + index build (`index build --export`), wall", f"{export_wall:.2f} s")
    row("index build from scratch, torch-free (`index build`)", f"{build_wall:.2f} s", "≤ 10 s")
    row("  of which embedding + writing (manifest build_seconds)", f"{build_seconds:.2f} s")
    row("index build, nothing changed (every vector reused)", f"{reuse_wall:.2f} s")
    row("start to first answer, index on disk (median of 5)", f"{cold:.2f} s", "≤ 1.0 s")
    row("start to first answer, index to build (export on disk)", f"{cold_build:.2f} s")
    p50, p95, p99 = (percentile(product, p) for p in (50, 95, 99))
    e50, e99 = percentile(bare, 50), percentile(bare, 99)
    row(
        f"warm MentorService.ask over {len(product)} questions",
        f"p50 {p50:.2f}, p95 {p95:.2f}, p99 {p99:.2f} ms",
    )
    row("bare ONNX forward pass, same questions, 1 thread", f"p50 {e50:.2f}, p99 {e99:.2f} ms")
    row("bare ONNX forward pass, same questions, 2 threads", f"p50 {percentile(bare2, 50):.2f} ms")
    row("product p50 − encoder p50", f"{p50 - e50:+.2f} ms", "≤ +2 ms")
    row("product p99 / p50", f"{p99 / p50:.2f}", "≤ 2")
    row("peak RSS `mentor ask`, index on disk", f"{ask_rss:.0f} MB", "≤ 250 MB")
    row("peak RSS `mentor ask`, building the index", f"{cold_build_rss:.0f} MB")
    row("peak RSS `mentor index build --export` (torch)", f"{export_rss:.0f} MB")
    row("peak RSS `mentor index build` (torch-free)", f"{build_rss:.0f} MB")
    row("peak RSS, everything `mentor run` loads (no gateway)", f"{bot_rss:.0f} MB", "≤ 300 MB")
    row(
        "import numpy / numpy + faiss (process wall, peak RSS)",
        f"{numpy_import[0]:.2f} s {numpy_import[1]:.0f} MB / "
        f"{faiss_import[0]:.2f} s {faiss_import[1]:.0f} MB",
    )
    if reference:
        row(
            "reference: sentence-transformers on torch, first answer",
            f"{reference[0]:.2f} s, {reference[1]:.0f} MB (index on disk)",
        )
    retrieval_cost([1_000, 10_000] if args.quick else [1_000, 10_000, 100_000])
    return 0


if __name__ == "__main__":
    sys.exit(main())
