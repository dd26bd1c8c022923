"""SMTP ingest benchmark: `relaydesk serve` against a bare SMTP server, same run.

The gateway answers `250` only after the raw mail is fsynced and its inbox
row committed, and its in-process worker processes and acknowledges every
mail meanwhile (embedded broker, SQLite, a fresh temporary data directory).
The baseline is an aiosmtpd server whose handler only answers `250`: the
cost of the SMTP conversation itself on this machine.  Both are measured
with 1 and with 8 concurrent clients (one connection each, several mails per
connection); each figure is the median of several rounds.  Prints JSON.

    python bench/ingest.py [--rounds 5] [--mails 200]
"""

from __future__ import annotations

import argparse
import json
import os
import smtplib
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from itertools import count
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from aiosmtpd.smtp import SMTP, Envelope, Session  # noqa: E402  (after the path tweak)

from gateway.channels.smtp import FreePortController  # noqa: E402

DEMO_TOML = REPO.parent / "shared" / "scenarios" / "demo.toml"
RECIPIENT = "support@vendor.example"
CONCURRENCY = (1, 8)


class Answer250:
    """The baseline handler: accept everything, keep nothing."""

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        return "250 OK"


_serial = count(1)
_serial_lock = threading.Lock()


def _mail() -> tuple[str, bytes]:
    """A distinct small customer mail (distinct bytes, so the gateway's dedupe never short-cuts)."""
    with _serial_lock:
        n = next(_serial)
    sender = f"bench{n}@client.example"
    raw = (
        f"From: <{sender}>\r\nTo: <{RECIPIENT}>\r\nSubject: Benchmark mail {n}\r\n"
        f"Message-ID: <bench-{n}-{os.getpid()}@client.example>\r\n\r\n"
        "The printer on the second floor jams on tray 2 again.\r\n" * 1
    ).encode()
    return sender, raw


def _client(port: int, mails: int, errors: list[str]) -> None:
    try:
        with smtplib.SMTP("127.0.0.1", port, timeout=60) as client:
            for _ in range(mails):
                sender, raw = _mail()
                client.sendmail(sender, [RECIPIENT], raw)
    except Exception as exc:  # reported in the JSON, never silently
        errors.append(f"{type(exc).__name__}: {exc}")


def one_round(port: int, clients: int, mails: int) -> float:
    """Messages per second for `mails` mails spread over `clients` concurrent connections."""
    per_client = max(1, mails // clients)
    errors: list[str] = []
    threads = [threading.Thread(target=_client, args=(port, per_client, errors)) for _ in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    if errors:
        raise RuntimeError(f"{len(errors)} clients failed, first: {errors[0]}")
    return per_client * clients / elapsed


def measure(port: int, rounds: int, mails: int) -> dict[str, float]:
    one_round(port, 1, 20)  # warm-up: connections, caches, SQLite pages
    return {
        str(clients): round(statistics.median(one_round(port, clients, mails) for _ in range(rounds)), 1)
        for clients in CONCURRENCY
    }


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_gateway(data: Path, smarthost_port: int) -> tuple[subprocess.Popen[bytes], int]:
    port = _free_port()
    config = data / "relaydesk.toml"
    config.write_text(
        DEMO_TOML.read_text(encoding="utf-8")
        .replace("{data}", str(data))
        .replace("{smtp_port}", str(port))
        .replace("{sink_port}", str(smarthost_port))
        .replace("max_message_bytes = 26214400", "max_message_bytes = 26214400\nmax_messages_per_sender_per_hour = 100000"),
        encoding="utf-8",
    )
    log = open(data / "serve.log", "wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "gateway.cli.main", "serve", "--config", str(config)],
        cwd=REPO, stdout=log, stderr=subprocess.STDOUT,
        env={**os.environ, "RELAYDESK_SECRET": os.environ.get("RELAYDESK_SECRET", "bench-secret-not-for-production")},
    )
    log.close()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"relaydesk serve exited: {(data / 'serve.log').read_text()[-2000:]}")
        try:
            with smtplib.SMTP("127.0.0.1", port, timeout=2):
                return process, port
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("relaydesk serve did not start within 30 s")


def stop_gateway(process: subprocess.Popen[bytes], data: Path) -> None:
    """SIGTERM; a server that has not stopped in a minute is reported with its log and killed."""
    process.terminate()
    try:
        process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        print("relaydesk serve did not stop within 60 s of SIGTERM; its log ends:", file=sys.stderr)
        print((data / "serve.log").read_text(errors="replace")[-4000:], file=sys.stderr)
        process.kill()
        process.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--mails", type=int, default=200, help="mails per round")
    args = parser.parse_args()

    bare = FreePortController(Answer250(), hostname="127.0.0.1", port=0)
    bare.start()
    try:
        baseline = measure(bare.port, args.rounds, args.mails)
        with tempfile.TemporaryDirectory(prefix="relaydesk-bench-") as tmp:
            # The bare server doubles as the gateway's smarthost, so acknowledgements go somewhere.
            process, port = start_gateway(Path(tmp), bare.port)
            try:
                gateway = measure(port, args.rounds, args.mails)
            finally:
                stop_gateway(process, Path(tmp))
    finally:
        bare.stop()

    print(json.dumps({
        "benchmark": "smtp ingest, messages per second (median of rounds)",
        "rounds": args.rounds,
        "mails_per_round": args.mails,
        "gateway": gateway,
        "bare_aiosmtpd": baseline,
        "gateway_to_bare_ratio": {k: round(gateway[k] / baseline[k], 3) for k in gateway},
        "setup": "relaydesk serve, embedded broker + in-process worker, SQLite (WAL, synchronous=FULL), "
                 "blob fsync before 250; clients on one connection each",
    }, indent=2))


if __name__ == "__main__":
    main()
