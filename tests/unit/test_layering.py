"""Architecture rules, checked on the source: who may import what.

- storage/, knowledge/ and bot/services/ never import discord (they are shared by the
  console, the bot and the tests, and must run without Discord installed or configured);
- storage/ never imports knowledge/ and knowledge/ never imports storage/ (persistence and
  the guide are independent layers; services combine them).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _imports(path: Path) -> set[str]:
    """Top-level package names imported anywhere in the file (incl. inside functions)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
        elif isinstance(node, ast.Call) and getattr(node.func, "id", None) == "__import__":
            if node.args and isinstance(node.args[0], ast.Constant):
                found.add(str(node.args[0].value).split(".")[0])
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "import_module"
            and node.args
            and isinstance(node.args[0], ast.Constant)
        ):
            found.add(str(node.args[0].value).split(".")[0])
    return found


def _files(package: str) -> list[Path]:
    files = sorted((ROOT / package).rglob("*.py"))
    assert files, f"no Python files under {package}/"
    return files


RULES = [
    ("storage", {"discord", "knowledge", "bot"}),
    ("knowledge", {"discord", "storage"}),
    ("bot/services", {"discord"}),
]


@pytest.mark.parametrize(("package", "forbidden"), RULES, ids=[r[0] for r in RULES])
def test_layer_does_not_import_forbidden_packages(package: str, forbidden: set[str]) -> None:
    offenders = {
        str(path.relative_to(ROOT)): sorted(_imports(path) & forbidden)
        for path in _files(package)
        if _imports(path) & forbidden
    }
    assert offenders == {}


def test_the_checker_sees_imports(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text(
        "import discord.ext\nfrom knowledge.content import Guide\n"
        "def f():\n    import storage.models\n    __import__('discord')\n"
        "    importlib.import_module('bot.x')\nfrom . import sibling\n",
        encoding="utf-8",
    )
    assert _imports(sample) == {"discord", "knowledge", "storage", "bot"}
