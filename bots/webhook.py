"""Inbound Telegram by webhook: Telegram POSTs each update; the answer 200 comes only after the commit.

Telegram delivers an update again until the webhook answers 2xx, so an
update is acknowledged exactly when it is durable, as with every channel.
The endpoint checks the secret token Telegram sends with each request (set
with setWebhook, derived from security.secret), so nobody else can post
updates.  TLS is for the reverse proxy in front: `webhook_listen` is the
local address it forwards to.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

from aiohttp import web
from telegram import Bot, Update

from bots.intake import UPDATE_KINDS
from gateway.channels.channel_thread import sleep_unless_stopped
from gateway.core.config import TelegramConfig, host_port
from storage.availability import is_unavailable

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
MAX_UPDATE_BYTES = 1024 * 1024


def webhook_secret(secret: str) -> str:
    """The token Telegram must send with every update (letters and digits, as setWebhook allows)."""
    return hmac.new(secret.encode(), b"telegram-webhook", hashlib.sha256).hexdigest()


async def receive_webhooks(bot: Bot, config: TelegramConfig, secret: str,
                           store: Callable[[Update], Awaitable[int]], stop: asyncio.Event,
                           still_ours: Callable[[], Awaitable[bool]], check_every: float) -> None:
    """Serve the webhook endpoint and register it with Telegram until `stop` is set or the lease is lost."""
    token = webhook_secret(secret)

    async def handle(request: web.Request) -> web.Response:
        if not hmac.compare_digest(request.headers.get(SECRET_HEADER, ""), token):
            log.warning("telegram webhook: a request without the right secret token from %s", request.remote)
            return web.Response(status=403)
        try:
            update = Update.de_json(await request.json(), bot)
        except (ValueError, TypeError, KeyError, AttributeError):
            update = None
        if update is None:
            return web.Response(status=400, text="not a Telegram update")
        try:
            await store(update)
        except Exception as exc:  # not stored: Telegram delivers it again later
            if is_unavailable(exc):  # the outage is logged once, by the database
                log.warning("telegram webhook: update %s not stored, the database is unavailable; Telegram will "
                            "send it again", update.update_id)
            else:
                log.exception("telegram webhook: update %s not stored; Telegram will send it again", update.update_id)
            return web.Response(status=500)
        return web.Response(status=200)

    app = web.Application(client_max_size=MAX_UPDATE_BYTES)
    app.router.add_post(urlsplit(config.webhook_url or "").path or "/", handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    host, port = host_port(config.webhook_listen)
    await web.TCPSite(runner, host, port).start()
    try:
        await bot.set_webhook(config.webhook_url or "", secret_token=token, allowed_updates=UPDATE_KINDS)
        log.info("telegram: webhook %s, listening on %s", config.webhook_url, config.webhook_listen)
        while not stop.is_set() and await still_ours():
            await sleep_unless_stopped(stop, check_every)
    finally:
        await runner.cleanup()
