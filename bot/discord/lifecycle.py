"""Stopping on SIGTERM/SIGINT: what `docker stop` and systemd send.

Without a handler SIGTERM kills the process on the spot (exit 143, or 137 once `docker stop`
gives up after 10 s): the gateway is never closed and a delivery being sent is cut mid-way.
With it, the signal starts `bot.close()`: discord.py closes the gateway, the cogs unload
(the community loop gets a short grace to finish the delivery in hand, see CommunityCog)
and `bot.start` returns, so `mentor run` exits 0. The same holds while the first login is
still waiting for the network (`login_until_reachable`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal

import aiohttp
import discord

log = logging.getLogger("mentor.discord")
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


CLOSE_WAIT = 1.0  # after close(), how long connect() may take to notice before it is cancelled


async def serve(client: discord.Client, token: str) -> None:
    """`client.start(token)`, but SIGTERM/SIGINT stop it gracefully and promptly.

    On a signal: `client.close()` (gateway closed, cogs unloaded, deliveries in hand given
    their grace), then whatever `connect()` is still doing (e.g. a reconnect backoff sleep
    of up to a minute after Discord went away) is cancelled. Returns normally then, so the
    process exits 0. Errors from logging in (a rejected token) propagate as before.
    """
    loop = asyncio.get_running_loop()
    stopping = asyncio.Event()
    installed: list[int] = []
    for signum in STOP_SIGNALS:
        try:
            loop.add_signal_handler(signum, stopping.set)
            installed.append(signum)
        except (NotImplementedError, RuntimeError, ValueError):  # not the main thread
            pass

    async def run() -> None:
        if await login_until_reachable(client, token):
            await client.connect()

    runner = asyncio.create_task(run(), name="mentor-gateway")
    stopper = asyncio.create_task(stopping.wait(), name="mentor-stop-signal")
    try:
        done, _ = await asyncio.wait({runner, stopper}, return_when=asyncio.FIRST_COMPLETED)
        if runner in done:
            runner.result()
            return
        log.info("stop signal received: closing the gateway and stopping")
        await client.close()
        try:
            await asyncio.wait_for(asyncio.shield(runner), CLOSE_WAIT)
        except TimeoutError:
            runner.cancel()
        except Exception as exc:  # the connection ending as we close it is expected
            log.debug("gateway ended while stopping: %s", exc)
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await runner
    finally:
        stopper.cancel()
        for signum in installed:
            loop.remove_signal_handler(signum)


LOGIN_FIRST_DELAY = 5.0  # seconds before the second login attempt when Discord is unreachable
LOGIN_MAX_DELAY = 300.0


async def login_until_reachable(client: discord.Client, token: str) -> bool:
    """Log in, retrying with backoff while Discord cannot be reached (network down, DNS not
    ready yet: a container often starts before its network). True once logged in; False
    when the client was closed meanwhile (SIGTERM during the wait). A rejected token or
    any other error is raised at once, as before."""
    delay = LOGIN_FIRST_DELAY
    while True:
        try:
            await client.login(token)
            return True
        except aiohttp.ClientConnectionError as exc:
            log.warning("could not reach Discord (%s); retrying in %.0f s", exc, delay)
            # Drop the half-made HTTP session; closing it closes its connector too, so let
            # the next login make a fresh one (discord.py creates it when MISSING).
            await client.http.close()
            client.http.connector = discord.utils.MISSING
        remaining = delay
        while remaining > 0:  # short naps, so a stop request is seen at once
            if client.is_closed():
                return False
            await asyncio.sleep(min(0.2, remaining))
            remaining -= 0.2
        if client.is_closed():
            return False
        delay = min(delay * 2, LOGIN_MAX_DELAY)
