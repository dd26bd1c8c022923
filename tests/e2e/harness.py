"""End-to-end harness: a real `relaydesk serve` process, mail over SMTP, an SMTP sink.

    with Installation.demo(tmp_path) as desk:
        desk.send(new_mail(ALICE, ["support@vendor.example"], "Printer jams", "…"))
        desk.settle()
        ticket = desk.show("VND-1")
        acks = desk.sink.mails

`Installation` writes the config (demo.toml by default, placeholders filled
with free ports and a fresh data directory), starts the server as a
subprocess, sends mail to its SMTP port with smtplib, and reads outcomes
through the operator's CLI (`relaydesk show REF --json`, `relaydesk tickets
--json`), as the acceptance scenarios say.  To know when the gateway is done
with what it was sent, `settle()` reads the database (the config's SQLite
file read-only, or the PostgreSQL database given as `db_url`) until no inbox
or outbox item is pending.  The sink is an aiosmtpd server in the test
process; its port is the gateway's smarthost.
"""

from __future__ import annotations

import json
import os
import re
import signal
import smtplib
import socket
import subprocess
import time
from collections.abc import Callable
from email.utils import parseaddr
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Engine, create_engine, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import NullPool

from tests.conftest import DEMO_TOML, TEST_SECRET, with_web_listener
from tests.e2e.mail_clients import Outgoing, parse
from tests.smtp_sink import SmtpSink, SunkMail

REPO = Path(__file__).resolve().parents[2]
RELAYDESK = REPO / ".venv" / "bin" / "relaydesk"
START_TIMEOUT = 30.0
SETTLE_TIMEOUT = 45.0
SQLITE_URL = "sqlite:///{data}/relaydesk.db"  # the storage url of demo.toml and the tests' own configs
T = TypeVar("T")


def free_port() -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until(condition: Callable[[], T], timeout: float, what: str, interval: float = 0.2) -> T:
    """Poll `condition` until it returns something truthy; fail the test with `what` on timeout."""
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g}s waiting for {what}")
        time.sleep(interval)


def announced_smtp(log_path: Path, offset: int, port: int) -> bool:
    """Whether the `relaydesk serve` writing `log_path` (from byte `offset` on) said it listens on `port`.

    Proof that the listener on the port is that process, not another one
    (the test's own sink, say) that took the free port in the meantime.
    """
    try:
        with log_path.open("rb") as log:
            log.seek(offset)
            return re.search(rb"SMTP on \S+:%d\b" % port, log.read()) is not None
    except FileNotFoundError:
        return False


def log_size(log_path: Path) -> int:
    """Where the next process's lines will start in a log that is appended to."""
    return log_path.stat().st_size if log_path.exists() else 0


def add_account(config_text: str, block: str) -> str:
    """The config with one more `[[accounts]]` table appended."""
    return config_text.rstrip() + "\n\n[[accounts]]\n" + block.strip() + "\n"


