"""`relaydesk ingest --history` of an old mailbox, and the commands that need no channel's secrets."""

from __future__ import annotations

import json
import mailbox
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from pathlib import Path

from typer.testing import CliRunner

from gateway.cli.main import app

runner = CliRunner()
NOW = datetime.now(timezone.utc).replace(microsecond=0)


def _json(*args: str):  # type: ignore[no-untyped-def]
    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def _old_mail(i: int, when: datetime, *, in_reply_to: str | None = None) -> bytes:
    reply = f"In-Reply-To: {in_reply_to}\r\n" if in_reply_to else ""
    return (f"From: Customer {i} <c{i}@client.example>\r\nTo: support@vendor.example\r\n"
            f"Subject: Request {i}\r\nMessage-ID: <old-{i}-{when.timestamp():.0f}@client.example>\r\n{reply}"
            f"Date: {format_datetime(when)}\r\n\r\nText {i}.\r\n").encode()


def test_a_maildir_ingested_as_history_keeps_its_dates_and_sends_nothing(config_file: Path, tmp_path: Path) -> None:
    folder = mailbox.Maildir(tmp_path / "old-mail")
    long_ago, lately = NOW - timedelta(days=30), NOW - timedelta(days=2)
    folder.add(_old_mail(1, long_ago))
    folder.add(_old_mail(2, lately))
    result = runner.invoke(app, ["ingest", str(tmp_path / "old-mail"), "--account", "vendor", "--history",
                                 "--resolve-after-days", "14", "--config", str(config_file)])
    assert result.exit_code == 0, result.output
    assert "2 of 2 mail(s) processed as history, 0 outbound mail(s) queued" in result.stdout
    assert "mails/s)" in result.stdout
    rows = {row["subject"]: row for row in _json("tickets", "--config", str(config_file))}
    assert rows["Request 1"]["created_at"] == long_ago.isoformat().replace("+00:00", "Z")
    assert rows["Request 1"]["status"] == "resolved"  # its last mail is older than 14 days
    assert rows["Request 2"]["status"] == "new"
    shown = _json("show", rows["Request 2"]["ref"], "--config", str(config_file))
    assert shown["messages"][0]["created_at"] == lately.isoformat().replace("+00:00", "Z")
    assert {o["status"] for o in shown["outbound"]} == {"withheld"}  # the acknowledgement, never sent


def test_the_same_mail_ingested_live_is_acknowledged(config_file: Path, tmp_path: Path) -> None:
    eml = tmp_path / "new.eml"
    eml.write_bytes(_old_mail(3, NOW))
    result = runner.invoke(app, ["ingest", str(eml), "--account", "vendor", "--live", "--config", str(config_file)])
    assert result.exit_code == 0 and "1 outbound mail(s) queued" in result.stdout


def test_desk_commands_run_without_the_imap_password(config_file: Path, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv("VENDOR_IMAP_PASSWORD", raising=False)
    with config_file.open("a", encoding="utf-8") as config:
        config.write('\n[[imap]]\naccount = "vendor"\nhost = "127.0.0.1"\nuser = "support@vendor.example"\n'
                     'password = "env:VENDOR_IMAP_PASSWORD"\n')
    assert _json("tickets", "--config", str(config_file)) == []
    assert _json("inbox", "--config", str(config_file)) == []
    assert runner.invoke(app, ["show", "VND-1", "--config", str(config_file)]).exit_code == 1  # no such ticket
    serve = runner.invoke(app, ["serve", "--config", str(config_file)])
    assert serve.exit_code != 0
    assert "imap[0].password: environment variable VENDOR_IMAP_PASSWORD is not set" in serve.output


def test_the_inbox_table_gives_each_items_reason(config_file: Path, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("COLUMNS", "250")  # one row a line
    eml = tmp_path / "auto.eml"
    eml.write_bytes(b"From: Mailer <mailer@client.example>\r\nTo: support@vendor.example\r\nSubject: Out of office\r\n"
                    b"Auto-Submitted: auto-replied\r\nMessage-ID: <ooo@client.example>\r\n\r\nAway.\r\n")
    assert runner.invoke(app, ["ingest", str(eml), "--config", str(config_file)]).exit_code == 0
    table = runner.invoke(app, ["inbox", "--config", str(config_file)])
    assert table.exit_code == 0
    assert "Reason" in table.stdout and "matched no ticket; kept in the inbox only" in table.stdout
