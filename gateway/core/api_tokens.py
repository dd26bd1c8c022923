"""Bearer tokens of the REST API: one account each, read or write, revocable.

The secret is shown once, at creation; the database keeps only its SHA-256,
so a copy of the database lets nobody in.  A token names its account in its
row, never in the secret: the secret is 32 random bytes behind a fixed
prefix (`rdk_`) that secret scanners can look for.  `last_used_at` is written
at most once a minute per token, so reads stay reads.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.api_models import ApiToken
from storage.models import Account, utcnow

PREFIX = "rdk_"
SCOPES = ("read", "write")
LAST_USED_EVERY = timedelta(minutes=1)


class TokenRefused(Exception):
    """No such token, or it was revoked: the request is not authenticated."""


@dataclass(frozen=True)
class Caller:
    """Who an authenticated request is from: its token and account."""

    token_id: int
    token_name: str
    scope: str
    account_id: int
    account_slug: str
    last_used_at: datetime | None = None

    @property
    def can_write(self) -> bool:
        return self.scope == "write"


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_token(session: Session, account: Account, name: str, scope: str) -> tuple[ApiToken, str]:
    """A new token of `account`; (row, the secret to show once)."""
    if scope not in SCOPES:
        raise ValueError(f"scope must be one of {', '.join(SCOPES)}, not {scope!r}")
    secret = PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(account_id=account.id, name=name, scope=scope, secret_sha256=digest(secret), created_at=utcnow())
    session.add(token)
    session.flush()
    return token, secret


def tokens_of(session: Session, account_slug: str | None = None) -> list[ApiToken]:
    query = select(ApiToken).join(Account).order_by(ApiToken.id)
    if account_slug:
        query = query.where(Account.slug == account_slug)
    return list(session.scalars(query))


def revoke(session: Session, token_id: int) -> ApiToken | None:
    """Revoke the token (it stays listed, marked revoked); None when there is no such token."""
    token = session.get(ApiToken, token_id)
    if token is not None and token.revoked_at is None:
        token.revoked_at = utcnow()
    return token


def authenticate(session: Session, secret: str) -> Caller:
    """The caller a bearer secret stands for (reads only); TokenRefused for an unknown or revoked one."""
    token = session.scalar(select(ApiToken).where(ApiToken.secret_sha256 == digest(secret)))
    if token is None or token.revoked_at is not None:
        raise TokenRefused("revoked token" if token is not None else "unknown token")
    return Caller(token.id, token.name, token.scope, token.account_id, token.account.slug, token.last_used_at)


def needs_touch(caller: Caller, now: datetime) -> bool:
    """Whether the token's last use is worth writing down (at most once a minute)."""
    return caller.last_used_at is None or now - caller.last_used_at >= LAST_USED_EVERY


def touch(session: Session, token_id: int, now: datetime) -> None:
    token = session.get(ApiToken, token_id)
    if token is not None:
        token.last_used_at = now
