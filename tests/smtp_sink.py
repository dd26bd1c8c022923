"""An SMTP sink for tests: the smarthost the gateway relays outbound mail to.

Starts on a free port, records every accepted mail (envelope and bytes)
under a lock so tests can read while the gateway's workers deliver, and can
be told to answer with an error to exercise retries and permanent failures.

    with SmtpSink() as sink:
        config = demo_config(tmp_path, sink_port=sink.port)
        ...
        sink.wait_for(3)
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage

from aiosmtpd.smtp import SMTP, Envelope, Session

from gateway.channels.smtp import FreePortController


@dataclass(frozen=True)
class SunkMail:
    mail_from: str
    rcpt_tos: tuple[str, ...]
    raw: bytes

    def parsed(self) -> EmailMessage:
        return message_from_bytes(self.raw, policy=policy.default)  # type: ignore[return-value]


class SmtpSink:
    """Collects mail; `reply(envelope)` may return an SMTP status to refuse one."""

    def __init__(self, reply: Callable[[Envelope], str | None] | None = None, host: str = "127.0.0.1") -> None:
        self.reply = reply
        self._mails: list[SunkMail] = []
        self._changed = threading.Condition()
        self._controller = FreePortController(self, hostname=host, port=0, ready_timeout=10.0)

    # aiosmtpd hook
    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        refusal = self.reply(envelope) if self.reply else None
        if refusal:
            return refusal
        mail = SunkMail(envelope.mail_from or "", tuple(envelope.rcpt_tos), bytes(envelope.original_content or b""))
        with self._changed:
            self._mails.append(mail)
            self._changed.notify_all()
        return "250 2.0.0 OK"

    @property
    def port(self) -> int:
        return self._controller.port

    @property
    def mails(self) -> list[SunkMail]:
        """A snapshot of everything accepted so far."""
        with self._changed:
            return list(self._mails)

    def wait_for(self, count: int, timeout: float = 30.0) -> list[SunkMail]:
        """Block until at least `count` mails arrived; fails the test on timeout."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while len(self._mails) < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"sink received {len(self._mails)} mails, expected {count} within {timeout}s")
                self._changed.wait(remaining)
            return list(self._mails)

    def start(self) -> "SmtpSink":
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()

    def __enter__(self) -> "SmtpSink":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
