"""The `mentor` console script, run as a real process: the contract other tools rely on."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import seed_export

pytestmark = pytest.mark.integration

MENTOR = Path(sys.executable).parent / "mentor"
NASTY_LINES = [
    "How long does Phase 1 take?",
    "",
    "   ",
    "docker " * 3000,  # 21,000 characters
    "what\x00is\x07 MLOps\x1b[31m?",
    "🚀🔥🤖",
    "🚀 is kaggle worth it? 🤖",
    "w\u0336\u0337h\u0338a\u0335t\u0334 is transfer learning",
    "**What** is `MLflow` used for? > quote",
    "@everyone @here what salary can I expect?",
    "What's a good movie to watch tonight?",
    "hi",
]


def run(args: list[str], data_dir: Path, stdin: str = "") -> subprocess.CompletedProcess:
    env = {**os.environ, "MENTOR_DATA_DIR": str(data_dir), "HF_HUB_OFFLINE": "1"}
    return subprocess.run(
        [str(MENTOR), *args], input=stdin, capture_output=True, text=True, env=env, timeout=300
    )


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory, onnx_export_dir):
    """A data dir with the session's ONNX export (exporting again per module costs ~10 s)."""
    data = tmp_path_factory.mktemp("mentor-data")
    seed_export(onnx_export_dir, data / "index")
    return data


def test_jsonl_writes_one_object_per_line_in_order_and_logs_only_to_stderr(data_dir):
    proc = run(["ask", "--jsonl"], data_dir, "".join(line + "\n" for line in NASTY_LINES))
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert len(lines) == len(NASTY_LINES)
    rows = [json.loads(line) for line in lines]  # every stdout line is JSON: no log leaked
    for row, question in zip(rows, NASTY_LINES, strict=True):
        assert set(row) == {"question", "answer", "confident", "sources"}
        assert row["question"] == question
        assert isinstance(row["answer"], str)
        assert row["answer"]
        assert isinstance(row["confident"], bool)
        for source in row["sources"]:
            assert isinstance(source["title"], str)
            assert isinstance(source["section"], str)
            assert isinstance(source["score"], float)
    by_q = dict(zip(NASTY_LINES, rows, strict=True))
    assert by_q["How long does Phase 1 take?"]["confident"]
    assert "2–4 months" in by_q["How long does Phase 1 take?"]["answer"]
    assert not by_q[""]["confident"]
    assert "characters" in by_q["docker " * 3000]["answer"]
    assert not by_q["What's a good movie to watch tonight?"]["confident"]
    assert by_q["🚀 is kaggle worth it? 🤖"]["confident"]
    assert by_q["w\u0336\u0337h\u0338a\u0335t\u0334 is transfer learning"]["confident"]
    assert "@everyone" not in by_q["@everyone @here what salary can I expect?"]["answer"]
    assert "Traceback" not in proc.stderr


