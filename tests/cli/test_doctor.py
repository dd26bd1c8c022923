"""`relaydesk doctor` against real local services: a good config passes, broken ones name the failure."""

from __future__ import annotations

import http.server
import socket
import socketserver
import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from gateway.channels.intake import accept_raw
from gateway.cli.doctor import run_checks
from gateway.cli.main import app
from gateway.core.config import load_config
from gateway.core.runtime import Runtime
from storage.models import InboxItem, OutboxItem, utcnow
from tests.conftest import demo_config, demo_config_text
from tests.outbound.conftest import closed_port
from tests.pipeline.mail import deliver, mail
from tests.services import AMQP_URL, REDIS_URL, port_open, unavailable
from tests.smtp_sink import SmtpSink


def _write_config(tmp_path: Path, sink_port: int, extra: str = "") -> Path:
    path = tmp_path / "relaydesk.toml"
    path.write_text(demo_config_text(tmp_path, sink_port=sink_port) + extra, encoding="utf-8")
    return path


def _migrated(tmp_path: Path) -> None:
    Runtime.open(demo_config(tmp_path)).close()


def _by_name(checks: list) -> dict[str, tuple[bool, str]]:
    return {check.name.split(" ")[0]: (check.ok, check.detail) for check in checks}


def test_good_config_passes_with_exit_0(tmp_path: Path, sink: SmtpSink) -> None:
    _migrated(tmp_path)
    result = CliRunner().invoke(app, ["doctor", "--config", str(_write_config(tmp_path, sink.port))])
    assert result.exit_code == 0, result.output
    assert "FAIL" not in result.output
    for name in ("config", "database", "blob", "broker", "smarthost"):
        assert name in result.output


def test_work_row_says_what_waits_and_warns_without_failing(tmp_path: Path, sink: SmtpSink) -> None:
    config = _write_config(tmp_path, sink.port)
    runtime = Runtime.open(load_config(config))
    try:
        assert _by_name(run_checks(config))["work"] == (
            True, "inbox 0 pending, 0 parked; outbox 0 pending, 0 failed in the last 24 h")
        deliver(runtime, mail(to="someone@elsewhere.example"), rcpt=["someone@elsewhere.example"])  # parked
        overdue = accept_raw(runtime, "smtp", mail(), {"rcpt_tos": ["support@vendor.example"]})
        with runtime.db.transaction() as session:
            session.get(InboxItem, overdue).received_at = utcnow() - timedelta(hours=1)
            session.add(OutboxItem(kind="ack", recipient="alice@client.example", envelope_from="x@vendor.example",
                                   status="failed", error="bounced: 5.1.1"))
    finally:
        runtime.close()

    [work] = [check for check in run_checks(config) if check.name == "work"]
    assert work.ok and work.attention
    assert work.detail.startswith("inbox 1 pending, 1 parked; outbox 0 pending, 1 failed in the last 24 h. ")
    for concern in ("1 parked: see `relaydesk inbox --status parked`", "1 item(s) overdue by over 15 min",
                    "1 delivery(ies) failed"):
        assert concern in work.detail
    result = CliRunner().invoke(app, ["doctor", "--config", str(config)])
    assert result.exit_code == 0 and "WARN" in result.output, result.output


def test_closed_smarthost_port_fails_with_exit_1(tmp_path: Path) -> None:
    _migrated(tmp_path)
    result = CliRunner().invoke(app, ["doctor", "--config", str(_write_config(tmp_path, closed_port()))])
    assert result.exit_code == 1
    checks = _by_name(run_checks(_write_config(tmp_path, closed_port())))
    ok, detail = checks["smarthost"]
    assert not ok and "127.0.0.1" in detail
    assert checks["database"][0] and checks["config"][0]


def test_invalid_config_is_one_failing_row(tmp_path: Path) -> None:
    path = tmp_path / "relaydesk.toml"
    path.write_text('[outbound]\nsmarthost = "nowhere"\n[security]\nsecret = "test-secret-not-for-production"\n')
    [check] = run_checks(path)
    assert not check.ok and "outbound.smarthost" in check.detail


