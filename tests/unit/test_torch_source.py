"""scripts/torch_source.py: bootstrap's choice of where a CPU torch comes from."""

from __future__ import annotations

import importlib.util
import os
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("torch_source", ROOT / "scripts" / "torch_source.py")
assert _spec is not None
assert _spec.loader is not None
torch_source = importlib.util.module_from_spec(_spec)
sys.modules["torch_source"] = torch_source
_spec.loader.exec_module(torch_source)


def test_a_local_cpu_wheel_is_pinned_exactly():
    source = torch_source.choose({}, lambda: "2.13.0+cpu")
    assert source.pip_args == ("torch==2.13.0+cpu",)
    assert "local CPU wheel" in source.description


def test_without_a_local_wheel_the_pytorch_cpu_index_is_used():
    source = torch_source.choose({}, lambda: "")
    assert source.pip_args == ("--index-url", torch_source.CPU_INDEX, "torch==2.13.0")
    assert "PyTorch CPU index" in source.description


def test_the_environment_variable_overrides_both():
    def never() -> str:
        raise AssertionError("the override must not probe pip")

    env = {"MENTOR_TORCH_INDEX": "http://127.0.0.1:8000/simple"}
    source = torch_source.choose(env, never)
    assert source.pip_args == ("--index-url", "http://127.0.0.1:8000/simple", "torch==2.13.0")
    assert "MENTOR_TORCH_INDEX" in source.description


def fake_wheel(directory: Path, version: str) -> None:
    """A minimal valid wheel: enough metadata for pip to resolve it in a dry run."""
    name = f"torch-{version}.dist-info"
    path = directory / f"torch-{version}-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as wheel:
        wheel.writestr(
            f"{name}/METADATA", f"Metadata-Version: 2.1\nName: torch\nVersion: {version}\n"
        )
        wheel.writestr(
            f"{name}/WHEEL",
            "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
        )
        wheel.writestr(f"{name}/RECORD", "")


def pip_env(find_links: Path) -> dict[str, str]:
    """Only `find_links` for pip: no config file, no index, no constraints of this machine."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")}
    return {**env, "PIP_CONFIG_FILE": os.devnull, "PIP_FIND_LINKS": str(find_links)}


@pytest.mark.slow
@pytest.mark.parametrize(
    ("wheels", "expected"),
    [(["2.13.0+cpu"], "2.13.0+cpu"), ([], ""), (["2.13.0"], "")],
    ids=["local-cpu-wheel", "no-wheel", "only-a-non-cpu-wheel"],
)
def test_the_real_pip_probe_finds_only_a_local_cpu_wheel(tmp_path, wheels, expected):
    for version in wheels:
        fake_wheel(tmp_path, version)
    found = torch_source.local_cpu_wheel(sys.executable, env=pip_env(tmp_path))
    assert found == expected
    source = torch_source.choose({}, lambda: found)
    if expected:
        assert source.pip_args == (f"torch=={expected}",)
    else:
        assert torch_source.CPU_INDEX in source.pip_args
