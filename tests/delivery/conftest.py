"""An SMTP sink standing in for the smarthost, and a free-port helper."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from aiosmtpd.controller import Controller


def free_port() -> int:
    """A TCP port nothing listens on right now (bound once, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class SinkHandler:
    """Accepts everything except recipients listed in `refuse` (address → SMTP reply)."""

    received: list[tuple[str, list[str], bytes]] = field(default_factory=list)
    refuse: dict[str, str] = field(default_factory=dict)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: ANN001
        if address.lower() in self.refuse:
            return self.refuse[address.lower()]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: ANN001
        self.received.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content))
        return "250 2.0.0 queued"


@dataclass
class Sink:
    """A smarthost on a fixed port that a test can take down and bring back."""

    port: int
    handler: SinkHandler = field(default_factory=SinkHandler)
    controller: Controller | None = None

    @property
    def received(self) -> list[tuple[str, list[str], bytes]]:
        return self.handler.received

    def start(self) -> None:
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


@pytest.fixture
def sink() -> Iterator[Sink]:
    """A running SMTP sink on a free port; stopped after the test."""
    smtp = Sink(free_port())
    smtp.start()
    try:
        yield smtp
    finally:
        smtp.stop()
