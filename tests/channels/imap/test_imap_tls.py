"""IMAP over TLS and STARTTLS against Dovecot with a self-signed certificate; the doctor probes the same way."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from gateway.app.checks import check_imap
from gateway.core.runtime import Runtime
from gateway.pipeline.runner import process_inbox_item
from tests.channels.imap.conftest import SUPPORT
from tests.channels.imap.dovecot import PASSWORD, Dovecot, dovecot
from tests.channels.imap.test_imap_poller import customer_mail, polling, ticket_subjects
from tests.conftest import demo_config
from tests.e2e.harness import wait_until


@pytest.fixture
def server() -> Iterator[Dovecot]:
    with dovecot([SUPPORT], tls=True) as running:
        yield running


def mailbox(server: Dovecot, security: str, **extra: Any) -> dict[str, Any]:
    port = server.tls_port if security == "tls" else server.port
    return {"account": "vendor", "host": server.host, "port": port, "security": security, "user": SUPPORT,
            "password": PASSWORD, "tls_ca_file": server.ca_file, **extra}


@pytest.mark.parametrize("security", ["tls", "starttls"])
def test_mail_is_imported_over_an_encrypted_connection(tmp_path: Path, server: Dovecot, security: str) -> None:
    server.append(SUPPORT, "INBOX", customer_mail(1))
    runtime = Runtime.open(demo_config(tmp_path, imap=[mailbox(server, security)]))
    try:
        with polling(runtime) as enqueued:
            wait_until(lambda: len(enqueued) == 1, 15, f"mail imported over {security}")
            process_inbox_item(runtime, enqueued[0])
        assert ticket_subjects(runtime) == ["Printer 1 is broken"]
    finally:
        runtime.close()


@pytest.mark.parametrize("security", ["tls", "starttls"])
def test_a_certificate_nobody_vouches_for_is_refused(tmp_path: Path, server: Dovecot, security: str, caplog) -> None:
    server.append(SUPPORT, "INBOX", customer_mail(1))
    runtime = Runtime.open(demo_config(tmp_path, imap=[mailbox(server, security, tls_ca_file=None)]))
    try:
        with caplog.at_level(logging.WARNING, logger="gateway.channels.imap.poller"), polling(runtime) as enqueued:
            wait_until(lambda: "CERTIFICATE_VERIFY_FAILED" in caplog.text, 15, "the certificate refused")
        assert enqueued == []
    finally:
        runtime.close()


def test_doctor_logs_in_after_starttls(tmp_path: Path, server: Dovecot) -> None:
    config = demo_config(tmp_path, imap=[mailbox(server, "starttls", sent_folders=["Sent"])])
    assert check_imap(config.imap[0]) == "logged in, 2 folder(s) open"


@pytest.mark.parametrize("security, port, says", [
    ("tls", "port", 'security = "tls", but 127.0.0.1:{port} answers in plain text'),
    ("none", "tls_port", 'if it is an IMAP over TLS port (993), set security = "tls"'),
])
def test_tls_against_plain_and_plain_against_tls_are_explained_in_one_line(tmp_path: Path, server: Dovecot,
                                                                           monkeypatch, security: str, port: str,
                                                                           says: str) -> None:
    monkeypatch.setattr("gateway.app.checks.PROBE_TIMEOUT_SECONDS", 2.0)
    box = {**mailbox(server, security), "port": getattr(server, port)}
    config = demo_config(tmp_path, imap=[box])
    with pytest.raises(RuntimeError) as failure:
        check_imap(config.imap[0])
    message = str(failure.value)
    assert says.format(port=getattr(server, port)) in message and "\n" not in message
    assert "WRONG_VERSION_NUMBER" not in message


def test_doctor_creates_a_missing_after_import_folder_and_says_so(tmp_path: Path, server: Dovecot) -> None:
    config = demo_config(tmp_path, imap=[mailbox(server, "starttls", after_import="move:Done 2026")])
    assert "after_import target 'Done 2026' did not exist: created it" in check_imap(config.imap[0])
    assert "after_import target 'Done 2026' exists" in check_imap(config.imap[0])
