"""Inbound Telegram: receive the bot's updates (long polling or webhook) and hand each to intake.

Long polling (the default): Telegram keeps an update until a later
getUpdates call passes an offset beyond it, so the offset is advanced only
after the update is committed: a process killed at any point gets the
unconfirmed updates again, and intake's key turns repeats into no-ops.
Webhook (bots/telegram_webhook.py): the same promise, by answering 200 only
after the commit.  Either way a lost connection or a refused token is
logged and retried with a growing delay.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from functools import partial

from telegram import Bot, Update
from telegram.error import InvalidToken, TelegramError

from bots.intake import UPDATE_KINDS, store_update
from bots.webhook import receive_webhooks
from gateway.channels.channel_thread import ChannelThread, sleep_unless_stopped
from gateway.channels.poller_lease import PollerLease
from gateway.core.runtime import Runtime
from gateway.outbound.transports.telegram import make_bot
from storage.availability import is_unavailable

log = logging.getLogger(__name__)

POLL_SECONDS = 25  # Telegram holds a getUpdates call open this long when there is nothing new
FIRST_RETRY_SECONDS = 1.0
MAX_RETRY_SECONDS = 120.0


class TelegramChannel(ChannelThread):
    """The bot's update loop, on an event loop in a thread of its own."""

    thread_name = "telegram"

    def __init__(self, runtime: Runtime, enqueue: Callable[[int], None],
                 poll_seconds: int = POLL_SECONDS) -> None:
        super().__init__()
        self.runtime = runtime
        self.enqueue = enqueue
        self.poll_seconds = poll_seconds

    async def serve(self, stop: asyncio.Event) -> None:
        config = self.runtime.config.telegram
        assert config is not None
        lease = PollerLease(self.runtime, config.lease_name)
        try:
            await self._serve(stop, lease)
        finally:
            await lease.release()

    async def _serve(self, stop: asyncio.Event, lease: PollerLease) -> None:
        config = self.runtime.config.telegram
        assert config is not None
        delay = FIRST_RETRY_SECONDS
        while not stop.is_set():
            if not await lease.hold():
                await sleep_unless_stopped(stop, min(lease.seconds / 3, self.poll_seconds))
                continue
            try:
                async with make_bot(config) as bot:
                    log.info("telegram: running as @%s (%s)", bot.username, config.mode)
                    delay = FIRST_RETRY_SECONDS
                    if config.mode == "webhook":
                        store = partial(store_update, self.runtime, self.enqueue, bot)
                        await receive_webhooks(bot, config, self.runtime.config.security.secret, store, stop,
                                               lease.hold, lease.seconds / 3)
                    else:
                        await bot.delete_webhook()  # getUpdates is refused while a webhook is set
                        await self._poll(bot, stop, lease)
            except InvalidToken:
                log.error("telegram: the Bot API refused telegram.token; retrying in %.0f s", MAX_RETRY_SECONDS)
                delay = MAX_RETRY_SECONDS
            except (TelegramError, OSError) as exc:
                log.warning("telegram: %s; retrying in %.0f s", exc, delay)
            except Exception as exc:  # a bug must not stop the bot for good
                if is_unavailable(exc):  # the update is fetched again once it can be stored
                    log.warning("telegram: database unavailable; retrying in %.0f s", delay)
                else:
                    log.exception("telegram: unexpected failure; retrying in %.0f s", delay)
            await sleep_unless_stopped(stop, delay)
            delay = min(delay * 2, MAX_RETRY_SECONDS)

    async def _poll(self, bot: Bot, stop: asyncio.Event, lease: PollerLease) -> None:
        offset: int | None = None
        while not stop.is_set() and await lease.hold():
            fetch = asyncio.ensure_future(bot.get_updates(offset=offset, timeout=self.poll_seconds,
                                                          allowed_updates=UPDATE_KINDS))
            stopped = asyncio.ensure_future(stop.wait())
            await asyncio.wait({fetch, stopped}, return_when=asyncio.FIRST_COMPLETED)
            stopped.cancel()
            if not fetch.done():
                fetch.cancel()
                return
            for update in fetch.result():
                await self._store(bot, update)
                offset = update.update_id + 1  # confirmed to Telegram by the next call

    async def _store(self, bot: Bot, update: Update) -> None:
        await store_update(self.runtime, self.enqueue, bot, update)
