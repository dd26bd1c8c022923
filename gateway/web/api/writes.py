"""One write of the API: one transaction, idempotent by key, its outbound work enqueued after commit.

The action, the webhook deliveries it causes and the stored response to its
`Idempotency-Key` commit together, so the same key can never make a second
message: a repeat finds the stored response and gets it back unchanged; two
requests racing with one key collide on the (token, key) unique constraint,
the loser's transaction (message included) is rolled back and it replays the
winner's answer.  The same key with a different request is refused.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Header, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from gateway.core.api_tokens import Caller
from gateway.desk.webhook_events import take_queued
from gateway.web.api.errors import ApiError
from storage.api_models import IdempotentResponse
from storage.models import OutboxItem

IdempotencyKey = Annotated[
    str | None,
    Header(alias="Idempotency-Key", max_length=200, pattern=r"^[\x21-\x7e]+$",
           description="Any unique string (a UUID): the same key replays the first response instead of acting twice."),
]

# What an action returns: the HTTP status, the response model, and the outbox rows it queued.
Action = Callable[[Session], tuple[int, BaseModel, list[OutboxItem]]]


def run_write(request: Request, who: Caller, key: str | None, payload: Any, action: Action) -> JSONResponse:
    """Apply `action` once for (token, key), or replay the response stored for them."""
    runtime = request.app.state.runtime
    fingerprint = _fingerprint(request, payload)
    try:
        with runtime.db.transaction() as session:
            stored = _stored(session, who, key)
            if stored is not None:
                return _replay(stored, fingerprint)
            status, model, queued = action(session)
            body = model.model_dump(mode="json", by_alias=True)
            if key is not None:
                session.add(IdempotentResponse(token_id=who.token_id, key=key, request_sha256=fingerprint,
                                               status_code=status, body=body))
                session.flush()
            outbox_ids = [item.id for item in queued] + take_queued(session)
    except IntegrityError:
        if key is None:
            raise
        with runtime.db.transaction() as session:
            stored = _stored(session, who, key)
            if stored is None:
                raise
            return _replay(stored, fingerprint)
    for outbox_id in outbox_ids:
        request.app.state.enqueue_outbox(outbox_id)
    return JSONResponse(body, status_code=status)


def _stored(session: Session, who: Caller, key: str | None) -> IdempotentResponse | None:
    if key is None:
        return None
    return session.scalar(select(IdempotentResponse).where(
        IdempotentResponse.token_id == who.token_id, IdempotentResponse.key == key))


def _replay(stored: IdempotentResponse, fingerprint: str) -> JSONResponse:
    if stored.request_sha256 != fingerprint:
        raise ApiError(409, "idempotency_key_reused",
                       "this Idempotency-Key was used for a different request; use a new key for a new request")
    return JSONResponse(stored.body, status_code=stored.status_code, headers={"Idempotent-Replayed": "true"})


def _fingerprint(request: Request, payload: Any) -> str:
    text = json.dumps([request.method, request.url.path, payload], sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()
