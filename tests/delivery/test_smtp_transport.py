"""The SMTP transport against a real aiosmtpd sink: bytes relayed, replies classified."""

from __future__ import annotations

import pytest

from gateway.config import OutboundConfig
from gateway.transports import PermanentError, TransientError
from gateway.transports.smtp import probe_smarthost, send_mail
from tests.delivery.conftest import closed_port
from tests.smtp_sink import SmtpSink

RAW = b"From: support@vendor.example\r\nTo: alice@client.example\r\nSubject: hi\r\n\r\nhello\r\n"


def _outbound(port: int) -> OutboundConfig:
    return OutboundConfig(smarthost=f"127.0.0.1:{port}", timeout_seconds=5)


def test_relays_the_bytes_with_the_verp_envelope(sink: SmtpSink) -> None:
    send_mail(RAW, "bounces+7-abc@relaydesk.invalid", "alice@client.example", _outbound(sink.port))
    [mail] = sink.mails
    assert mail.mail_from == "bounces+7-abc@relaydesk.invalid"
    assert mail.rcpt_tos == ("alice@client.example",)
    assert mail.raw.replace(b"\r\n", b"\n").endswith(b"hello\n")


def test_5xx_is_permanent() -> None:
    with SmtpSink(reply=lambda envelope: "550 5.1.1 no such user") as sink:
        with pytest.raises(PermanentError, match="550 5.1.1 no such user"):
            send_mail(RAW, "b@relaydesk.invalid", "nobody@client.example", _outbound(sink.port))
        assert sink.mails == []


def test_4xx_is_transient() -> None:
    with SmtpSink(reply=lambda envelope: "451 4.3.0 try again later") as sink:
        with pytest.raises(TransientError, match="451"):
            send_mail(RAW, "b@relaydesk.invalid", "busy@client.example", _outbound(sink.port))


def test_connection_refused_is_transient() -> None:
    with pytest.raises(TransientError, match="smarthost 127.0.0.1"):
        send_mail(RAW, "b@relaydesk.invalid", "alice@client.example", _outbound(closed_port()))


def test_probe_reads_the_ehlo_reply(sink: SmtpSink) -> None:
    assert probe_smarthost(_outbound(sink.port))
