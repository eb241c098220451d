"""`mentor health` against a real bot process, and SIGTERM ending that process cleanly.

The bot runs as `mentor run` in a subprocess (tests/e2e/bot_process.py) against the twin:
healthy while connected; unhealthy once the twin (Discord) stops; SIGTERM closes the
gateway and exits 0 within 5 s, whether connected or retrying after losing Discord.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from bot.health import heartbeat_path, read_heartbeat
from tests.e2e.conftest import ROOT, Twin, launch_twin
from tests.helpers import write_guide

pytestmark = pytest.mark.asyncio(loop_scope="package")
STOP_LIMIT = 5.0


def bot_env(twin: Twin, root: Path) -> dict[str, str]:
    guide = root / "guide"
    if not guide.exists():
        write_guide(guide)
    return {
        **{k: v for k, v in os.environ.items() if k != "DATABASE_URL"},
        "MENTOR_DATA_DIR": str(root / "data"),
        "MENTOR_GUIDE_DIR": str(guide),
        "DISCORD_TOKEN": twin.info["botToken"],
        "MENTOR_DEV_GUILD_ID": str(twin.guild_id),
        "HF_HUB_OFFLINE": "1",
    }


def health(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """`mentor health` as the HEALTHCHECK runs it: a separate process."""
    return subprocess.run(
        [sys.executable, "-m", "bot", "health"],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=60,
    )


@asynccontextmanager
async def bot_process(
    twin: Twin,
    root: Path,
    *,
    env: dict[str, str] | None = None,
    front_url: str | None = None,
) -> AsyncIterator[asyncio.subprocess.Process]:
    """`mentor run` in a subprocess logging to root/bot.log; killed if still running at the
    end. `env` replaces `bot_env`'s, `front_url` the twin's REST front door (several
    processes each take a tagged one: `Twin.front_url_for`)."""
    env = env or bot_env(twin, root)  # bot_env also creates `root`
    log = (root / "bot.log").open("wb")
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.e2e.bot_process",
        front_url or twin.info["frontUrl"],
        twin.info["gatewayUrl"],
        cwd=ROOT,
        env=env,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=log,
        stderr=log,
    )
    try:
        yield process
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
        log.close()


async def wait_healthy(root: Path, process: asyncio.subprocess.Process) -> None:
    path = heartbeat_path(root / "data")
    for _ in range(600):
        beat = read_heartbeat(path)
        if (
            beat
            and beat.index_loaded
            and beat.database
            and beat.shards
            and all(beat.shards.values())
        ):
            return
        if process.returncode is not None:
            break
        await asyncio.sleep(0.1)
    log = (root / "bot.log").read_text(errors="replace")[-3000:]
    raise AssertionError(f"the bot never reported itself connected and loaded:\n{log}")


async def stop(process: asyncio.subprocess.Process) -> tuple[int, float]:
    started = time.monotonic()
    process.send_signal(signal.SIGTERM)
    code = await asyncio.wait_for(process.wait(), timeout=30)
    took = time.monotonic() - started
    print(f"SIGTERM to exit {code}: {took:.2f} s")  # the figure, visible with -s
    return code, took


async def test_healthy_while_connected_and_sigterm_exits_0_quickly(
    twin: Twin, tmp_path: Path
) -> None:
    env = bot_env(twin, tmp_path)
    async with bot_process(twin, tmp_path) as process:
        await wait_healthy(tmp_path, process)
        proc = await asyncio.to_thread(health, env)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        lines = proc.stdout.splitlines()
        assert lines[0].startswith("gateway: ok (connected, 1 shard(s)")
        assert lines[1:] == ["database: ok (answering)", "index: ok (loaded)", "healthy"]

        code, took = await stop(process)
    log = (tmp_path / "bot.log").read_text(errors="replace")
    assert code == 0, log[-3000:]
    assert took < STOP_LIMIT, f"took {took:.2f} s"
    assert "stop signal received" in log
    assert "Traceback" not in log
    # The last beat says the gateway is closed, so a HEALTHCHECK right after says so too.
    after = await asyncio.to_thread(health, env)
    assert after.returncode == 1
    assert after.stdout.startswith("gateway: FAIL (not connected: shard(s) 0 of 1)")


async def test_unhealthy_once_discord_goes_away_and_sigterm_still_exits_0(
    tmp_path: Path,
) -> None:
    async with launch_twin(tmp_path / "own-twin.log") as own_twin:
        env = bot_env(own_twin, tmp_path)
        process_cm = bot_process(own_twin, tmp_path)
        process = await process_cm.__aenter__()
        try:
            await wait_healthy(tmp_path, process)
            assert (await asyncio.to_thread(health, env)).returncode == 0
            twin_env = env
        except BaseException:
            await process_cm.__aexit__(None, None, None)
            raise
    # The twin has stopped (its block ended): the bot loses the gateway and keeps retrying.
    try:
        for _ in range(200):
            proc = await asyncio.to_thread(health, twin_env)
            if proc.returncode == 1:
                break
            await asyncio.sleep(0.1)
        assert proc.returncode == 1, proc.stdout
        assert proc.stdout.startswith("gateway: FAIL (not connected")
        assert "database: ok (answering)" in proc.stdout
        assert process.returncode is None  # still running, reconnecting
        code, took = await stop(process)
        assert code == 0, (tmp_path / "bot.log").read_text(errors="replace")[-3000:]
        assert took < STOP_LIMIT, f"took {took:.2f} s"
    finally:
        await process_cm.__aexit__(None, None, None)
