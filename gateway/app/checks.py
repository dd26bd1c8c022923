"""The probes behind `relaydesk doctor` and the API's health: can this installation work, and what waits?

Each check tries the real thing (connect, log in, write a file) with a short
timeout and returns one line of reason, raising on failure; `attempt` turns
that into an OK / WARN / FAIL row.  Checks never change state: no migrations
are run and nothing is sent.  On a running installation `check_work` says
what waits: parked mail, failed deliveries, work overdue because no worker
takes it (WARN: worth a look, not a broken deployment).
"""

from __future__ import annotations

import asyncio
import os
import socket
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import ColumnElement, func, select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from gateway.app.activity import FAILED_WITHIN, OVERDUE_AFTER
from gateway.core.config import ImapConfig
from gateway.outbound.transports.smtp import probe_smarthost
from storage.db import make_engine
from storage.migrate import current_revision, head_revision
from storage.models import InboxItem, OutboxItem, utcnow

__all__ = ["Check", "NeedsAttention", "attempt", "check_blob_dir", "check_broker", "check_database", "check_imap",
           "check_listen", "check_telegram", "check_work", "probe_smarthost"]

PROBE_TIMEOUT_SECONDS = 10.0


@dataclass(frozen=True)
class Check:
    """One line of the doctor's report; `attention` marks an OK row that still wants a look (WARN)."""

    name: str
    ok: bool
    detail: str
    attention: bool = False


class NeedsAttention(Exception):
    """A probe's finding that is no failure but should be looked at; the message says what."""


def attempt(name: str, probe: Callable[[], str]) -> Check:
    """Run one probe; any exception becomes a FAIL row with its message."""
    try:
        return Check(name, True, probe())
    except NeedsAttention as exc:
        return Check(name, True, str(exc), attention=True)
    except Exception as exc:  # the doctor reports every failure, whatever its type
        return Check(name, False, str(exc).strip() or type(exc).__name__)


