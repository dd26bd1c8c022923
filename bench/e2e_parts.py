"""What `bench/e2e.py` is built from: the mail mix, the sink, the clients, the processes under test.

Kept apart from the script so the script reads as the experiment: which
installations, in which order, which figures.
"""

from __future__ import annotations

import os
import re
import smtplib
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from pathlib import Path

from aiosmtpd.smtp import SMTP, Envelope, Session
from sqlalchemy import create_engine, text

from gateway.channels.smtp import FreePortController
from tests.e2e.mail_clients import forward
from tests.e2e.people import DANA

REPO = Path(__file__).resolve().parent.parent
DEMO_TOML = REPO.parent / "shared" / "scenarios" / "demo.toml"
SUPPORT = "support@vendor.example"
PARTNER = "service@partner.example"
SECRET = "bench-secret-not-for-production"
MARK = re.compile(rb"<bench-(\d+)-(\d+)@")
QUOTE = "\r\n".join(f"> line {i} of the earlier conversation about the printer" for i in range(20))


# --- the mail mix ---------------------------------------------------------------------


@dataclass(frozen=True)
class Mail:
    number: int
    sender: str
    rcpt_tos: tuple[str, ...]
    raw: bytes


def mail_mix(count: int, run: int, reply_lag: int = 200) -> list[Mail]:
    """New tickets, replies to a ticket opened `reply_lag` mails earlier (1 in 4), a forward to the partner every 50.

    Message-IDs carry the run and the mail's number, so the sink can tell
    which mail an outbound one answers (`MARK`).
    """
    mails: list[Mail] = []
    opened: list[int] = []
    for n in range(count):
        mid = f"<bench-{run}-{n}@client.example>"
        if n % 50 == 49 and opened:
            original = message_from_bytes(mails[opened[-1]].raw, policy=policy.default)
            outgoing = forward(original, DANA, [PARTNER], "Paul, can you take this one? Dana", cc=[SUPPORT])
            del outgoing.message["Message-ID"]
            outgoing.message["Message-ID"] = mid
            mails.append(Mail(n, DANA.email, (SUPPORT, PARTNER), outgoing.message.as_bytes()))
            continue
        if n % 4 == 3 and len(opened) > reply_lag // 2:
            first = opened[-(reply_lag // 2)]
            customer = f"c{run}x{first}@client.example"
            head = (f"Subject: Re: Printer {first} jams\r\nIn-Reply-To: <bench-{run}-{first}@client.example>\r\n"
                    f"References: <bench-{run}-{first}@client.example>\r\n")
            body = f"It also happens on tray 1.\r\n\r\nOn Monday you wrote:\r\n{QUOTE}\r\n"
        else:
            customer = f"c{run}x{n}@client.example"
            head = f"Subject: Printer {n} jams\r\n"
            body = "The printer on the second floor jams on tray 2 every morning.\r\n"
            opened.append(n)
        raw = (f"From: Customer {n} <{customer}>\r\nTo: {SUPPORT}\r\nMessage-ID: {mid}\r\n{head}"
               f"Date: Mon, 23 Nov 2026 10:00:00 +0000\r\nMIME-Version: 1.0\r\n"
               f"Content-Type: text/plain; charset=utf-8\r\n\r\n{body}").encode()
        mails.append(Mail(n, customer, (SUPPORT,), raw))
    return mails


# --- the sink and the clients -----------------------------------------------------------


class TimingSink:
    """The smarthost: notes when each outbound mail arrived and which bench mail it answers."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.reset()
        self.controller = FreePortController(self, hostname="127.0.0.1", port=0, ready_timeout=10.0)

    def reset(self) -> None:
        with self.lock:
            self.count = 0
            self.last = 0.0
            self.first_answer: dict[int, float] = {}

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        now = time.perf_counter()
        raw = envelope.original_content or b""
        head = raw.split(b"\r\n\r\n", 1)[0]
        found = MARK.search(head)
        with self.lock:
            self.count += 1
            self.last = now
            if found:
                self.first_answer.setdefault(int(found.group(2)), now)
        return "250 2.0.0 OK"

    def __enter__(self) -> "TimingSink":
        self.controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.controller.stop()

    @property
    def port(self) -> int:
        return self.controller.port


@dataclass
class Sent:
    started: dict[int, float] = field(default_factory=dict)
    first: float = 0.0
    last_250: float = 0.0
    errors: list[str] = field(default_factory=list)


def send_all(port: int, mails: list[Mail], clients: int) -> Sent:
    """`clients` connections, each sending its share of `mails` in order (mail i goes to client i % clients)."""
    sent = Sent()
    lock = threading.Lock()

    def client(share: list[Mail]) -> None:
        try:
            with smtplib.SMTP("127.0.0.1", port, timeout=120) as smtp:
                for mail in share:
                    t0 = time.perf_counter()
                    smtp.sendmail(mail.sender, list(mail.rcpt_tos), mail.raw)
                    with lock:
                        sent.started[mail.number] = t0
        except Exception as exc:  # reported, never silently
            with lock:
                sent.errors.append(f"{type(exc).__name__}: {exc}")

    threads = [threading.Thread(target=client, args=(mails[i::clients],)) for i in range(clients)]
    sent.first = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    sent.last_250 = time.perf_counter()
    return sent


# --- processes ------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def write_config(data: Path, smtp_port: int, sink_port: int, db_url: str | None = None,
                 broker: str | None = None, namespace: str | None = None) -> Path:
    """The demo world's config with the bench's ports, database and broker; no hourly sender limit in the way."""
    text_ = (DEMO_TOML.read_text(encoding="utf-8").replace("{data}", str(data))
             .replace("{smtp_port}", str(smtp_port)).replace("{sink_port}", str(sink_port))
             .replace("max_message_bytes = 26214400",
                      "max_message_bytes = 26214400\nmax_messages_per_sender_per_hour = 1000000"))
    if db_url:
        text_ = _replace_once(text_, f'url = "sqlite:///{data}/relaydesk.db"', f'url = "{db_url}"')
    if broker:
        queue = f'broker = "{broker}"' + (f'\nnamespace = "{namespace}"' if namespace else "")
        text_ = _replace_once(text_, 'broker = "embedded"', queue)
    path = data / "relaydesk.toml"
    path.write_text(text_, encoding="utf-8")
    return path


def _replace_once(text_: str, old: str, new: str) -> str:
    if old not in text_:
        raise RuntimeError(f"demo.toml changed: {old!r} not found")
    return text_.replace(old, new, 1)


def start_relaydesk(config: Path, *args: str, log_name: str, code: Path = REPO) -> subprocess.Popen[bytes]:
    """`relaydesk ARGS --config CONFIG`, running the code in `code` (this tree, or a baseline's)."""
    log = open(config.parent / log_name, "wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "gateway.cli.main", *args, "--config", str(config)],
        cwd=code, stdout=log, stderr=subprocess.STDOUT, env={**os.environ, "RELAYDESK_SECRET": SECRET},
    )
    log.close()
    return process


def wait_for_smtp(port: int, process: subprocess.Popen[bytes], log: Path, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"process exited: {log.read_text(errors='replace')[-2000:]}")
        try:
            with smtplib.SMTP("127.0.0.1", port, timeout=2):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"no SMTP on {port} within {seconds} s")


def start_bare(*args: str) -> tuple[subprocess.Popen[str], int]:
    process = subprocess.Popen([sys.executable, str(REPO / "bench" / "bare_smtp.py"), *args],
                               stdout=subprocess.PIPE, text=True)
    line = process.stdout.readline() if process.stdout else ""
    if not line.startswith("ready "):
        process.kill()
        raise RuntimeError(f"bare server did not start: {line!r}")
    return process, int(line.split()[1])


def stop(process: subprocess.Popen, seconds: float = 60) -> None:
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


# --- what the processes used --------------------------------------------------------------


def process_tree(root: int) -> list[int]:
    """`root` and its descendants (a `serve` may supervise a worker process of its own)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    tree, todo = [], [root]
    while todo:
        pid = todo.pop()
        tree.append(pid)
        todo.extend(children.get(pid, []))
    return tree


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time of `pids` (those still alive)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / ticks


def peak_rss_mb(pids: list[int]) -> float:
    """The sum of each process's peak resident set (VmHWM)."""
    return _status_mb(pids, "VmHWM")


def rss_mb(pids: list[int]) -> float:
    """The sum of each process's resident set now (VmRSS)."""
    return _status_mb(pids, "VmRSS")


def _status_mb(pids: list[int], key: str) -> float:
    total = 0
    for pid in pids:
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        found = re.search(rf"^{key}:\s+(\d+) kB", status, re.M)
        total += int(found.group(1)) if found else 0
    return round(total / 1024, 1)


def work_left(db_url: str) -> dict[str, int]:
    """Inbox and outbox rows by status, read straight from the database."""
    engine = create_engine(db_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(text(
                "SELECT 'inbox_' || status, count(*) FROM inbox_items GROUP BY status "
                "UNION ALL SELECT 'outbox_' || status, count(*) FROM outbox_items GROUP BY status"
            )).all()
    finally:
        engine.dispose()
    return {name: count for name, count in rows}
