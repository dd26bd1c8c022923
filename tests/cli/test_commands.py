"""`relaydesk ingest`, `tickets` and `show` through typer's CliRunner on a real config file."""

from __future__ import annotations

import json
import mailbox
from pathlib import Path

from typer.testing import CliRunner

from gateway.cli.main import app
from tests.pipeline.mail import mail

runner = CliRunner()


def _run(*args: str):  # type: ignore[no-untyped-def]
    return runner.invoke(app, list(args))


def _json(*args: str):  # type: ignore[no-untyped-def]
    result = _run(*args, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_ingest_a_file_then_list_and_show_it(config_file: Path, tmp_path: Path) -> None:
    eml = tmp_path / "printer.eml"
    eml.write_bytes(mail(attachment=("log.pdf", "application/pdf", b"%PDF-1.4 x")))
    result = _run("ingest", str(eml), "--account", "vendor", "--config", str(config_file))
    assert result.exit_code == 0, result.output
    assert "1 of 1 mail(s) processed, 1 outbound mail(s) queued" in result.stdout

    [row] = _json("tickets", "--config", str(config_file))
    assert {k: row[k] for k in ("ref", "account", "status", "subject", "parent")} == {
        "ref": "VND-1", "account": "vendor", "status": "new", "subject": "Printer jams on tray 2", "parent": None}
    assert row["created_at"].endswith("Z")

    detail = _json("show", "VND-1", "--config", str(config_file))
    assert detail["requester"] == {"name": "Alice", "email": "alice@client.example", "telegram": None}
    [message] = detail["messages"]
    assert message["channel"] == "cli" and message["attachments"][0]["filename"] == "log.pdf"

    people = _run("show", "VND-1", "--config", str(config_file))
    assert people.exit_code == 0 and "VND-1" in people.stdout and "Printer jams" in people.stdout
    table = _run("tickets", "--config", str(config_file))
    assert table.exit_code == 0 and "VND-1" in table.stdout


def test_ingesting_the_same_file_twice_changes_nothing(config_file: Path, tmp_path: Path) -> None:
    eml = tmp_path / "once.eml"
    eml.write_bytes(mail())
    for _ in range(2):
        assert _run("ingest", str(eml), "--config", str(config_file)).exit_code == 0
    detail = _json("show", "VND-1", "--config", str(config_file))
    assert len(detail["messages"]) == 1
    assert len(_json("tickets", "--config", str(config_file))) == 1


def test_ingest_a_folder_with_an_mbox_uses_the_headers_without_account(config_file: Path, tmp_path: Path) -> None:
    folder = tmp_path / "import"
    (folder / "nested").mkdir(parents=True)
    box = mailbox.mbox(folder / "nested" / "archive.mbox")
    box.add(mail(subject="From mbox one"))
    box.add(mail(to="service@partner.example", subject="From mbox two"))
    box.close()
    (folder / "loose.eml").write_bytes(mail(subject="Loose file"))
    (folder / "notes.txt").write_text("not mail")

    result = _run("ingest", str(folder), "--config", str(config_file))
    assert result.exit_code == 0, result.output
    assert "3 of 3 mail(s) processed" in result.stdout
    by_account = {(r["account"], r["subject"]) for r in _json("tickets", "--config", str(config_file))}
    assert by_account == {("vendor", "From mbox one"), ("partner", "From mbox two"), ("vendor", "Loose file")}
    partner_only = _json("tickets", "--account", "partner", "--config", str(config_file))
    assert [r["ref"] for r in partner_only] == ["PTN-1"]
    assert _json("tickets", "--status", "closed", "--config", str(config_file)) == []


def test_mail_for_nobody_is_reported_and_kept(config_file: Path, tmp_path: Path) -> None:
    eml = tmp_path / "stray.eml"
    eml.write_bytes(mail(to="nobody@elsewhere.example"))
    result = _run("ingest", str(eml), "--config", str(config_file))
    assert result.exit_code == 1
    assert "parked: receive: Unprocessable: no hosted account owns" in result.stderr


def test_bad_arguments_are_clear_errors(config_file: Path, tmp_path: Path) -> None:
    missing = _run("show", "VND-99", "--config", str(config_file))
    assert missing.exit_code == 1 and "no ticket VND-99" in missing.stderr
    eml = tmp_path / "a.eml"
    eml.write_bytes(mail())
    unknown = _run("ingest", str(eml), "--account", "nope", "--config", str(config_file))
    assert unknown.exit_code == 2 and "--account nope: no such account" in unknown.stderr
    external = _run("ingest", str(eml), "--account", "subco", "--config", str(config_file))
    assert external.exit_code == 2 and "external account receives no mail" in external.stderr
    wrong = _run("ingest", str(tmp_path / "relaydesk.toml"), "--config", str(config_file))
    assert wrong.exit_code == 2 and "not a .eml or .mbox file" in wrong.stderr


def test_parse_prints_what_was_read_for_people(tmp_path: Path) -> None:
    eml = tmp_path / "reply.eml"
    quoted = "Works now, thanks!\n\nOn Mon, 23 Nov 2026, Vendor Ltd wrote:\n> Did the roller help?\n"
    eml.write_bytes(mail(subject="Re: [VND-1] Printer", text=quoted, attachment=("photo.jpg", "image/jpeg", b"\xff\xd8")))
    result = _run("parse", str(eml))
    assert result.exit_code == 0, result.output
    for expected in ("alice@client.example", "Re: [VND-1] Printer", "Works now, thanks!", "Did the roller help?",
                     "photo.jpg", "normal"):
        assert expected in result.stdout
