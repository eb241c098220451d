"""A regular, non-editable install carries everything the engine reads at run time."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

from tests.helpers import seed_export

pytestmark = [pytest.mark.integration, pytest.mark.slow]
ROOT = Path(__file__).resolve().parents[2]


def run(args: list[str], **kwargs: object) -> subprocess.CompletedProcess:
    proc = subprocess.run(args, capture_output=True, text=True, timeout=600, **kwargs)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc


def test_a_built_wheel_installed_in_a_fresh_venv_answers(tmp_path, onnx_export_dir):
    # Build from a copy, so the work tree gets no build/ or *.egg-info.
    source = tmp_path / "src"
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info")
    for name in ("bot", "knowledge", "storage"):
        shutil.copytree(ROOT / name, source / name, ignore=ignore)
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, source / name)
    pip = [sys.executable, "-m", "pip"]
    run(
        [*pip, "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(tmp_path), "."],
        cwd=source,
    )
    (wheel,) = tmp_path.glob("mle_mentor-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "knowledge/glossary.yaml" in names
    assert "knowledge/ranking.json" in names
    assert "knowledge/query_adapter.npy" in names
    assert "knowledge/guide/questions.yaml" in names
    assert "knowledge/guide/out_of_scope.yaml" in names
    assert "knowledge/guide/10-faq.md" in names
    assert "storage/migrations/script.py.mako" in names
    assert "storage/migrations/versions/0001_initial.py" in names

    # A fresh venv with this one package; its dependencies come from the project's venv,
    # through a .pth path entry (not a site dir, so the editable install there is ignored).
    venv = tmp_path / "venv"
    run(
        [getattr(sys, "_base_executable", sys.executable), "-m", "venv", "--without-pip", str(venv)]
    )
    python = venv / "bin" / "python"
    purelib = run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]
    ).stdout.strip()
    Path(purelib, "project_deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    run([*pip, "--python", str(python), "install", "--no-deps", "--no-index", "-q", str(wheel)])

    data = tmp_path / "data"
    seed_export(onnx_export_dir, data / "index")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "MENTOR_GUIDE_DIR")} | {
        "MENTOR_DATA_DIR": str(data),
        "HF_HUB_OFFLINE": "1",
    }
    where = run(
        [str(python), "-c", "import knowledge.query as q; print(q.GLOSSARY_FILE)"],
        cwd=tmp_path,
        env=env,
    ).stdout.strip()
    assert where.startswith(purelib)
    answer = run(
        [str(venv / "bin" / "mentor"), "ask", "How long does the mle roadmap phase 1 take?"],
        cwd=tmp_path,
        env=env,
    )
    assert "2–4 months" in answer.stdout
