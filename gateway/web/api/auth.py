"""Who is calling: bearer token → account and scope; 401 and 403 told apart.

Every object is looked up within the caller's account, so another
account's ticket answers 404 exactly like a ticket that does not exist.
Tokens are read without waiting for the process's writer; a token's last
use is written at most once a minute.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from gateway.core.api_tokens import Caller, TokenRefused, authenticate, needs_touch, touch
from gateway.core.runtime import Runtime
from gateway.web.api.errors import ApiError, not_found
from storage.models import Ticket, utcnow
from storage.repositories import ticket_by_ref

bearer = HTTPBearer(auto_error=False, description="A token from `relaydesk api-token create`.")


def runtime_of(request: Request) -> Runtime:
    return request.app.state.runtime


def caller(request: Request,
           credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]) -> Caller:
    if credentials is None:
        raise ApiError(401, "unauthenticated", "send the header Authorization: Bearer <token>")
    db = runtime_of(request).db
    with db.reading() as session:
        try:
            who = authenticate(session, credentials.credentials)
        except TokenRefused as exc:
            raise ApiError(401, "unauthenticated", f"{exc}: create one with `relaydesk api-token create`") from None
    now = utcnow()
    if needs_touch(who, now):
        with db.transaction() as session:
            touch(session, who.token_id, now)
    return who


def writer(who: Annotated[Caller, Depends(caller)]) -> Caller:
    if not who.can_write:
        raise ApiError(403, "forbidden", "this token may only read; writes need a token with scope write")
    return who


def own_ticket(session: Session, who: Caller, ref: str) -> Ticket:
    """The caller's account's ticket `ref`; 404 for any other (another account's included)."""
    ticket = ticket_by_ref(session, ref.upper(), who.account_id)
    if ticket is None:
        raise not_found(f"ticket {ref}")
    return ticket


Reader = Annotated[Caller, Depends(caller)]
Writer = Annotated[Caller, Depends(writer)]
RuntimeDep = Annotated[Runtime, Depends(runtime_of)]