def test_unmigrated_database_fails(tmp_path: Path, sink: SmtpSink) -> None:
    from sqlalchemy import create_engine, text

    engine = create_engine(f"sqlite:///{tmp_path}/relaydesk.db")
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE unrelated (id INTEGER)"))
    engine.dispose()
    ok, detail = _by_name(run_checks(_write_config(tmp_path, sink.port)))["database"]
    assert not ok and "newest is" in detail


def test_unreachable_broker_fails(tmp_path: Path, sink: SmtpSink) -> None:
    _migrated(tmp_path)
    config = _write_config(tmp_path, sink.port).read_text().replace(
        'broker = "embedded"', f'broker = "redis://127.0.0.1:{closed_port()}/0"')
    (tmp_path / "relaydesk.toml").write_text(config)
    ok, _ = _by_name(run_checks(tmp_path / "relaydesk.toml"))["broker"]
    assert not ok


@pytest.mark.parametrize("url, port, says", [(REDIS_URL, 6379, "redis answers PING"),
                                              (AMQP_URL, 5672, "rabbitmq accepts the connection")])
def test_running_broker_passes(tmp_path: Path, sink: SmtpSink, url: str, port: int, says: str) -> None:
    if not port_open(url, port):
        unavailable(f"broker not reachable at {url}")
    config = _write_config(tmp_path, sink.port).read_text().replace('broker = "embedded"', f'broker = "{url}"')
    (tmp_path / "relaydesk.toml").write_text(config)
    _migrated(tmp_path)
    assert _by_name(run_checks(tmp_path / "relaydesk.toml"))["broker"] == (True, says)


class _FakeBotApi(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        good = self.path.endswith("/botgood-token/getMe")
        body = b'{"ok": true, "result": {"username": "relaydesk_bot"}}' if good else b'{"ok": false}'
        self.send_response(200 if good else 401)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def bot_api() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _FakeBotApi)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/bot"
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize("token, ok", [("good-token", True), ("bad-token", False)])
def test_telegram_token_checked_without_leaking_it(tmp_path: Path, sink: SmtpSink, bot_api: str, token: str,
                                                   ok: bool) -> None:
    _migrated(tmp_path)
    path = _write_config(tmp_path, sink.port, f'\n[telegram]\ntoken = "{token}"\nbase_url = "{bot_api}"\n')
    result_ok, detail = _by_name(run_checks(path))["telegram"]
    assert result_ok is ok
    assert token not in detail
    assert ("relaydesk_bot" in detail) if ok else ("rejected" in detail)


class _FakeImap(socketserver.StreamRequestHandler):
    """Just enough IMAP4rev1 for a login probe: one user, folders INBOX and Sent."""

    USER, PASSWORD, FOLDERS = "support@vendor.example", "secret", {"INBOX", "Sent"}
    logins: list[list[str]] = []

    def handle(self) -> None:
        self._send("* OK IMAP4rev1 fake ready")
        for line in self.rfile:
            tag, _, rest = line.decode().strip().partition(" ")
            command, _, args = rest.partition(" ")
            words = [w.strip('"') for w in args.split()]
            command = command.upper()
            if command == "CAPABILITY":
                self._send("* CAPABILITY IMAP4rev1 STARTTLS AUTH=PLAIN", f"{tag} OK CAPABILITY completed")
            elif command == "LOGIN":
                self.logins.append(words)
                good = words == [self.USER, self.PASSWORD]
                self._send(f"{tag} OK LOGIN completed" if good else f"{tag} NO [AUTHENTICATIONFAILED] Invalid credentials")
            elif command == "EXAMINE":
                found = words and words[0] in self.FOLDERS
                self._send(*(["* 0 EXISTS", f"{tag} OK [READ-ONLY] EXAMINE completed"] if found
                             else [f"{tag} NO no such mailbox"]))
            elif command == "LOGOUT":
                self._send("* BYE logging out", f"{tag} OK LOGOUT completed")
                return
            else:
                self._send(f"{tag} BAD unknown command")

    def _send(self, *lines: str) -> None:
        self.wfile.write("".join(f"{line}\r\n" for line in lines).encode())


