"""The SMTP listener over a real socket: who may send, limits, durability, bad input."""

from __future__ import annotations

import smtplib
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from storage.blobs import IN_ROW_LIMIT
from storage.models import InboxItem
from storage.raw_units import read_raw

CUSTOMER = "alice@client.example"
SUPPORT = "support@vendor.example"


def mail(subject: str = "Printer jams", body: bytes = b"It jams on tray 2.\r\n", headers: bytes = b"") -> bytes:
    return (
        b"From: Alice <alice@client.example>\r\nTo: support@vendor.example\r\n"
        b"Subject: " + subject.encode() + b"\r\nMessage-ID: <" + subject.replace(" ", ".").encode() + b"@client.example>\r\n"
        + headers + b"\r\n" + body
    )


def send(client: smtplib.SMTP, raw: bytes, rcpt: str = SUPPORT, sender: str = CUSTOMER) -> tuple[int, bytes]:
    """MAIL, RCPT, DATA step by step, returning the first refusal or DATA's reply."""
    code, reply = client.mail(sender)
    if code != 250:
        return code, reply
    code, reply = client.rcpt(rcpt)
    if code != 250:
        client.rset()
        return code, reply
    return client.data(raw)


def inbox_rows(runtime) -> list[InboxItem]:
    with runtime.db.transaction() as session:
        return list(session.scalars(select(InboxItem).order_by(InboxItem.id)))


def stored(runtime, item: InboxItem) -> bytes:
    with runtime.db.transaction() as session:
        return read_raw(session, runtime.blobs, item.raw_sha256)


def test_accepted_mail_is_committed_before_250(db_url, listen) -> None:
    gw = listen(db_url)
    raw = mail()
    with gw.client() as client:
        code, reply = send(client, raw)
    assert code == 250, reply
    [item] = inbox_rows(gw.runtime)
    assert reply.decode().endswith(f"queued as {item.id}")
    assert stored(gw.runtime, item) == raw
    assert item.envelope["mail_from"] == CUSTOMER and item.envelope["rcpt_tos"] == [SUPPORT]
    assert item.status == "pending"
    assert gw.enqueued == [item.id]


@pytest.mark.parametrize(
    "rcpt",
    ["nobody@vendor.example", "bob@gmail.example", "support@vendor.example.evil.example", "sam@subco.example"],
)
def test_unknown_and_relay_recipients_are_refused(listen, rcpt: str) -> None:
    gw = listen()
    with gw.client() as client:
        client.mail(CUSTOMER)
        code, reply = client.rcpt(rcpt)
    assert (code, reply[:5]) == (550, b"5.1.1")
    assert inbox_rows(gw.runtime) == []


def test_plus_address_and_case_are_accepted(listen) -> None:
    gw = listen()
    with gw.client() as client:
        assert send(client, mail("one"), rcpt="support+r1a-2b-0123456789abcdef@vendor.example")[0] == 250
        assert send(client, mail("two"), rcpt="Support@Vendor.Example")[0] == 250
    assert len(inbox_rows(gw.runtime)) == 2


def test_bounce_mailbox_and_its_verp_forms_are_accepted_only_when_configured(listen) -> None:
    verp = "bounces+17-0123456789abcdef@relaydesk.example"
    without = listen()
    with without.client() as client:
        client.mail("")
        assert client.rcpt(verp)[0] == 550
    with_bounces = listen(outbound={"bounce_address": "bounces@relaydesk.example"})
    with with_bounces.client() as client:
        assert send(client, mail("dsn"), rcpt=verp, sender="")[0] == 250


def test_size_is_advertised_and_enforced_at_mail_and_data(listen) -> None:
    gw = listen(smtp={"max_message_bytes": 10_000})
    with gw.client() as client:
        assert client.esmtp_features["size"] == "10000"
        code, reply = client.mail(CUSTOMER, options=["SIZE=20000"])
        assert (code, reply[:5]) == (552, b"5.3.4")
        code, reply = send(client, mail(body=b"x" * 76 + b"\r\n") * 200)
        assert (code, reply[:5]) == (552, b"5.3.4")
        assert send(client, mail("small"))[0] == 250  # the session goes on
    assert len(inbox_rows(gw.runtime)) == 1


