"""storage.models is a package: its __init__ must import every module of it.

`Base.metadata` holds only the tables of imported modules. A model module that the package
forgets to import would drop out of Alembic's view (env.py imports `storage.models`) and out
of `member_scoped_tables` (forget-me), without any error.
"""

from __future__ import annotations

import ast
import pkgutil
from pathlib import Path

import storage.models

PACKAGE = Path(storage.models.__file__).parent


def test_init_imports_every_module_of_the_package() -> None:
    tree = ast.parse((PACKAGE / "__init__.py").read_text(encoding="utf-8"))
    imported = {
        node.module
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0
    }
    modules = {f"storage.models.{m.name}" for m in pkgutil.iter_modules([str(PACKAGE)])}
    assert modules
    assert modules - imported == set()
