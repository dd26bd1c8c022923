"""Telegram by webhook: the fake Bot API POSTs updates the way Telegram does, until it gets a 2xx."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

import bots.channel
from bots.channel import TelegramChannel
from bots.webhook import SECRET_HEADER, webhook_secret
from gateway.app.processing import process_inbox_item
from gateway.core.runtime import Runtime
from storage.models import InboxItem, Ticket
from tests.bots.fake_bot_api import FakeBotApi, TgUser
from tests.conftest import demo_config
from tests.e2e.harness import free_port, wait_until

ALICE = TgUser(501, "Alice", "Customer")


@pytest.fixture
def api() -> Iterator[FakeBotApi]:
    with FakeBotApi() as running:
        yield running


def webhook_runtime(tmp_path: Path, api: FakeBotApi, mode: str = "webhook") -> tuple[Runtime, str]:
    port = free_port()
    url = f"http://127.0.0.1:{port}/telegram-hook"
    telegram = {"token": api.token, "base_url": api.base_url, "accounts": ["vendor"], "mode": mode,
                "webhook_url": url, "webhook_listen": f"127.0.0.1:{port}"}
    return Runtime.open(demo_config(tmp_path, telegram=telegram)), url


def stored(runtime: Runtime) -> int:
    with runtime.db.transaction() as session:
        return session.scalar(select(func.count()).select_from(InboxItem))


def test_updates_arrive_by_webhook_and_are_acknowledged_after_the_commit(tmp_path: Path, api: FakeBotApi) -> None:
    runtime, url = webhook_runtime(tmp_path, api)
    enqueued: list[int] = []
    channel = TelegramChannel(runtime, enqueue=enqueued.append)
    channel.start()
    try:
        wait_until(lambda: api.call(api.token, "getWebhookInfo", {})[1]["result"]["url"] == url, 15, "webhook set")
        api.user_sends_text(ALICE, "/start vendor")
        api.user_sends_text(ALICE, "The printer jams")
        wait_until(lambda: len(enqueued) == 2, 15, "both updates stored")
        for inbox_id in enqueued:
            process_inbox_item(runtime, inbox_id)
        with runtime.db.transaction() as session:
            assert session.scalars(select(Ticket.subject)).all() == ["The printer jams"]
        assert api.webhook_deliveries == [200, 200] and api.pending_updates() == 0
        with pytest.raises(urllib.error.HTTPError) as refused:  # no secret token: nobody but Telegram
            urllib.request.urlopen(urllib.request.Request(
                url, json.dumps({"update_id": 99, "message": {}}).encode(), {"Content-Type": "application/json"}))
        assert refused.value.code == 403 and stored(runtime) == 2
        for junk in (b"[1, 2]", b"not json", b'{"message": 5}'):  # with the token, but no update
            with pytest.raises(urllib.error.HTTPError) as refused:
                urllib.request.urlopen(urllib.request.Request(url, junk, {
                    "Content-Type": "application/json", SECRET_HEADER: webhook_secret(runtime.config.security.secret)}))
            assert refused.value.code == 400
        assert stored(runtime) == 2
    finally:
        channel.stop()
        runtime.close()


def test_an_update_not_stored_is_answered_500_and_comes_again(tmp_path: Path, api: FakeBotApi, monkeypatch) -> None:
    runtime, _ = webhook_runtime(tmp_path, api)
    real_store = bots.channel.store_update
    calls: list[int] = []

    async def fail_first(runtime_: Runtime, enqueue, bot, update) -> int:  # type: ignore[no-untyped-def]
        calls.append(update.update_id)
        if len(calls) == 1:
            raise OSError("database unreachable")
        return await real_store(runtime_, enqueue, bot, update)

    monkeypatch.setattr(bots.channel, "store_update", fail_first)
    channel = TelegramChannel(runtime, enqueue=lambda _id: None)
    channel.start()
    try:
        api.user_sends_text(ALICE, "/start vendor")
        wait_until(lambda: stored(runtime) == 1, 15, "the update stored on the second delivery")
        assert api.webhook_deliveries == [500, 200] and calls == [1, 1]
    finally:
        channel.stop()
        runtime.close()


def test_polling_removes_a_webhook_left_from_before(tmp_path: Path, api: FakeBotApi) -> None:
    api.call(api.token, "setWebhook", {"url": "http://127.0.0.1:9/hook"})  # nothing listens there
    runtime, _ = webhook_runtime(tmp_path, api, mode="polling")
    enqueued: list[int] = []
    channel = TelegramChannel(runtime, enqueue=enqueued.append, poll_seconds=1)
    channel.start()
    try:
        api.user_sends_text(ALICE, "/start vendor")
        wait_until(lambda: len(enqueued) == 1, 15, "the update fetched by polling")
        assert api.call(api.token, "getWebhookInfo", {})[1]["result"]["url"] == ""
    finally:
        channel.stop()
        runtime.close()