def test_blob_store_failure_answers_451_and_stores_nothing(listen, monkeypatch) -> None:
    """A mail too big for its row goes to the blob store first: a full disk there defers it, and it alone."""
    gw = listen()
    big = mail("big", body=(b"x" * 76 + b"\r\n") * (IN_ROW_LIMIT // 78 + 1))

    def disk_full(data: bytes) -> str:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(gw.runtime.blobs, "put", disk_full)
    with gw.client() as client:
        code, reply = send(client, big)
        assert (code, reply[:5]) == (451, b"4.3.0")
        assert send(client, mail("small"))[0] == 250  # kept in its row: no blob to write
        monkeypatch.undo()
        assert send(client, big)[0] == 250  # the sender's retry succeeds
    small, stored_big = inbox_rows(gw.runtime)
    assert stored(gw.runtime, stored_big) == big and gw.runtime.blobs.exists(stored_big.raw_sha256)
    assert gw.enqueued == [small.id, stored_big.id]


def test_database_failure_answers_451_and_commits_no_row(db_url, listen, monkeypatch) -> None:
    gw = listen(db_url)
    real_transaction = gw.runtime.db.transaction

    def broken():
        raise OperationalError("INSERT", {}, Exception("database is unavailable"))

    monkeypatch.setattr(gw.runtime.db, "transaction", broken)
    with gw.client() as client:
        code, _ = send(client, mail())
        monkeypatch.setattr(gw.runtime.db, "transaction", real_transaction)
        assert code == 451
        assert inbox_rows(gw.runtime) == []
        assert gw.enqueued == []
        assert client.noop()[0] == 250


def test_retry_after_lost_250_is_the_same_item(listen) -> None:
    gw = listen()
    with gw.client() as client:
        first = send(client, mail())
        second = send(client, mail())
    assert first == second and first[0] == 250
    assert len(inbox_rows(gw.runtime)) == 1


def test_sender_rate_limit_defers_with_450(listen) -> None:
    gw = listen(smtp={"max_messages_per_sender_per_hour": 2})
    with gw.client() as client:
        assert send(client, mail("a"))[0] == 250
        assert send(client, mail("b"))[0] == 250
        code, reply = send(client, mail("c"))
        assert (code, reply[:5]) == (450, b"4.7.1")
        assert send(client, mail("d"), sender="bob@client.example")[0] == 250
    assert len(inbox_rows(gw.runtime)) == 3


BROKEN_MIME = (
    b"From: alice@client.example\r\nTo: support@vendor.example\r\nSubject: broken\r\n"
    b"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"never-closed\"\r\n\r\n"
    b"--never-closed\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: base64\r\n\r\n"
    b"!!!! not base64 ####\r\n--never-closed\r\nContent-Type: message/rfc822\r\n\r\ngarbage\r\n"
)
UNKNOWN_CHARSET = (
    b"From: =?x-klingon?B?QWxpY2U=?= <alice@client.example>\r\nTo: support@vendor.example\r\n"
    b"Subject: =?x-unknown?Q?=E9t=E9?=\r\nContent-Type: text/plain; charset=x-klingon\r\n\r\n\xe9t\xe9 \xff\xfe\r\n"
)
NUL_BYTES = (
    b"From: alice@client.example\r\nTo: support@vendor.example\r\nSubject: nul\x00byte\r\n"
    b"X-Injected: a\r\nBcc: victim@example.com\r\n\r\nbody \x00 with \x00 NULs\r\n"
)


@pytest.mark.parametrize("raw", [BROKEN_MIME, UNKNOWN_CHARSET, NUL_BYTES], ids=["broken-mime", "unknown-charset", "nul"])
def test_bad_input_is_accepted_and_stored_as_received(listen, raw: bytes) -> None:
    gw = listen()
    with gw.client() as client:
        code, reply = send(client, raw)
        assert code == 250, reply
        assert client.noop()[0] == 250
    [item] = inbox_rows(gw.runtime)
    assert stored(gw.runtime, item) == raw


def test_forty_megabyte_attachment_is_stored_whole(listen) -> None:
    gw = listen(smtp={"max_message_bytes": 64 * 1024 * 1024})
    line = b"QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWZnaGlqa2xtbm9wcXJzdHV2d3h5ejAxMjM0\r\n"
    attachment = line * (40 * 1024 * 1024 // len(line))
    raw = mail(
        "big",
        headers=b"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n",
        body=b"--b\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n--b\r\nContent-Type: application/octet-stream\r\n"
        b"Content-Disposition: attachment; filename=dump.bin\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        + attachment + b"--b--\r\n",
    )
    with gw.client() as client:
        assert send(client, raw)[0] == 250
        assert send(client, mail("after"))[0] == 250
    big, _ = inbox_rows(gw.runtime)
    assert big.size == len(raw) > 40 * 1024 * 1024
    assert gw.runtime.blobs.path(big.raw_sha256).stat().st_size == len(raw)


@pytest.fixture
def certificate(tmp_path: Path) -> tuple[Path, Path]:
    cert, key = tmp_path / "tls.crt", tmp_path / "tls.key"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )
    return cert, key


def test_starttls_required_before_mail(listen, certificate) -> None:
    import ssl

    cert, key = certificate
    gw = listen(smtp={"tls_cert": str(cert), "tls_key": str(key), "require_starttls": True})
    with gw.client() as client:
        assert client.mail(CUSTOMER)[0] == 530
        context = ssl.create_default_context(cafile=str(cert))
        context.check_hostname = False
        client.starttls(context=context)
        client.ehlo("client.example")
        assert send(client, mail())[0] == 250
    assert len(inbox_rows(gw.runtime)) == 1


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")  # this test checks exactly that setup
def test_auth_required_when_users_are_configured(listen) -> None:
    gw = listen(smtp={"auth_users": {"mta": "s3cret-password"}})
    with gw.client() as client:
        code, reply = client.mail(CUSTOMER)
        assert code == 530
        with pytest.raises(smtplib.SMTPAuthenticationError):
            client.login("mta", "wrong")
        client.login("mta", "s3cret-password")
        assert send(client, mail())[0] == 250
