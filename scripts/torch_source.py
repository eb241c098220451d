"""Chooses where scripts/bootstrap installs torch from, so that it is a CPU build everywhere.

`pip install torch==2.13.0` from PyPI is the CUDA build on Linux (29 wheels, 2.74 GB). In
order of preference:

1. `MENTOR_TORCH_INDEX`, when set: that package index (e.g. a mirror of the PyTorch CPU
   index, or `http://127.0.0.1:8000/` serving a wheel directory to a container build);
2. a CPU wheel pip can find without any index: the find-links pip is configured with (our
   machines keep one in a local wheel directory), checked with a dry run under `--no-index`,
   and taken only if its version carries the `+cpu` label;
3. the PyTorch project's CPU wheel index.

Prints the pip arguments on stdout, one per line, and which source it chose on stderr.
Run with the virtualenv's interpreter: `.venv/bin/python scripts/torch_source.py`.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass

TORCH_VERSION = "2.13.0"
CPU_INDEX = "https://download.pytorch.org/whl/cpu"
OVERRIDE = "MENTOR_TORCH_INDEX"


@dataclass(frozen=True)
class TorchSource:
    description: str
    pip_args: tuple[str, ...]


def local_cpu_wheel(python: str = sys.executable, env: Mapping[str, str] | None = None) -> str:
    """The exact version (e.g. "2.13.0+cpu") of a CPU torch wheel pip finds with no index,
    or "" when there is none. A dry run: nothing is downloaded or installed."""
    proc = subprocess.run(
        [
            python,
            "-m",
            "pip",
            "install",
            "--dry-run",
            "--no-index",
            "--no-deps",
            "--ignore-installed",
            "--quiet",
            "--report",
            "-",
            f"torch=={TORCH_VERSION}",
        ],
        capture_output=True,
        text=True,
        env=dict(env) if env is not None else None,
        check=False,
    )
    if proc.returncode != 0:
        return ""
    try:
        report = json.loads(proc.stdout)
    except ValueError:
        return ""
    for item in report.get("install", []):
        version = str(item.get("metadata", {}).get("version", ""))
        if item.get("metadata", {}).get("name", "").lower() == "torch" and "+cpu" in version:
            return version
    return ""


def choose(env: Mapping[str, str], find_local: Callable[[], str]) -> TorchSource:
    override = env.get(OVERRIDE, "").strip()
    if override:
        return TorchSource(
            f"the index in {OVERRIDE} ({override})",
            ("--index-url", override, f"torch=={TORCH_VERSION}"),
        )
    local = find_local()
    if local:
        # Pinning the exact local version keeps pip from preferring any other build.
        return TorchSource(
            f"a local CPU wheel pip finds without an index (torch {local})", (f"torch=={local}",)
        )
    return TorchSource(
        f"the PyTorch CPU index ({CPU_INDEX})",
        ("--index-url", CPU_INDEX, f"torch=={TORCH_VERSION}"),
    )


def main() -> int:
    source = choose(os.environ, local_cpu_wheel)
    print(
        f"[bootstrap] torch {TORCH_VERSION} (CPU build) from {source.description}", file=sys.stderr
    )
    print("\n".join(source.pip_args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