class Installation:
    """One relaydesk installation: data directory, config, `serve` subprocess, smarthost sink."""

    def __init__(self, root: Path, config_text: str, sink: SmtpSink | None = None, name: str = "relaydesk",
                 db_url: str | None = None, serve_args: tuple[str, ...] = ()) -> None:
        self.root = root
        self.serve_args = serve_args
        self.db_url = db_url
        self._engine: Engine | None = None
        self.name = name
        self.root.mkdir(parents=True, exist_ok=True)
        self.sink = sink or SmtpSink()
        self._own_sink = sink is None
        self.smtp_port = free_port()
        self.template = config_text
        self.config_path = self.root / "relaydesk.toml"
        self.log_path = self.root / "serve.log"
        self.process: subprocess.Popen[bytes] | None = None

    @classmethod
    def demo(cls, root: Path, config_text: str | None = None, **kwargs: Any) -> "Installation":
        return cls(root, config_text or DEMO_TOML.read_text(encoding="utf-8"), **kwargs)

    # --- lifecycle ---------------------------------------------------------------

    def start(self) -> "Installation":
        if self._own_sink:
            self.sink.start()
            while self.smtp_port == self.sink.port:  # the sink was handed the port free for us a moment ago
                self.smtp_port = free_port()
        self.config_path.write_text(
            with_web_listener(self.template).replace(SQLITE_URL, self.db_url or SQLITE_URL)
            .replace("{data}", str(self.root / "data"))
            .replace("{smtp_port}", str(self.smtp_port))
            .replace("{sink_port}", str(self.sink.port)),
            encoding="utf-8",
        )
        self._log_offset = log_size(self.log_path)
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [str(RELAYDESK), "serve", "--config", str(self.config_path), *self.serve_args],
            stdout=log, stderr=subprocess.STDOUT, cwd=self.root, env=self._env(),
        )
        log.close()
        wait_until(self._listening, START_TIMEOUT, f"{self.name}: SMTP on port {self.smtp_port}\n{self.log_tail()}")
        return self

    def _listening(self) -> bool:
        if self.process is not None and self.process.poll() is not None:
            raise AssertionError(f"{self.name}: relaydesk serve exited with {self.process.returncode}\n{self.log_tail()}")
        return announced_smtp(self.log_path, self._log_offset, self.smtp_port)

    def stop(self) -> None:
        """SIGTERM and wait (the server drains its worker); SIGKILL if it hangs."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self.process = None
        if self._engine is not None:
            self._engine.dispose()
        if self._own_sink:
            self.sink.stop()

    def __enter__(self) -> "Installation":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("RELAYDESK_")}
        env["RELAYDESK_SECRET"] = TEST_SECRET
        return env

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])
        except FileNotFoundError:
            return "(no log)"

    # --- mail in -------------------------------------------------------------------

    def send(self, mail: Outgoing | bytes, rcpt_tos: list[str] | None = None, mail_from: str | None = None) -> None:
        """Deliver over SMTP to the gateway; returns once it answered 250 (the item is committed)."""
        raw = mail.as_bytes() if isinstance(mail, Outgoing) else mail
        recipients = rcpt_tos or (mail.rcpt_tos if isinstance(mail, Outgoing) else [])
        if not recipients:
            raise ValueError("no envelope recipients")
        sender = mail_from if mail_from is not None else _envelope_sender(raw)
        with smtplib.SMTP("127.0.0.1", self.smtp_port, timeout=30) as client:
            client.sendmail(sender, recipients, raw)

    # --- state ---------------------------------------------------------------------

    def query(self, sql: str, **params: Any) -> list[tuple]:
        """Read-only SQL on the installation's database: for waiting, and facts the CLI does not show."""
        if self._engine is None:
            database = self.root / "data" / "relaydesk.db"
            if self.db_url is None and not database.exists():
                return []
            url = self.db_url or f"sqlite:///file:{database}?mode=ro&uri=true"
            self._engine = create_engine(url, poolclass=NullPool)
        try:
            with self._engine.connect() as connection:
                return [tuple(row) for row in connection.execute(text(sql), params)]
        except DBAPIError:  # schema not there yet (server still migrating)
            return []

    def pending_work(self) -> tuple[int, int] | None:
        """(pending inbox items, pending outbox items), None while the database cannot say."""
        inbox = self.query("SELECT count(*) FROM inbox_items WHERE status = 'pending'")
        outbox = self.query("SELECT count(*) FROM outbox_items WHERE status = 'pending'")
        return (inbox[0][0], outbox[0][0]) if inbox and outbox else None

    def settle(self, timeout: float = SETTLE_TIMEOUT) -> None:
        """Wait until everything received is processed and everything queued is delivered or failed."""
        def idle() -> bool:
            if self.process is not None and self.process.poll() is not None:
                raise AssertionError(f"{self.name}: relaydesk serve died\n{self.log_tail()}")
            return self.pending_work() == (0, 0)

        wait_until(idle, timeout, f"{self.name} to finish its work (pending inbox, outbox = {self.pending_work()})\n"
                   f"{self.log_tail()}")

    def inbox_problems(self) -> list[tuple[int, str, str | None]]:
        """(id, status, error) of inbox items that did not end `done`: a pipeline failure shows here."""
        return [tuple(r) for r in self.query("SELECT id, status, error FROM inbox_items WHERE status != 'done'")]

    def outbox(self) -> list[dict[str, Any]]:
        rows = self.query("SELECT id, kind, recipient, status, error FROM outbox_items ORDER BY id")
        return [dict(zip(("id", "kind", "recipient", "status", "error"), row)) for row in rows]

    # --- the operator's CLI -------------------------------------------------------

    def cli(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [str(RELAYDESK), *args, "--config", str(self.config_path)],
            capture_output=True, text=True, cwd=self.root, env=self._env(), timeout=60,
        )
        if check and result.returncode != 0:
            raise AssertionError(f"relaydesk {' '.join(args)} exited {result.returncode}:\n{result.stderr}{result.stdout}")
        return result

    def cli_json(self, *args: str) -> Any:
        return json.loads(self.cli(*args, "--json").stdout)

    def show(self, ref: str) -> dict[str, Any]:
        return self.cli_json("show", ref)

    def tickets(self) -> list[dict[str, Any]]:
        return self.cli_json("tickets")

    def chain(self, ref: str) -> dict[str, Any]:
        return self.cli_json("chain", ref)


def _envelope_sender(raw: bytes) -> str:
    return parseaddr(str(parse(raw).get("From", "")))[1]


# --- reading what the sink caught --------------------------------------------------


def mails_to(mails: list[SunkMail], address: str) -> list[SunkMail]:
    """Mails whose envelope includes `address` (case-insensitive)."""
    address = address.lower()
    return [m for m in mails if address in (r.lower() for r in m.rcpt_tos)]


def new_since(sink: SmtpSink, seen: int) -> list[SunkMail]:
    """Mails that arrived after the first `seen`."""
    return sink.mails[seen:]
