"""Logging in while Discord is unreachable: retried with backoff, abandoned once closed."""

from __future__ import annotations

import asyncio
import logging
from unittest.mock import AsyncMock, MagicMock

import aiohttp
import discord
import pytest

import bot.discord.lifecycle as lifecycle
from bot.discord.lifecycle import login_until_reachable


def fake_client(outcomes: list[object]) -> MagicMock:
    client = MagicMock(spec=discord.Client)
    client.login = AsyncMock(side_effect=outcomes)
    client.http = MagicMock()
    client.http.close = AsyncMock()
    client.is_closed.return_value = False
    return client


async def test_unreachable_discord_is_retried_with_backoff_until_login_works(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(lifecycle, "LOGIN_FIRST_DELAY", 0.2)
    client = fake_client(
        [aiohttp.ClientConnectionError("dns"), aiohttp.ClientConnectionError("refused"), None]
    )
    with caplog.at_level(logging.WARNING, "mentor.discord"):
        assert await asyncio.wait_for(login_until_reachable(client, "t"), timeout=5) is True
    assert client.login.await_count == 3
    assert client.http.close.await_count == 2  # no half-made HTTP session is leaked
    assert client.http.connector is discord.utils.MISSING  # and the next gets a fresh one
    assert caplog.text.count("could not reach Discord") == 2
    assert "retrying in 0 s" in caplog.text  # 0.2 s, then doubled


async def test_a_stop_during_the_wait_ends_the_retries_at_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(lifecycle, "LOGIN_FIRST_DELAY", 60.0)
    client = fake_client([aiohttp.ClientConnectionError("down")] * 3)
    task = asyncio.create_task(login_until_reachable(client, "t"))
    await asyncio.sleep(0.1)
    client.is_closed.return_value = True  # SIGTERM closed the client
    assert await asyncio.wait_for(task, timeout=1) is False
    assert client.login.await_count == 1


async def test_a_real_client_can_log_in_again_after_an_unreachable_attempt(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Against discord.py's own HTTP client: the retry must not reuse the closed session
    ("Session is closed"). Nothing listens on port 1, so every attempt is refused."""
    monkeypatch.setattr(lifecycle, "LOGIN_FIRST_DELAY", 0.05)
    monkeypatch.setattr(discord.http.Route, "BASE", "http://127.0.0.1:1/api/v10")
    client = discord.Client(intents=discord.Intents.none())
    errors: list[str] = []
    real_login = client.login

    async def login(token: str) -> None:
        try:
            await real_login(token)
        except aiohttp.ClientConnectionError as exc:
            errors.append(type(exc).__name__)
            if len(errors) == 3:
                await client.close()
            raise

    monkeypatch.setattr(client, "login", login)
    assert await asyncio.wait_for(login_until_reachable(client, "t"), timeout=10) is False
    assert errors == ["ClientConnectorError"] * 3


async def test_a_rejected_token_is_not_retried() -> None:
    client = fake_client([discord.LoginFailure("bad token")])
    with pytest.raises(discord.LoginFailure):
        await login_until_reachable(client, "t")
    assert client.login.await_count == 1
