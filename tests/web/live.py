"""A live API for tests: the real app on a real socket, with a worker that delivers what it queues.

    with LiveApi(runtime) as api:
        api.client(token).get("/api/v1/tickets")

The API and `/healthz` + `/metrics` are mounted on a bare FastAPI app as the
web desk mounts them, served by uvicorn on a free port in a thread; the
process's task queue is bound to an embedded broker with a worker, so a
write's mail and webhooks really leave (to the test's SMTP sink and HTTP
receiver).
"""

from __future__ import annotations

import threading
import time
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from dramatiq.brokers.stub import StubBroker
from fastapi import FastAPI
from sqlalchemy import func, select

from gateway.app import tasks
from gateway.app.broker import make_worker
from gateway.channels.intake import accept_raw
from gateway.core.api_tokens import create_token
from gateway.core.config import Config, parse_config
from gateway.core.runtime import Runtime
from gateway.web.api import api_app
from gateway.web.monitoring import ops_app
from storage.models import InboxItem, OutboxItem, utcnow
from storage.repositories import account_by_slug
from tests.conftest import demo_config_text
from tests.e2e.harness import free_port, wait_until
from tests.e2e.mail_clients import Outgoing

WEBHOOK_SECRET = "webhook-secret-for-tests"


def web_config(data_dir: Path, db_url: str | None, sink_port: int, webhook_url: str | None = None,
               accounts_terms: dict[str, dict[str, Any]] | None = None,
               **sections: dict[str, Any] | list[Any]) -> Config:
    """The demo world on `db_url`, mail to the sink, quick retries, and a webhook of `vendor` if given."""
    data = tomllib.loads(demo_config_text(data_dir, 0, sink_port))
    if db_url:
        data["storage"]["url"] = db_url
    data["outbound"].update({"retry_base_seconds": 0.3, "max_attempts": 6, "timeout_seconds": 5})
    if webhook_url:
        vendor = next(a for a in data["accounts"] if a["slug"] == "vendor")
        vendor["webhooks"] = [{"url": webhook_url, "secret": WEBHOOK_SECRET}]
    for account in data["accounts"]:
        if account["slug"] in (accounts_terms or {}):
            account["terms"] = accounts_terms[account["slug"]]
    for section, values in sections.items():
        if isinstance(values, list):
            data[section] = values
        else:
            data.setdefault(section, {}).update(values)
    return parse_config(data)


class LiveApi:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        app = FastAPI()
        app.mount("/api/v1", api_app(runtime))
        app.mount("/", ops_app(runtime))
        self._server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning",
                                                     lifespan="off"))
        self._thread = threading.Thread(target=self._server.run, name="live-api", daemon=True)
        self._broker = StubBroker()
        self._worker = make_worker(self._broker, 2)

    def __enter__(self) -> "LiveApi":
        tasks.bind(self.runtime, self._broker)
        self._worker.start()
        self._thread.start()
        wait_until(lambda: self._server.started, 15, "uvicorn to listen")
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=15)
        self._worker.stop(timeout=10_000)
        tasks.unbind()

    # --- callers -----------------------------------------------------------------

    def token(self, account: str, scope: str = "write") -> str:
        with self.runtime.db.transaction() as session:
            return create_token(session, account_by_slug(session, account), f"test {scope}", scope)[1]

    def client(self, token: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=self.base_url, headers=headers, timeout=30)

    # --- mail in -------------------------------------------------------------------

    def receive(self, mail: Outgoing) -> int:
        """Take a mail in as the SMTP listener does (stored, then enqueued)."""
        raw = mail.as_bytes()
        inbox_id = accept_raw(self.runtime, "smtp", raw, {"mail_from": "", "rcpt_tos": list(mail.rcpt_tos)})
        tasks.enqueue_inbox(inbox_id)
        return inbox_id

    def settle(self, timeout: float = 30.0) -> None:
        """Wait until nothing is pending that is due: inbox applied, due deliveries tried."""
        def quiet() -> bool:
            with self.runtime.db.transaction() as session:
                inbox = session.scalar(select(func.count()).select_from(InboxItem).where(InboxItem.status == "pending"))
                outbox = session.scalar(select(func.count()).select_from(OutboxItem).where(
                    OutboxItem.status == "pending", OutboxItem.attempts == 0, OutboxItem.next_attempt_at <= utcnow()))
            return inbox == 0 and outbox == 0
        wait_until(quiet, timeout, "the inbox and the outbox to settle")
        time.sleep(0.2)


def live_api(runtime: Runtime) -> Iterator[LiveApi]:
    with LiveApi(runtime) as api:
        yield api
