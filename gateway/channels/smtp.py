"""Inbound SMTP: a thin aiosmtpd handler in front of `intake.accept_raw`.

The handler decides nothing about content.  It refuses recipients we do not
receive for (550 5.1.1, never an open relay), senders over their hourly
quota (450 4.7.1) and mail over the size limit (552 5.3.4); everything else
is stored as received — broken MIME, odd charsets and NUL bytes are the
parser's problem — and answered `250` only after the inbox commit.  A
storage failure answers `451 4.3.0` so the sender keeps the mail and retries.
"""

from __future__ import annotations

import hmac
import logging
import socket
import ssl
from collections.abc import Callable
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from gateway.channels.intake import accept_raw_async
from gateway.channels.smtp_policy import RecipientPolicy
from gateway.core.config_types import reveal
from gateway.core.rate_window import SlidingWindow
from gateway.core.runtime import Runtime
from storage.availability import is_unavailable

log = logging.getLogger(__name__)

MAX_RECIPIENTS = 100


class InboundHandler:
    """aiosmtpd hooks: RCPT and MAIL checks, DATA → durable intake → 250.

    `enqueue(*inbox_ids)` is called with the mails of one commit, before any of them is answered.
    """

    def __init__(self, runtime: Runtime, enqueue: Callable[..., None]) -> None:
        self.runtime = runtime
        self.enqueue = enqueue
        self.recipients = RecipientPolicy(runtime.config)
        self.rate_limiter = SlidingWindow(runtime.config.smtp.max_messages_per_sender_per_hour, 3600)  # per sender

    async def handle_MAIL(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, mail_options: list[str]
    ) -> str:
        if not self.rate_limiter.allows(address.lower()):
            log.warning("sender %r over its hourly limit; deferred", address)
            return "450 4.7.1 Too many messages from this sender, try again later"
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 2.1.0 OK"

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list[str]
    ) -> str:
        if not self.recipients.accepts(address):
            return "550 5.1.1 No such mailbox here (relaying denied)"
        if len(envelope.rcpt_tos) >= MAX_RECIPIENTS:
            return "452 4.5.3 Too many recipients"
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or b""
        details = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": list(envelope.rcpt_tos),
            "peer": _peer(session),
            "helo": session.host_name,
        }
        try:
            inbox_id = await accept_raw_async(self.runtime, "smtp", raw, details, after_commit=self.enqueue)
        except Exception as exc:
            if is_unavailable(exc):  # logged once per outage by the database itself
                log.warning("mail from %r (%d bytes) deferred with 451: the database is unavailable",
                            envelope.mail_from, len(raw))
            else:
                log.error("could not store mail from %r (%d bytes), answered 451: %s", envelope.mail_from, len(raw),
                          exc, exc_info=True)
            return "451 4.3.0 Temporary storage failure, try again later"
        self.rate_limiter.record((envelope.mail_from or "").lower())
        return f"250 2.0.0 OK queued as {inbox_id}"


def _peer(session: Session) -> str | None:
    peer = session.peer
    return f"{peer[0]}:{peer[1]}" if isinstance(peer, tuple) and len(peer) >= 2 else None


class _GatewaySMTP(SMTP):
    """aiosmtpd's protocol with RFC 3463 codes on size refusals and room for long lines.

    Real mailers send lines far over RFC 5321's 1000 octets (unwrapped HTML,
    base64 without breaks); refusing them would lose customer mail, so the
    line limit only guards memory.
    """

    line_length_limit = 1 << 20

    async def push(self, status: Any) -> None:
        if isinstance(status, str) and status.startswith("552 Error:"):
            status = "552 5.3.4 Message size exceeds fixed maximum message size"
        await super().push(status)


class FreePortController(Controller):
    """aiosmtpd's threaded controller that also accepts `port=0` and reports the port it got."""

    def _trigger_server(self) -> None:
        if self.port == 0 and self.server is not None:
            self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()


class SmtpServer(FreePortController):
    """The gateway's listener, served from a background thread."""

    def __init__(self, runtime: Runtime, enqueue: Callable[..., None]) -> None:
        smtp = runtime.config.smtp
        host, port = smtp.address
        tls_context = _tls_context(smtp.tls_cert, smtp.tls_key) if smtp.tls_cert and smtp.tls_key else None
        auth_users = {user: reveal(secret) for user, secret in smtp.auth_users.items()}
        super().__init__(
            InboundHandler(runtime, enqueue),
            hostname=host,
            port=port,
            # Resolved once: aiosmtpd would otherwise look the name up on every connection.
            server_hostname=smtp.hostname or socket.getfqdn(),
            data_size_limit=smtp.max_message_bytes,
            tls_context=tls_context,
            require_starttls=smtp.require_starttls,
            authenticator=_Authenticator(auth_users) if auth_users else None,
            auth_required=bool(auth_users),
            auth_require_tls=tls_context is not None,
            ready_timeout=10.0,
        )

    def factory(self) -> SMTP:
        return _GatewaySMTP(self.handler, **self.SMTP_kwargs)

    @property
    def address(self) -> tuple[str, int]:
        return self.hostname, self.port


def _tls_context(cert: Any, key: Any) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(str(cert), str(key))
    return context


class _Authenticator:
    """AUTH PLAIN/LOGIN against `[smtp] auth_users`; when users are configured, AUTH is required."""

    def __init__(self, users: dict[str, str]) -> None:
        self.users = users

    def __call__(self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: Any) -> AuthResult:
        if not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False, handled=False)
        login = auth_data.login.decode("utf-8", "replace")
        expected = self.users.get(login)
        ok = expected is not None and hmac.compare_digest(expected.encode(), auth_data.password)
        return AuthResult(success=ok, handled=False, auth_data=login if ok else None)
