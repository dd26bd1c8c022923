"""The SMTP transport against a real aiosmtpd sink: bytes relayed, replies classified."""

from __future__ import annotations

import pytest

from gateway.config import OutboundConfig
from gateway.transports import PermanentError, TransientError
from gateway.transports.smtp import probe_smarthost, send_mail
from tests.delivery.conftest import Sink, free_port

RAW = b"From: support@vendor.example\r\nTo: alice@client.example\r\nSubject: hi\r\n\r\nhello\r\n"


def _outbound(port: int) -> OutboundConfig:
    return OutboundConfig(smarthost=f"127.0.0.1:{port}", timeout_seconds=5)


def test_relays_the_bytes_with_the_verp_envelope(sink: Sink) -> None:
    reply = send_mail(RAW, "bounces+7-abc@relaydesk.invalid", "alice@client.example", _outbound(sink.port))
    assert "queued" in reply
    [(mail_from, rcpt_tos, data)] = sink.received
    assert mail_from == "bounces+7-abc@relaydesk.invalid"
    assert rcpt_tos == ["alice@client.example"]
    assert data.replace(b"\r\n", b"\n").endswith(b"hello\n")


def test_5xx_is_permanent(sink: Sink) -> None:
    sink.handler.refuse["nobody@client.example"] = "550 5.1.1 no such user"
    with pytest.raises(PermanentError, match="550 5.1.1 no such user"):
        send_mail(RAW, "b@relaydesk.invalid", "nobody@client.example", _outbound(sink.port))
    assert sink.received == []


def test_4xx_is_transient(sink: Sink) -> None:
    sink.handler.refuse["busy@client.example"] = "451 4.3.0 try again later"
    with pytest.raises(TransientError, match="451"):
        send_mail(RAW, "b@relaydesk.invalid", "busy@client.example", _outbound(sink.port))


def test_connection_refused_is_transient() -> None:
    with pytest.raises(TransientError, match="smarthost 127.0.0.1"):
        send_mail(RAW, "b@relaydesk.invalid", "alice@client.example", _outbound(free_port()))


def test_probe_reads_the_ehlo_reply(sink: Sink) -> None:
    assert probe_smarthost(_outbound(sink.port))
