"""The README's quick start: the example config as shipped, a first mail, a ticket in `relaydesk tickets`."""

from __future__ import annotations

import json
import smtplib
import subprocess
import sys
import urllib.request
from email.message import EmailMessage
from pathlib import Path

from tests.e2e.harness import free_port, wait_until

REPO = Path(__file__).resolve().parents[2]


def _relaydesk(*args: str) -> list[str]:
    return [sys.executable, "-m", "gateway.cli.main", *args]


def test_example_config_takes_a_first_mail(tmp_path: Path) -> None:
    port = free_port()
    example = (REPO / "config.example.toml").read_text(encoding="utf-8")
    assert 'listen = "127.0.0.1:2525"' in example  # the README's address; moved to a free port here
    assert 'listen = "127.0.0.1:8025"' in example  # the web desk's address, likewise
    web_port = free_port()
    (tmp_path / "relaydesk.toml").write_text(
        example.replace("127.0.0.1:2525", f"127.0.0.1:{port}").replace("127.0.0.1:8025", f"127.0.0.1:{web_port}"),
        encoding="utf-8")
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO)}
    log = open(tmp_path / "serve.log", "wb")
    server = subprocess.Popen(_relaydesk("serve"), cwd=tmp_path, stdout=log, stderr=subprocess.STDOUT, env=env)
    try:
        msg = EmailMessage()
        msg["From"] = "Alice <alice@client.example>"
        msg["To"] = "support@vendor.example"
        msg["Subject"] = "Printer jams on tray 2"
        msg.set_content("Hello, the printer jams on tray 2 since Monday.")

        def sent() -> bool:
            try:
                with smtplib.SMTP("127.0.0.1", port, timeout=5) as smtp:
                    smtp.send_message(msg)
                return True
            except OSError:
                assert server.poll() is None, (tmp_path / "serve.log").read_text()
                return False

        wait_until(sent, 60, "the example server to take mail")

        def tickets() -> list[dict]:
            out = subprocess.run(_relaydesk("tickets", "--json"), cwd=tmp_path, env=env,
                                 capture_output=True, text=True, check=True)
            return json.loads(out.stdout)

        rows = wait_until(tickets, 60, "the first ticket")
        assert [(r["ref"], r["account"], r["subject"]) for r in rows] == [("VND-1", "vendor", "Printer jams on tray 2")]
        assert (tmp_path / "data" / "relaydesk.db").exists()  # embedded default: SQLite in ./data
        with urllib.request.urlopen(f"http://127.0.0.1:{web_port}/sign-in", timeout=10) as page:
            assert page.status == 200 and b"Sign in" in page.read()  # the same command serves the desk
    finally:
        server.terminate()
        assert server.wait(30) == 0
        log.close()
