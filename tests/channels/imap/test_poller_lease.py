"""Leases: one process at a time polls a mailbox or runs the bot; a lapsed or released lease passes on."""

from __future__ import annotations

import asyncio
import os
import subprocess
import time
from datetime import timedelta

from sqlalchemy import update

from bots.channel import TelegramChannel
from gateway.channels.poller_lease import HOST, PollerLease
from gateway.core.runtime import Runtime
from storage.channel_models import Lease
from storage.models import utcnow
from tests.bots.fake_bot_api import FakeBotApi, TgUser
from tests.channels.imap.conftest import SUPPORT
from tests.channels.imap.test_imap_poller import customer_mail, polling
from tests.conftest import demo_config
from tests.e2e.harness import wait_until


def test_a_lease_is_one_holders_until_it_lapses_or_is_released(runtime: Runtime) -> None:
    async def scenario() -> list[bool]:
        first = PollerLease(runtime, "imap box", seconds=60, holder="host-a:1")
        second = PollerLease(runtime, "imap box", seconds=60, holder="host-b:2")
        steps = [await first.hold(), await second.hold()]
        first._renewed_at = None  # force a renewal round trip
        steps.append(await first.hold())
        with runtime.db.transaction() as session:  # as if host-a had been killed a minute ago
            session.execute(update(Lease).values(expires_at=utcnow() - timedelta(seconds=1)))
        steps.append(await second.hold())
        first._renewed_at = None
        steps.append(await first.hold())
        await second.release()
        steps.append(await first.hold())
        return steps

    assert asyncio.run(scenario()) == [True, False, True, True, False, True]


def _held_elsewhere(runtime: Runtime, name: str, seconds: float) -> None:
    with runtime.db.transaction() as session:
        session.add(Lease(name=name, holder="other-host:1", expires_at=utcnow() + timedelta(seconds=seconds)))


def test_a_folder_another_process_polls_is_left_until_its_lease_lapses(open_runtime, server) -> None:
    runtime = open_runtime(poll_seconds=1)
    _held_elsewhere(runtime, f"imap {SUPPORT}@{server.host}:{server.port}/INBOX", seconds=3)
    server.append(SUPPORT, "INBOX", customer_mail(1))
    with polling(runtime) as enqueued:
        time.sleep(1.5)
        assert enqueued == []  # the other process's turn
        wait_until(lambda: len(enqueued) == 1, 15, "taken over once the lease lapsed")


def test_a_bot_another_process_runs_is_left_alone(tmp_path) -> None:
    with FakeBotApi() as api:
        runtime = Runtime.open(demo_config(tmp_path, telegram={"token": api.token, "base_url": api.base_url}))
        _held_elsewhere(runtime, f"telegram bot {api.bot_id}", seconds=600)
        enqueued: list[int] = []
        channel = TelegramChannel(runtime, enqueue=enqueued.append, poll_seconds=1)
        channel.start()
        try:
            api.user_sends_text(TgUser(501, "Alice"), "/start vendor")
            time.sleep(2)
            assert enqueued == [] and api.pending_updates() == 1
            with runtime.db.transaction() as session:  # the other process stops and gives it back
                session.execute(update(Lease).values(expires_at=utcnow()))
            wait_until(lambda: len(enqueued) == 1, 15, "the update fetched after the hand-over")
        finally:
            channel.stop()
            runtime.close()


def test_a_lease_of_a_process_that_died_on_this_host_is_taken_at_once(runtime: Runtime) -> None:
    """A crashed `serve` restarted on the same machine polls again at once, not two minutes later."""
    dead = subprocess.Popen(["true"])
    dead.wait()
    for holder, expected in ((f"{HOST}:{dead.pid}:x", True), (f"{HOST}:{os.getppid()}:x", False),
                             (f"elsewhere.example:{dead.pid}:x", False)):
        with runtime.db.transaction() as session:
            session.query(Lease).delete()
            session.add(Lease(name="imap box", holder=holder, expires_at=utcnow() + timedelta(seconds=600)))
        assert asyncio.run(PollerLease(runtime, "imap box", holder="me:1:y").hold()) is expected, holder
