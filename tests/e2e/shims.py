"""Test-only adapters between discord.py 2.7 and discord-digital-twin. Never used by `bot/`.

Each shim papers over one documented gap of the twin; nothing here changes what the bot
does, only where its HTTP and WebSocket traffic goes and how the twin's replies are read:

1. `Route.BASE` and `DiscordWebSocket.DEFAULT_GATEWAY` point at the twin on 127.0.0.1
   (REST through twin.mjs's front door, a proxy that records request bodies and can
   inject HTTP faults).
2. The twin has no `GET /oauth2/applications/@me`; application info comes from
   `GET /applications/@me`, which lacks `owner` (the bot user stands in).
3. Interaction callbacks answer `204 No Content` where discord.py 2.7 (which sends
   `?with_response=1`) expects an `InteractionCallbackResponse` JSON body; an empty reply is
   turned into the minimal body Discord would send.
4. The twin sends every MESSAGE_CREATE with `mentions: []`; Discord fills it from the
   `<@id>` mentions in the content, so we do that before discord.py parses the message.
5. The twin stores `default_member_permissions` in a string column and rejects the integer
   discord.py sends (Discord accepts both); synced command payloads carry it as a string.
6. The twin reads every request body as JSON and so rejects multipart uploads (file
   attachments such as the /progress chart). Multipart requests are sent as their JSON
   part only, and the dropped files are recorded in `UPLOADS` for the tests to inspect.
7. The twin's READY has no `shard` field, which discord.py's `AutoShardedBot` reads (the
   bot is sharded). The twin itself serves one shard (it ignores IDENTIFY's `shard` and
   sends every guild and event to every connection), so a READY without `shard` is
   completed with `[0, 1]`. A READY that carries `shard` is left alone: twin.mjs started
   with TWIN_SHARD_COUNT > 1 routes the gateway by shard (shard_router.mjs) and sends each
   connection its own `[id, count]`, which the two-shard e2e run relies on.

Modals need no shim: the twin stores a type-9 callback's form like any other response,
and its `simulateModalSubmit` (exposed by twin.mjs as `submitModal`) sends a real
INTERACTION_CREATE of type 5 over the gateway, which discord.py routes through its own
modal store, as with Discord.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from unittest.mock import patch

import yarl
from discord.gateway import DiscordWebSocket
from discord.http import HTTPClient, Route
from discord.state import AutoShardedConnectionState, ConnectionState
from discord.webhook.async_ import AsyncWebhookAdapter

_MENTION = re.compile(r"<@!?(\d+)>")


@dataclass
class Upload:
    route: str
    filename: str
    data: bytes


UPLOADS: list[Upload] = []


async def _application_info(self: HTTPClient) -> dict[str, Any]:
    data = await self.request(Route("GET", "/applications/@me"))
    if "owner" not in data:
        data["owner"] = await self.request(Route("GET", "/users/@me"))
    return data


def _fill_mentions(original: Any) -> Any:
    def parse_message_create(self: ConnectionState, data: dict[str, Any]) -> None:
        if not data.get("mentions"):
            mentioned = []
            for user_id in dict.fromkeys(_MENTION.findall(data.get("content") or "")):
                user = self.get_user(int(user_id))
                if user is not None:
                    mentioned.append(user._to_minimal_user_json())
            data["mentions"] = mentioned
        original(self, data)

    return parse_message_create


def _interaction_response(original: Any) -> Any:
    async def create_interaction_response(
        self: AsyncWebhookAdapter, interaction_id: int, token: str, **kwargs: Any
    ) -> dict[str, Any]:
        data = await original(self, interaction_id, token, **kwargs)
        if data:
            return data
        return {"interaction": {"id": str(interaction_id), "type": 2}}

    return create_interaction_response


def _json_only(original: Any, form_key: str, json_key: str) -> Any:
    """Send a multipart request as its JSON part; record the files it carried."""

    async def request(self: Any, route: Route, *args: Any, **kwargs: Any) -> Any:
        files = kwargs.get("files")
        if files:
            parts = kwargs.pop(form_key, None) or []
            payload = next((p["value"] for p in parts if p.get("name") == "payload_json"), None)
            for file in files:
                file.reset()
                UPLOADS.append(Upload(route.path, file.filename or "", file.fp.read()))
            kwargs["files"] = None
            if payload is not None:
                kwargs[json_key] = json.loads(payload)
        return await original(self, route, *args, **kwargs)

    return request


def _string_permissions(original: Any) -> Any:
    def bulk_upsert(self: HTTPClient, *args: Any, payload: list[dict[str, Any]]) -> Any:
        for command in payload:
            value = command.get("default_member_permissions")
            if isinstance(value, int):
                command["default_member_permissions"] = str(value)
        return original(self, *args, payload=payload)

    return bulk_upsert


def _shard_in_ready(original: Any) -> Any:
    """Only fill `shard` when the twin sent none: a routed twin's value must win."""

    def parse_ready(self: AutoShardedConnectionState, data: dict[str, Any]) -> None:
        data.setdefault("shard", [0, 1])
        original(self, data)

    return parse_ready


@contextmanager
def twin_shims(rest_url: str, gateway_url: str) -> Iterator[None]:
    """Apply every shim for the duration of the block (the e2e fixture's lifetime)."""
    with (
        patch.object(Route, "BASE", rest_url.rstrip("/") + "/v10"),
        patch.object(DiscordWebSocket, "DEFAULT_GATEWAY", yarl.URL(gateway_url)),
        patch.object(HTTPClient, "application_info", _application_info),
        patch.object(
            AutoShardedConnectionState,
            "parse_ready",
            _shard_in_ready(AutoShardedConnectionState.parse_ready),
        ),
        patch.object(
            ConnectionState,
            "parse_message_create",
            _fill_mentions(ConnectionState.parse_message_create),
        ),
        patch.object(
            AsyncWebhookAdapter,
            "create_interaction_response",
            _interaction_response(AsyncWebhookAdapter.create_interaction_response),
        ),
        patch.object(
            HTTPClient,
            "bulk_upsert_guild_commands",
            _string_permissions(HTTPClient.bulk_upsert_guild_commands),
        ),
        patch.object(
            HTTPClient,
            "bulk_upsert_global_commands",
            _string_permissions(HTTPClient.bulk_upsert_global_commands),
        ),
        patch.object(HTTPClient, "request", _json_only(HTTPClient.request, "form", "json")),
        patch.object(
            AsyncWebhookAdapter,
            "request",
            _json_only(AsyncWebhookAdapter.request, "multipart", "payload"),
        ),
    ):
        yield