def check_database(url: str) -> str:
    """Connects and compares the schema revision with the newest migration."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database and not Path(parsed.database).exists():
        folder = Path(parsed.database).parent
        if not _writable_dir(folder):
            raise RuntimeError(f"{parsed.database} does not exist and {folder} is not writable")
        return f"{parsed.database} will be created and migrated at first start"
    head = head_revision()
    engine = make_engine(url)
    try:
        current = current_revision(engine)
    finally:
        engine.dispose()
    if current != head:
        raise RuntimeError(f"schema at {current or 'nothing'}, newest is {head}: start relaydesk to migrate")
    return f"{engine.dialect.name}, schema at {head}"


def check_work(url: str) -> str:
    """What waits in the database: pending, parked and overdue inbox items, pending and failed deliveries."""
    now = utcnow()
    engine = make_engine(url)
    try:
        with Session(engine) as session:
            def count(model: type[InboxItem] | type[OutboxItem], *where: ColumnElement[bool]) -> int:
                return session.scalar(select(func.count()).select_from(model).where(*where)) or 0

            pending_in = count(InboxItem, InboxItem.status == "pending")
            parked = count(InboxItem, InboxItem.status == "parked")
            overdue_in = count(InboxItem, InboxItem.status == "pending", InboxItem.received_at < now - OVERDUE_AFTER)
            pending_out = count(OutboxItem, OutboxItem.status == "pending")
            overdue_out = count(OutboxItem, OutboxItem.status == "pending",
                                OutboxItem.next_attempt_at < now - OVERDUE_AFTER)
            failed = count(OutboxItem, OutboxItem.status == "failed", OutboxItem.created_at > now - FAILED_WITHIN)
    finally:
        engine.dispose()
    summary = (f"inbox {pending_in} pending, {parked} parked; outbox {pending_out} pending, "
               f"{failed} failed in the last 24 h")
    concerns = [text for number, text in (
        (parked, f"{parked} parked: see `relaydesk inbox --status parked`, then `relaydesk replay`"),
        (overdue_in + overdue_out, f"{overdue_in + overdue_out} item(s) overdue by over "
                                   f"{OVERDUE_AFTER.seconds // 60} min: is a worker running?"),
        (failed, f"{failed} delivery(ies) failed: the tickets' events say why"),
    ) if number]
    if concerns:
        raise NeedsAttention(f"{summary}. " + "; ".join(concerns))
    return summary


def check_blob_dir(root: Path) -> str:
    """The blob directory takes a file (or, before the first start, can be created)."""
    root = Path(root)
    if not root.exists():
        if not _writable_dir(root):
            raise RuntimeError(f"{root} does not exist and cannot be created")
        return f"{root} will be created at first start"
    fd, name = tempfile.mkstemp(dir=root, prefix=".doctor-")
    os.close(fd)
    os.unlink(name)
    return f"{root} writable"


def check_broker(broker: str) -> str:
    if broker == "embedded":
        return "embedded (in-process worker)"
    if broker.startswith(("redis://", "rediss://")):
        import redis

        client = redis.Redis.from_url(broker, socket_timeout=PROBE_TIMEOUT_SECONDS,
                                      socket_connect_timeout=PROBE_TIMEOUT_SECONDS)
        try:
            client.ping()
        finally:
            client.close()
        return "redis answers PING"
    import pika

    params = pika.URLParameters(broker)
    params.socket_timeout = PROBE_TIMEOUT_SECONDS
    params.blocked_connection_timeout = PROBE_TIMEOUT_SECONDS
    params.connection_attempts = 1
    connection = pika.BlockingConnection(params)
    connection.close()
    return "rabbitmq accepts the connection"


def check_listen(host: str, port: int) -> str:
    """The inbound SMTP address: a running gateway answers there, or `serve` will be able to bind it."""
    try:
        with socket.create_connection((host, port), timeout=PROBE_TIMEOUT_SECONDS) as connection:
            connection.settimeout(PROBE_TIMEOUT_SECONDS)
            banner = connection.recv(512).decode("ascii", "replace").strip()
    except OSError:
        banner = ""
    if banner:
        if not banner.startswith("220"):
            raise RuntimeError(f"something that is not an SMTP server holds the port: {banner[:80]!r}")
        return f"a server answers: {banner[:80]}"
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind((host, port))
    return "free; relaydesk serve can listen here"


def check_imap(box: ImapConfig) -> str:
    return asyncio.run(_imap_login(box))


async def _imap_login(box: ImapConfig) -> str:
    """The poller's own connection (TLS or STARTTLS before the password), every folder, the move target."""
    from gateway.channels.imap.connect import ImapRefused, close_quietly, open_session
    from gateway.channels.imap.utf7 import folder_argument

    try:
        client = await open_session(box, PROBE_TIMEOUT_SECONDS)
    except ImapRefused as exc:
        raise RuntimeError(str(exc)) from None
    try:
        missing = []
        for folder in (*box.folders, *box.sent_folders):
            status = await client.examine(folder_argument(folder))
            if status.result != "OK":
                missing.append(folder)
        if missing:
            raise RuntimeError(f"logged in, but cannot open {', '.join(missing)}")
        moved = await _move_target(client, box)
    finally:
        await close_quietly(client)
    return f"logged in, {len(box.folders) + len(box.sent_folders)} folder(s) open{moved}"


async def _move_target(client: Any, box: ImapConfig) -> str:
    """`after_import = "move:X"`: X exists, or is created now (said so); '' for flag/leave."""
    from gateway.channels.imap.connect import response_text
    from gateway.channels.imap.utf7 import folder_argument

    if not box.after_import.startswith("move:"):
        return ""
    target = box.after_import.removeprefix("move:")
    if (await client.examine(folder_argument(target))).result == "OK":
        return f", after_import target {target!r} exists"
    created = await client.create(folder_argument(target))
    if created.result != "OK":
        raise RuntimeError(f"after_import = \"move:{target}\": no such folder, and the server would not create "
                           f"it: {response_text(created.lines)}")
    return f", after_import target {target!r} did not exist: created it"


def check_telegram(base_url: str, token: str) -> str:
    """The Bot API answers getMe for our token (which never appears in a reason)."""
    try:
        response = httpx.get(f"{base_url}{token}/getMe", timeout=PROBE_TIMEOUT_SECONDS)
    except httpx.HTTPError as exc:
        raise RuntimeError(f"{base_url} unreachable: {type(exc).__name__}") from None
    if response.status_code in (401, 404):
        raise RuntimeError(f"{base_url} reachable, but the bot token was rejected ({response.status_code})")
    if response.status_code != 200:
        raise RuntimeError(f"{base_url} answered HTTP {response.status_code}")
    username = (response.json().get("result") or {}).get("username", "?")
    return f"bot @{username}"


def _writable_dir(folder: Path) -> bool:
    while not folder.exists():
        folder = folder.parent
    return os.access(folder, os.W_OK)
