"""The SMTP transport against a real aiosmtpd sink: bytes relayed, replies classified."""

from __future__ import annotations

import ssl
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiosmtpd.smtp import AuthResult, LoginPassword

from gateway.channels.smtp import FreePortController
from gateway.core.config import OutboundConfig
from gateway.outbound.transports import PermanentError, TransientError
from gateway.outbound.transports import smtp as smtp_transport
from gateway.outbound.transports.smtp import (
    close_kept_connection,
    probe_smarthost,
    send_mail,
)
from tests.outbound.conftest import closed_port
from tests.smtp_sink import SmtpSink
from tests.tcp_proxy import TcpProxy

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


@pytest.fixture
def proxied(sink: SmtpSink) -> Iterator[TcpProxy]:
    """The sink behind a proxy that counts connections and can drop them; no connection kept from before."""
    close_kept_connection()
    with TcpProxy(("127.0.0.1", sink.port)) as proxy:
        yield proxy
    close_kept_connection()


def test_mail_in_a_burst_shares_one_connection(sink: SmtpSink, proxied: TcpProxy) -> None:
    for n in range(3):
        send_mail(RAW, "b@relaydesk.invalid", f"r{n}@client.example", _outbound(proxied.port))
    assert [m.rcpt_tos for m in sink.mails] == [(f"r{n}@client.example",) for n in range(3)]
    assert proxied.accepted == 1


def test_a_kept_connection_the_smarthost_dropped_is_replaced_and_the_mail_sent(sink: SmtpSink,
                                                                              proxied: TcpProxy) -> None:
    send_mail(RAW, "b@relaydesk.invalid", "first@client.example", _outbound(proxied.port))
    proxied.cut()  # the smarthost closes the idle connection (and listens again)
    proxied.restore()
    send_mail(RAW, "b@relaydesk.invalid", "second@client.example", _outbound(proxied.port))
    assert [m.rcpt_tos for m in sink.mails] == [("first@client.example",), ("second@client.example",)]
    assert proxied.accepted == 2


def test_a_connection_is_kept_only_for_a_while_and_not_after_an_error(sink: SmtpSink, proxied: TcpProxy,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    outbound = _outbound(proxied.port)
    sink.reply = lambda envelope: "550 5.1.1 no such user" if envelope.rcpt_tos == ["gone@client.example"] else None
    send_mail(RAW, "b@relaydesk.invalid", "one@client.example", outbound)
    with pytest.raises(PermanentError):
        send_mail(RAW, "b@relaydesk.invalid", "gone@client.example", outbound)
    send_mail(RAW, "b@relaydesk.invalid", "two@client.example", outbound)  # a new connection after the error
    monkeypatch.setattr(smtp_transport, "REUSE_SECONDS", 0.0)
    send_mail(RAW, "b@relaydesk.invalid", "three@client.example", outbound)  # the window has passed
    assert proxied.accepted == 3
    assert [m.rcpt_tos for m in sink.mails] == [("one@client.example",), ("two@client.example",),
                                               ("three@client.example",)]


def test_probe_reads_the_ehlo_reply(sink: SmtpSink) -> None:
    assert probe_smarthost(_outbound(sink.port))


@pytest.fixture
def tls_smarthost(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[SmtpSink, int]]:
    """A smarthost that insists on STARTTLS and AUTH (user `relay`, password `s3cret`), trusted via SSL_CERT_FILE."""
    cert, key = tmp_path / "tls.crt", tmp_path / "tls.key"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(str(cert), str(key))

    def authenticate(server, session, envelope, mechanism, auth_data):  # noqa: ANN001, ANN202
        ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (b"relay", b"s3cret")
        return AuthResult(success=ok, handled=False)

    recorder = SmtpSink()  # used only as the handler that records mail
    controller = FreePortController(recorder, hostname="127.0.0.1", port=0, tls_context=context,
                                    require_starttls=True, authenticator=authenticate, auth_required=True,
                                    ready_timeout=10.0)
    controller.start()
    try:
        yield recorder, controller.port
    finally:
        controller.stop()


def test_starttls_and_auth(tls_smarthost: tuple[SmtpSink, int]) -> None:
    recorder, port = tls_smarthost
    outbound = OutboundConfig(smarthost=f"127.0.0.1:{port}", starttls=True, username="relay", password="s3cret",
                              timeout_seconds=5)
    send_mail(RAW, "b@relaydesk.invalid", "alice@client.example", outbound)
    assert [m.rcpt_tos for m in recorder.mails] == [("alice@client.example",)]


def test_wrong_smarthost_password_is_transient(tls_smarthost: tuple[SmtpSink, int]) -> None:
    """Our credentials are wrong, not the recipient: keep the mail queued until an operator fixes them."""
    recorder, port = tls_smarthost
    outbound = OutboundConfig(smarthost=f"127.0.0.1:{port}", starttls=True, username="relay", password="nope",
                              timeout_seconds=5)
    with pytest.raises(TransientError, match="535"):
        send_mail(RAW, "b@relaydesk.invalid", "alice@client.example", outbound)
    assert recorder.mails == []
