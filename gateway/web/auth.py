"""Who is at the browser: one-time sign-in links, signed session cookies, the signed-in viewer.

No passwords: an agent (or an operator) asks for a link, gets it by mail,
and opening it signs the browser in.  The link is signed, expires after
`web.sign_in_link_minutes` and works once — its nonce is recorded in the
database on use, so a second process or a second click finds it spent.
The session is a signed cookie (HttpOnly, SameSite=Lax, Secure behind
https) holding the address and the CSRF token; nothing about it is kept on
the server, so any number of `relaydesk web` processes can answer.
Keys are derived from the security secret with their own labels, so a
cookie can never pass for a sign-in link or a reply token.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass, replace
from datetime import timedelta

from fastapi import Request, Response
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from gateway.core.config import Config
from storage.models import Account, Agent, utcnow
from storage.web_models import SignInNonce

SESSION_COOKIE = "relaydesk_session"
_SIGN_IN_SALT = "relaydesk.web.sign-in"
_SESSION_SALT = "relaydesk.web.session"


class NotSignedIn(Exception):
    """The request needs a signed-in agent; the desk answers with the sign-in page."""


def web_key(config: Config) -> str:
    """The key of the web layer's signatures, derived from (never equal to) the security secret."""
    return hmac.new(config.security.secret.encode(), b"relaydesk web key", hashlib.sha256).hexdigest()


def _serializer(config: Config, salt: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(web_key(config), salt=salt)


# --- sign-in links -------------------------------------------------------------------


def sign_in_token(config: Config, email: str) -> str:
    return _serializer(config, _SIGN_IN_SALT).dumps({"e": email.strip().lower(), "n": secrets.token_hex(16)})


def redeem_sign_in_token(session: Session, config: Config, token: str) -> str | None:
    """The address a valid, unexpired, unused link signs in; the link is spent by this call."""
    max_age = config.web.sign_in_link_minutes * 60
    try:
        data = _serializer(config, _SIGN_IN_SALT).loads(token, max_age=max_age)
    except BadSignature:  # also SignatureExpired
        return None
    email, nonce = data.get("e"), data.get("n")
    if not isinstance(email, str) or not isinstance(nonce, str):
        return None
    session.execute(delete(SignInNonce).where(SignInNonce.expires_at < utcnow()))  # spent links past their age
    try:
        with session.begin_nested():
            session.add(SignInNonce(nonce=nonce, email=email, used_at=utcnow(),
                                    expires_at=utcnow() + timedelta(seconds=max_age)))
    except IntegrityError:
        return None
    return email


# --- sessions ---------------------------------------------------------------------------


@dataclass(frozen=True)
class WebSession:
    """What the cookie holds: the signed-in address (None before sign-in) and the form token."""

    email: str | None
    csrf: str

    @classmethod
    def anonymous(cls) -> "WebSession":
        return cls(email=None, csrf=secrets.token_urlsafe(24))


def read_session(request: Request) -> WebSession:
    """The request's session (cached on it); a missing, forged or expired cookie is a fresh anonymous one."""
    cached = getattr(request.state, "web_session", None)
    if cached is not None:
        return cached
    config: Config = request.app.state.runtime.config
    web_session = WebSession.anonymous()
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        try:
            data = _serializer(config, _SESSION_SALT).loads(cookie, max_age=int(config.web.session_hours * 3600))
            web_session = WebSession(email=data.get("e"), csrf=data["c"])
        except (BadSignature, KeyError, TypeError, AttributeError):
            pass
    request.state.web_session = web_session
    return web_session


def write_session(response: Response, config: Config, web_session: WebSession) -> None:
    value = _serializer(config, _SESSION_SALT).dumps({"e": web_session.email, "c": web_session.csrf})
    response.set_cookie(SESSION_COOKIE, value, max_age=int(config.web.session_hours * 3600), httponly=True,
                        samesite="lax", secure=config.web.secure_cookies, path="/")


def signed_in(email: str) -> WebSession:
    """A new session for `email`, with a new form token (nothing from before sign-in carries over)."""
    return replace(WebSession.anonymous(), email=email)


# --- the viewer -------------------------------------------------------------------------


@dataclass(frozen=True)
class Viewer:
    """The signed-in person: their address, the hosted account they work for (None: operator only)."""

    email: str
    name: str
    account: Account | None
    operator: bool
    csrf: str

    @property
    def account_id(self) -> int | None:
        return self.account.id if self.account is not None else None


def may_sign_in(session: Session, config: Config, email: str) -> bool:
    return email in config.web.operators or agent_account(session, email) is not None


def agent_account(session: Session, email: str) -> tuple[Agent, Account] | None:
    """The agent row and hosted account of `email` (the first, if several accounts list them)."""
    row = session.execute(
        select(Agent, Account).join(Account, Agent.account_id == Account.id)
        .where(Agent.email == email.lower(), Account.kind == "hosted").order_by(Account.id).limit(1)
    ).first()
    return (row[0], row[1]) if row is not None else None


def viewer_of(request: Request, session: Session) -> Viewer:
    """The signed-in viewer; NotSignedIn when the browser is not, or the address left the config."""
    web_session = read_session(request)
    if not web_session.email:
        raise NotSignedIn()
    config: Config = request.app.state.runtime.config
    found = agent_account(session, web_session.email)
    operator = web_session.email in config.web.operators
    if found is None and not operator:
        raise NotSignedIn()
    agent, account = found if found is not None else (None, None)
    return Viewer(email=web_session.email, name=agent.name if agent else web_session.email, account=account,
                  operator=operator, csrf=web_session.csrf)