@pytest.fixture
def imap_port() -> Iterator[int]:
    _FakeImap.logins.clear()
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _FakeImap)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize("password, folders, ok, says", [
    ("secret", '["INBOX"]', True, "logged in, 2 folder(s) open"),
    ("wrong", '["INBOX"]', False, "login refused"),
    ("secret", '["Archive"]', False, "cannot open Archive"),
])
def test_imap_mailbox_login(tmp_path: Path, sink: SmtpSink, imap_port: int, password: str, folders: str,
                            ok: bool, says: str) -> None:
    _migrated(tmp_path)
    path = _write_config(tmp_path, sink.port, (
        f'\n[[imap]]\naccount = "vendor"\nhost = "127.0.0.1"\nport = {imap_port}\nsecurity = "none"\n'
        f'user = "support@vendor.example"\npassword = "{password}"\nfolders = {folders}\nsent_folders = ["Sent"]\n'
    ))
    result_ok, detail = _by_name(run_checks(path))["imap"]
    assert result_ok is ok and says in detail
    assert password not in detail


def test_imap_starttls_that_fails_never_sends_the_password(tmp_path: Path, sink: SmtpSink, imap_port: int) -> None:
    """The fake server lists STARTTLS but cannot do it: the probe stops before LOGIN
    (tests/imap/test_imap_tls.py checks a STARTTLS that works, on Dovecot)."""
    _migrated(tmp_path)
    path = _write_config(tmp_path, sink.port, (
        f'\n[[imap]]\naccount = "vendor"\nhost = "127.0.0.1"\nport = {imap_port}\nsecurity = "starttls"\n'
        'user = "support@vendor.example"\npassword = "secret"\n'
    ))
    ok, detail = _by_name(run_checks(path))["imap"]
    assert not ok and "STARTTLS refused" in detail
    assert _FakeImap.logins == []


def test_imap_server_down(tmp_path: Path, sink: SmtpSink) -> None:
    _migrated(tmp_path)
    path = _write_config(tmp_path, sink.port, (
        f'\n[[imap]]\naccount = "vendor"\nhost = "127.0.0.1"\nport = {closed_port()}\nsecurity = "none"\n'
        'user = "support@vendor.example"\npassword = "secret"\n'
    ))
    result = CliRunner().invoke(app, ["doctor", "--config", str(path)])
    assert result.exit_code == 1 and "FAIL" in result.output


def test_smtp_listen_address(tmp_path: Path, sink: SmtpSink) -> None:
    _migrated(tmp_path)
    free = _write_config(tmp_path, sink.port).read_text()
    (tmp_path / "relaydesk.toml").write_text(free.replace('listen = "127.0.0.1:0"', f'listen = "127.0.0.1:{sink.port}"'))
    ok, detail = _by_name(run_checks(tmp_path / "relaydesk.toml"))["smtp"]
    assert ok and detail.startswith("a server answers: 220")
    with socket.socket() as other:  # another service holding the port
        other.bind(("127.0.0.1", 0))
        other.listen()
        def greet() -> None:
            connection, _ = other.accept()
            with connection:
                connection.sendall(b"+OK POP3 ready\r\n")

        greeter = threading.Thread(target=greet, daemon=True)
        greeter.start()
        (tmp_path / "relaydesk.toml").write_text(
            free.replace('listen = "127.0.0.1:0"', f'listen = "127.0.0.1:{other.getsockname()[1]}"'))
        ok, detail = _by_name(run_checks(tmp_path / "relaydesk.toml"))["smtp"]
        greeter.join(10)
    assert not ok and "not an SMTP server" in detail


def test_failed_webhook_deliveries_are_a_warn_row(tmp_path: Path, sink: SmtpSink) -> None:
    config = _write_config(tmp_path, sink.port)
    runtime = Runtime.open(load_config(config))
    try:
        assert _by_name(run_checks(config))["webhooks"] == (True, "UP: 0 retrying, 0 failed in 24 h, 0 overdue")
        with runtime.db.transaction() as session:
            session.add(OutboxItem(kind="webhook", channel="webhook", recipient="https://crm.example/hook",
                                   envelope_from="", status="failed", error="https://crm.example/hook answered HTTP 410"))
    finally:
        runtime.close()
    [hooks] = [check for check in run_checks(config) if check.name == "webhooks"]
    assert hooks.ok and hooks.attention and hooks.detail == "SLOW: 0 retrying, 1 failed in 24 h, 0 overdue"