def test_jsonl_survives_invalid_utf8_and_a_missing_final_newline(data_dir):
    env = {**os.environ, "MENTOR_DATA_DIR": str(data_dir), "HF_HUB_OFFLINE": "1"}
    proc = subprocess.run(
        [str(MENTOR), "ask", "--jsonl"],
        input=b"is docker needed?\n\xff\xfe broken bytes\nlast line without newline",
        capture_output=True,
        env=env,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    assert len(proc.stdout.decode().splitlines()) == 3


def test_single_question_prints_a_readable_answer(data_dir):
    proc = run(["ask", "Do I need a computer science degree?"], data_dir)
    assert proc.returncode == 0, proc.stderr
    assert not proc.stdout.lstrip().startswith("{")
    assert "degree" in proc.stdout.lower()
    assert "Source:" in proc.stdout


def test_ask_without_a_question_explains_usage(data_dir):
    proc = run(["ask"], data_dir)
    assert proc.returncode == 2
    assert "give a QUESTION" in proc.stderr


def test_bad_phase_is_a_clear_argument_error(data_dir):
    proc = run(["ask", "--phase", "7", "hello"], data_dir)
    assert proc.returncode == 2
    assert "phase must be 0, 1, 2 or 3" in proc.stderr


def test_console_chat_answers_and_quits(data_dir):
    proc = run(["chat"], data_dir, "/help\nWhat is MLflow used for?\n/nonsense\n/quit\n")
    assert proc.returncode == 0, proc.stderr
    assert "/quit" in proc.stdout
    assert "MLflow" in proc.stdout
    assert "Unknown command '/nonsense'" in proc.stdout
    assert "Bye" in proc.stdout


def test_console_progress_commands_share_the_database(data_dir):
    proc = run(
        ["chat"],
        data_dir,
        '/phase 3\n/log 30 docker "compose file"\n/log lots docker\n/progress\n'
        "which tools are used in this phase?\n/quit\n",
    )
    assert proc.returncode == 0, proc.stderr
    assert "You're now in Phase 3" in proc.stdout
    assert "Logged 30m of docker" in proc.stdout
    assert "Minutes must be a whole number" in proc.stdout
    assert "docker: 30m" in proc.stdout
    assert "right where you are" in proc.stdout  # the phase reached the answer engine
    assert (data_dir / "mentor.sqlite3").exists()
    again = run(["chat"], data_dir, "/progress\n/quit\n")
    assert "docker: 30m" in again.stdout  # persisted across processes


def test_db_upgrade_is_idempotent_and_bad_urls_are_explained(data_dir, tmp_path):
    first = run(["db", "upgrade"], data_dir)
    second = run(["db", "upgrade"], data_dir)
    assert first.returncode == second.returncode == 0, first.stderr
    assert "Database is at revision" in second.stdout
    env = {**os.environ, "MENTOR_DATA_DIR": str(tmp_path), "DATABASE_URL": "nonsense://x"}
    bad = subprocess.run(
        [str(MENTOR), "db", "upgrade"], capture_output=True, text=True, env=env, timeout=120
    )
    assert bad.returncode == 1
    assert "nonsense://, which MLE Mentor does not support" in bad.stderr
    assert "Traceback" not in bad.stderr


def test_index_build_reports_what_it_built(data_dir):
    proc = run(["index", "build"], data_dir)
    assert proc.returncode == 0, proc.stderr
    assert "Index built" in proc.stdout
    assert (data_dir / "index" / "index.faiss").exists()
    manifest = json.loads((data_dir / "index" / "manifest.json").read_text())
    assert manifest["model_id"] == "sentence-transformers/all-MiniLM-L6-v2"
    assert manifest["dimension"] == 384
    assert set(manifest["files"]) == {
        "index.faiss",
        "rows.npy",
        "model.onnx",
        "model.onnx.data",
        "tokenizer.json",
    }
    assert manifest["runtime"].startswith("onnxruntime ")
    assert "ONNX model" in proc.stdout


def test_unloadable_model_setting_fails_with_a_clear_message(tmp_path):
    env_dir = tmp_path / "data"
    env = {
        **os.environ,
        "MENTOR_DATA_DIR": str(env_dir),
        "MENTOR_MODEL": "some-org/not-a-cached-model",
        "HF_HUB_OFFLINE": "1",
    }
    proc = subprocess.run(
        [str(MENTOR), "ask", "hello there friend"],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert proc.returncode == 1
    assert "Could not load the embedding model 'some-org/not-a-cached-model' offline" in proc.stderr
    assert "MENTOR_MODEL" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_invalid_setting_is_named_without_a_traceback(tmp_path):
    env = {**os.environ, "MENTOR_DATA_DIR": str(tmp_path), "MENTOR_DEV_GUILD_ID": "nope"}
    proc = subprocess.run(
        [str(MENTOR), "ask", "hi"], capture_output=True, text=True, env=env, timeout=120
    )
    assert proc.returncode == 2
    assert "invalid setting" in proc.stderr
    assert "MENTOR_DEV_GUILD_ID" in proc.stderr
    assert "Traceback" not in proc.stderr


ZALGO_PHASE_1 = (
    "H\u0338\u0321\u032ao\u0336w\u0337 l\u0335o\u0334n\u0336g\u0338 i\u0337s\u0335 "
    "p\u0338h\u0336a\u0337s\u0334e\u0335 1\u0336?"
)


def test_jsonl_keeps_one_object_per_physical_line_and_answers_zalgo_like_plain(data_dir):
    separators = "one\u2028two\u2029three\x85four\x1cfive\x1dsix\x1eseven\x0beight\x0cnine"
    questions = ["How long is phase 1?", ZALGO_PHASE_1, f"docker {separators}?"]
    proc = run(["ask", "--jsonl"], data_dir, "".join(q + "\n" for q in questions))
    assert proc.returncode == 0, proc.stderr
    physical = proc.stdout.split("\n")[:-1]
    assert len(physical) == len(proc.stdout.splitlines()) == len(questions)
    plain, zalgo, odd = (json.loads(line) for line in physical)
    assert odd["question"] == questions[2]  # escaped on the wire, intact once parsed
    assert plain["confident"]
    assert zalgo["confident"]
    assert zalgo["answer"] == plain["answer"]
    assert zalgo["sources"] == plain["sources"]


def test_chat_survives_bytes_that_are_not_utf8(data_dir):
    env = {**os.environ, "MENTOR_DATA_DIR": str(data_dir), "HF_HUB_OFFLINE": "1"}
    proc = subprocess.run(
        [str(MENTOR), "chat"],
        input=b"/log 30 caf\xe9\nhow long is phase 1\xff?\n"
        b"/nudges on \xc2\xb2 9\n/progress\n/quit\n",
        capture_output=True,
        env=env,
        timeout=300,
    )
    out = proc.stdout.decode()
    assert proc.returncode == 0, proc.stderr.decode()
    assert "Logged 30m of caf\ufffd" in out
    assert "Unknown weekday '²'" in out
    assert "caf\ufffd: 30m" in out
    assert "Bye" in out
    assert "Traceback" not in proc.stderr.decode()


@pytest.mark.parametrize("url", ["postgresql://u:secret@localhost/db", "mysql+aiomysql://u@h/db"])
def test_a_missing_driver_is_one_line_naming_the_supported_urls(tmp_path, url):
    env = {**os.environ, "MENTOR_DATA_DIR": str(tmp_path), "DATABASE_URL": url}
    proc = subprocess.run(
        [str(MENTOR), "db", "upgrade"], capture_output=True, text=True, env=env, timeout=120
    )
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    assert "ModuleNotFoundError" not in proc.stderr
    [line] = proc.stderr.strip().splitlines()
    assert "sqlite+aiosqlite:///" in line
    assert "postgresql+asyncpg://" in line
    assert "secret" not in line


def test_a_guide_that_is_not_utf8_is_one_line(tmp_path):
    guide = tmp_path / "guide"
    guide.mkdir()
    (guide / "faq.md").write_bytes(b"---\ntitle: FAQ\n---\n# FAQ\nCaf\xe9 au lait.\n")
    env = {**os.environ, "MENTOR_DATA_DIR": str(tmp_path), "MENTOR_GUIDE_DIR": str(guide)}
    proc = subprocess.run(
        [str(MENTOR), "ask", "hello there"], capture_output=True, text=True, env=env, timeout=300
    )
    assert proc.returncode == 1
    assert "faq.md: not valid UTF-8" in proc.stderr
    assert "Traceback" not in proc.stderr
