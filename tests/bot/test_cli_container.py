"""What a container (no terminal, maybe a foreign data dir) gets from `mentor`, as processes.

None of these load the embedding model: each refusal must come before any index work.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from unittest.mock import patch

import pytest

import bot.cli
from bot.settings import Settings

MENTOR = Path(sys.executable).parent / "mentor"


def env_for(data_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "DISCORD_TOKEN"}
    return {**env, "MENTOR_DATA_DIR": str(data_dir), "HF_HUB_OFFLINE": "1", **extra}


def test_start_without_a_token_or_a_terminal_exits_1_and_says_why(tmp_path: Path) -> None:
    started = time.monotonic()
    proc = subprocess.run(
        [str(MENTOR), "start"],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        env=env_for(tmp_path / "data"),
        cwd=tmp_path,  # no .env here
        timeout=60,
    )
    assert proc.returncode == 1
    assert "DISCORD_TOKEN is not set" in proc.stderr
    assert "no terminal" in proc.stderr
    assert "mentor chat" in proc.stderr
    assert proc.stdout == ""
    assert not (tmp_path / "data" / "index").exists()  # nothing loaded or built
    assert time.monotonic() - started < 30


def test_start_without_a_token_at_a_terminal_is_still_the_console(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(sys.stdin, "isatty", lambda: True)
    settings = Settings(_env_file=None, mentor_data_dir=tmp_path)  # type: ignore[call-arg]
    with patch.object(bot.cli, "cmd_chat", return_value=0) as chat:
        assert bot.cli.cmd_start(settings, None) == 0  # type: ignore[arg-type]
    chat.assert_called_once()


@pytest.fixture
def foreign_dir() -> Iterator[tuple[Path, list[str]]]:
    """A data dir the test process cannot write in, and the command prefix to be that user.

    As root (CI, containers) permissions do not apply to us, so mentor runs as `nobody`
    in a root-owned directory; otherwise the directory is made read-only for us.
    """
    base = Path(tempfile.mkdtemp(prefix="mentor-foreign-"))
    base.chmod(0o755)
    data = base / "data"
    data.mkdir(mode=0o755)
    if os.geteuid() == 0:
        if not os.access(MENTOR, os.X_OK) or shutil.which("setpriv") is None:
            pytest.skip("needs setpriv to run mentor as another user")
        nobody = pwd.getpwnam("nobody").pw_uid
        prefix = ["setpriv", f"--reuid={nobody}", f"--regid={nobody}", "--clear-groups"]
    else:
        data.chmod(0o555)
        prefix = []
    try:
        yield data, prefix
    finally:
        data.chmod(0o755)
        shutil.rmtree(base)


@pytest.mark.parametrize(
    "command", [["ask", "how long is phase 1?"], ["start"], ["index", "build"]]
)
def test_an_unwritable_data_dir_names_itself_its_owner_and_our_uid(
    foreign_dir: tuple[Path, list[str]], command: list[str]
) -> None:
    data, prefix = foreign_dir
    started = time.monotonic()
    proc = subprocess.run(
        [*prefix, str(MENTOR), *command],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        env=env_for(data),
        cwd="/",
        timeout=60,
    )
    assert proc.returncode == 1, proc.stderr
    message = proc.stderr.strip()
    assert len(message.splitlines()) == 1, message  # one line, no traceback
    assert f"the data directory {data} is not writable" in message
    owner = data.stat().st_uid
    assert f"owned by UID {owner}" in message
    runner = os.geteuid() if not prefix else pwd.getpwnam("nobody").pw_uid
    assert f"mentor runs as UID {runner}" in message
    assert not (data / "index").exists()
    assert time.monotonic() - started < 30  # before any index work (which takes 15-27 s)


def test_health_reads_without_needing_a_writable_data_dir(
    foreign_dir: tuple[Path, list[str]],
) -> None:
    data, prefix = foreign_dir
    proc = subprocess.run(
        [*prefix, str(MENTOR), "health"],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        env=env_for(data, DATABASE_URL="sqlite+aiosqlite://"),
        cwd="/",
        timeout=60,
    )
    assert proc.returncode == 1
    lines = proc.stdout.splitlines()
    assert lines[0].startswith("gateway: FAIL (not connected")
    assert lines[1] == "database: ok (answering)"
    assert lines[2].startswith("index: FAIL")
    assert lines[-1] == "unhealthy"
