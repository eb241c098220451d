"""Architecture rules, checked on the source: who may import what.

Rules name module prefixes, not only top-level packages, so that layers inside `bot` are
held apart too:
- storage/, knowledge/ and bot/services/ never import discord or the Discord adapter (they
  are shared by the console, the bot and the tests, and must run without Discord);
- storage/ never imports knowledge/ and knowledge/ never imports storage/ (persistence and
  the guide are independent layers; services combine them);
- services never import the console or the Discord adapter, and the two front ends never
  import each other: whatever both need belongs in a service.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _imports(path: Path) -> set[str]:
    """Full dotted module names imported anywhere in the file (incl. inside functions).

    `from bot.services import mentor` yields both `bot.services` and `bot.services.mentor`,
    since the name imported may be a module.
    """
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Call) and getattr(node.func, "id", None) == "__import__":
            if node.args and isinstance(node.args[0], ast.Constant):
                found.add(str(node.args[0].value))
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "import_module"
            and node.args
            and isinstance(node.args[0], ast.Constant)
        ):
            found.add(str(node.args[0].value))
    return found


def _forbidden(imported: set[str], prefixes: set[str]) -> list[str]:
    """The imported modules that are, or live under, one of the forbidden prefixes."""
    return sorted(
        name
        for name in imported
        for prefix in prefixes
        if name == prefix or name.startswith(prefix + ".")
    )


def _files(package: str) -> list[Path]:
    files = sorted((ROOT / package).rglob("*.py"))
    assert files, f"no Python files under {package}/"
    return files


RULES = [
    ("storage", {"discord", "knowledge", "bot"}),
    ("knowledge", {"discord", "storage", "bot"}),
    ("bot/services", {"discord", "bot.discord", "bot.console", "bot.cli"}),
    ("bot/discord", {"bot.console", "bot.cli"}),
    ("bot/console", {"discord", "bot.discord"}),
]


@pytest.mark.parametrize(("package", "forbidden"), RULES, ids=[r[0] for r in RULES])
def test_layer_does_not_import_forbidden_modules(package: str, forbidden: set[str]) -> None:
    offenders = {
        str(path.relative_to(ROOT)): _forbidden(_imports(path), forbidden)
        for path in _files(package)
        if _forbidden(_imports(path), forbidden)
    }
    assert offenders == {}


def test_only_the_discord_package_imports_discord() -> None:
    outside = [
        str(path.relative_to(ROOT))
        for package in ("bot", "knowledge", "storage")
        for path in _files(package)
        if not path.is_relative_to(ROOT / "bot" / "discord")
        and _forbidden(_imports(path), {"discord"})
    ]
    assert outside == []


def test_the_checker_sees_imports(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text(
        "import discord.ext\nfrom knowledge.content import Guide\n"
        "def f():\n    import storage.models\n    __import__('discord')\n"
        "    importlib.import_module('bot.x')\nfrom . import sibling\n",
        encoding="utf-8",
    )
    assert _imports(sample) == {
        "discord.ext",
        "knowledge.content",
        "knowledge.content.Guide",
        "storage.models",
        "discord",
        "bot.x",
    }


def test_prefixes_match_whole_module_names() -> None:
    imported = {"bot.console.progress", "bot.consoles", "discord", "discordant"}
    assert _forbidden(imported, {"bot.console", "discord"}) == ["bot.console.progress", "discord"]
