"""What every route of the desk does around its work: a transaction, the viewer, delivery, redirects."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import RedirectResponse
from sqlalchemy.orm import Session

from gateway.core.runtime import Runtime
from gateway.app.tasks import enqueue_outbox
from gateway.web.forwarded import client_address, counted_as
from storage.models import OutboxItem


def runtime_of(request: Request) -> Runtime:
    return request.app.state.runtime


@contextmanager
def transaction(request: Request) -> Iterator[Session]:
    """One unit of work for the request: committed when the block ends without an error."""
    with runtime_of(request).db.transaction() as session:
        yield session


@contextmanager
def reading(request: Request) -> Iterator[Session]:
    """What a page reads, without waiting for the process's writer (the worker applying mail)."""
    with runtime_of(request).db.reading() as session:
        yield session


def deliver(items: Iterable[OutboxItem], outbox_ids: Iterable[int] = ()) -> None:
    """Ask a worker to deliver mail the request queued (and other outbox rows by id: webhooks); after the commit."""
    for outbox_id in [*(item.id for item in items), *outbox_ids]:
        enqueue_outbox(outbox_id)


def peer_of(request: Request) -> str:
    """The address the request came from directly: the client, or a reverse proxy in front of the desk."""
    return request.client.host if request.client else "unknown"


def client_key(request: Request) -> str:
    """What per-client limits count: the client's address (through `[web] trusted_proxies`), an IPv6 one's /64."""
    return counted_as(client_address(peer_of(request), request.headers.getlist("x-forwarded-for"),
                                     runtime_of(request).config.web.trusted_proxies))


def see_other(path: str, **said: str) -> RedirectResponse:
    """Back to a page after a post (303), with a line for the viewer (`done=` or `error=`)."""
    query = urlencode({k: v for k, v in said.items() if v})
    return RedirectResponse(f"{path}?{query}" if query else path, status_code=303)
