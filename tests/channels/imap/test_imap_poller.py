"""The IMAP channel against a real Dovecot: import, flag/move, IDLE, restarts, Sent folders, failures."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterator
from datetime import datetime, timezone
from contextlib import contextmanager
from typing import Any

import pytest
from aioimaplib import Response
from sqlalchemy import func, select

from gateway.channels.imap import folder_import as imap_import
from gateway.channels.imap.folder_import import FolderImport
from gateway.channels.imap.poller import ImapChannel
from gateway.channels.imap.responses import FetchedMail, mails_by_uid
from gateway.channels.imap.utf7 import folder_argument
from gateway.core.runtime import Runtime
from gateway.pipeline.runner import process_inbox_item
from storage.channel_models import ImapFolder
from storage.models import InboxItem, Link, Message, OutboxItem, Ticket
from tests.channels.imap.conftest import SUPPORT
from tests.channels.imap.dovecot import Dovecot
from tests.e2e.harness import wait_until


def customer_mail(number: int, extra: bytes = b"") -> bytes:
    return (
        b"From: Alice <alice@customer.example>\r\nTo: support@vendor.example\r\n"
        b"Subject: Printer %d is broken\r\nMessage-ID: <printer-%d@customer.example>\r\n"
        b"Date: Mon, 23 Nov 2026 09:00:00 +0000\r\n%b\r\nIt jams on every page.\r\n" % (number, number, extra)
    )


@contextmanager
def polling(runtime: Runtime) -> Iterator[list[int]]:
    """The IMAP channel running; yields the inbox ids it hands to the queue, in order."""
    enqueued: list[int] = []
    channel = ImapChannel(runtime, enqueue=enqueued.append)
    channel.start()
    try:
        yield enqueued
    finally:
        channel.stop()


def inbox_count(runtime: Runtime) -> int:
    with runtime.db.transaction() as session:
        return session.scalar(select(func.count()).select_from(InboxItem).where(InboxItem.channel == "imap"))


def ticket_subjects(runtime: Runtime) -> list[str]:
    with runtime.db.transaction() as session:
        return sorted(session.scalars(select(Ticket.subject)))


def test_new_mail_becomes_tickets_flagged_only_after_import(open_runtime, server: Dovecot) -> None:
    server.append(SUPPORT, "INBOX", customer_mail(1))
    server.append(SUPPORT, "INBOX", customer_mail(2))
    runtime = open_runtime()
    with polling(runtime) as enqueued:
        wait_until(lambda: len(enqueued) == 2, 15, "both mails imported")
        for inbox_id in enqueued:
            process_inbox_item(runtime, inbox_id)
        assert ticket_subjects(runtime) == ["Printer 1 is broken", "Printer 2 is broken"]
        assert all("\\Seen" in flags for flags in server.flags(SUPPORT, "INBOX"))

        # IDLE: with poll_seconds = 60, a new mail still arrives at once.
        started = time.monotonic()
        server.append(SUPPORT, "INBOX", customer_mail(3))
        wait_until(lambda: len(enqueued) == 3, 15, "the third mail imported while idling")
        assert time.monotonic() - started < 10
    with runtime.db.transaction() as session:
        cursor = session.scalar(select(ImapFolder))
        assert (cursor.folder, cursor.last_uid) == ("INBOX", 3)


def test_a_restarted_channel_imports_only_what_is_new(open_runtime, server: Dovecot) -> None:
    server.append(SUPPORT, "INBOX", customer_mail(1))
    runtime = open_runtime(after_import="leave")  # nothing marks the mail: only the cursor knows
    with polling(runtime) as enqueued:
        wait_until(lambda: len(enqueued) == 1, 15, "first mail imported")
    server.append(SUPPORT, "INBOX", customer_mail(2))
    with polling(runtime) as enqueued:
        wait_until(lambda: len(enqueued) == 1, 15, "second mail imported")
        time.sleep(0.5)
        assert len(enqueued) == 1
    assert inbox_count(runtime) == 2
    assert not any("\\Seen" in flags for flags in server.flags(SUPPORT, "INBOX"))


def test_failure_after_the_commit_imports_the_mail_once(open_runtime, server: Dovecot, monkeypatch) -> None:
    """The connection drops after the inbox commit, before the flag: the retry finds the stored mail."""
    server.append(SUPPORT, "INBOX", customer_mail(1))
    runtime = open_runtime()
    real_after_import = FolderImport._after_import

    calls: list[list[int]] = []

    async def drop_first(self: FolderImport, client: Any, uids: list[int]) -> None:
        calls.append(list(uids))
        if len(calls) == 1:
            raise ConnectionResetError("connection reset by peer")
        await real_after_import(self, client, uids)

    monkeypatch.setattr(FolderImport, "_after_import", drop_first)
    with polling(runtime) as enqueued:
        wait_until(lambda: len(enqueued) == 1, 20, "mail imported after the reconnect")
    assert calls == [[1], [1]]
    assert inbox_count(runtime) == 1
    assert "\\Seen" in server.flags(SUPPORT, "INBOX")[0]
    process_inbox_item(runtime, enqueued[0])
    assert ticket_subjects(runtime) == ["Printer 1 is broken"]


def test_a_connection_lost_mid_import_resumes_with_the_batch_it_broke(open_runtime, server: Dovecot,
                                                                       monkeypatch) -> None:
    """The cursor passes a batch once it is stored: a lost connection reads that batch again, no other."""
    for number in range(1, 6):
        server.append(SUPPORT, "INBOX", customer_mail(number))
    monkeypatch.setattr(imap_import, "FETCH_BATCH", 2)
    runtime = open_runtime(after_import="leave")  # nothing marks the mails: only the cursor knows
    real_store = FolderImport._store
    stored: list[int] = []

    async def drop_after_the_third(self: FolderImport, cursor: Any, uid: int, mail: FetchedMail) -> tuple[int, bool]:
        stored.append(uid)
        result = await real_store(self, cursor, uid, mail)
        if stored == [1, 2, 3]:
            raise ConnectionResetError("connection reset by peer")
        return result

    monkeypatch.setattr(FolderImport, "_store", drop_after_the_third)
    with polling(runtime):
        wait_until(lambda: 5 in stored, 20, "the last mail read after the reconnect")
    assert stored == [1, 2, 3, 3, 4, 5]  # batches [1, 2] [3, 4] [5]: the broken one is read again, no other
    assert inbox_count(runtime) == 5
    with runtime.db.transaction() as session:
        assert session.scalar(select(ImapFolder.last_uid)) == 5


def test_mail_is_fetched_in_batches_and_a_large_mail_on_its_own(open_runtime, server: Dovecot,
                                                                monkeypatch) -> None:
    for number in range(1, 31):
        server.append(SUPPORT, "INBOX", customer_mail(number))
    server.append(SUPPORT, "INBOX", customer_mail(31, b"X-Padding: " + b"x" * (imap_import.BATCH_ALONE_BYTES + 10)
                                                  + b"\r\n"))
    server.append(SUPPORT, "INBOX", customer_mail(32))
    runtime = open_runtime()
    real_fetch = FolderImport._fetch
    fetches: list[list[int]] = []

    async def counted(self: FolderImport, client: Any, uids: list[int]) -> dict[int, FetchedMail]:
        fetches.append(list(uids))
        return await real_fetch(self, client, uids)

    monkeypatch.setattr(FolderImport, "_fetch", counted)
    with polling(runtime) as enqueued:
        wait_until(lambda: len(enqueued) == 32, 20, "all 32 mails imported")
    assert fetches == [list(range(1, 26)), list(range(26, 31)), [31], [32]]
    assert inbox_count(runtime) == 32
    assert all("\\Seen" in flags for flags in server.flags(SUPPORT, "INBOX"))


def test_a_batch_refused_outright_is_read_one_mail_at_a_time(open_runtime, caplog) -> None:
    """The server says NO to the batch: each mail is asked for alone, and the one it cannot read is reported."""
    class Refusing:
        """The one IMAP command `_fetch` sends, answered the way a server with a damaged mail file answers."""

        def __init__(self) -> None:
            self.asked: list[str] = []

        async def uid(self, command: str, uid_set: str, items: str) -> Response:
            self.asked.append(uid_set)
            if uid_set in ("1", "3"):
                return Response("OK", [b"1 FETCH (UID %s BODY[] {2}" % uid_set.encode(), bytearray(b"hi"), b")",
                                       b"Fetch completed."])
            return Response("NO", [b"Error: Corrupted mail file"])

    runtime = open_runtime()
    box = runtime.config.imap[0]
    importer = FolderImport(runtime, box, box.mailbox, "INBOX", "inbox", lambda _id: None, lambda: True)
    client = Refusing()
    with caplog.at_level(logging.ERROR, logger="gateway.channels.imap.folder_import"):
        fetched = asyncio.run(importer._fetch(client, [1, 2, 3]))
    assert {uid: mail.raw for uid, mail in fetched.items()} == {1: b"hi", 3: b"hi"}
    assert importer.unreadable == {2}
    assert client.asked == ["1,2,3", "1", "2", "3"]
    assert "UID 2 could not be read (Error: Corrupted mail file); left in the folder" in caplog.text


def test_fetch_responses_are_read_whichever_side_of_the_body_the_uid_and_date_stand() -> None:
    lines = [b'1 FETCH (UID 7 INTERNALDATE " 4-Dec-2026 16:00:05 +0100" BODY[] {5}', bytearray(b"first"), b")",
             b"2 FETCH (FLAGS (\\Seen))",  # a flag change the server slipped in: no body
             b"3 FETCH (BODY[] {6}", bytearray(b"second"), b' UID 9 INTERNALDATE "30-Nov-2026 09:00:00 +0000")',
             b"4 FETCH (UID 11 BODY[] {5}", bytearray(b"third"), b")",
             b"Fetch completed."]
    mails = mails_by_uid(lines)
    assert {uid: mail.raw for uid, mail in mails.items()} == {7: b"first", 9: b"second", 11: b"third"}
    assert mails[7].received_at.isoformat() == "2026-12-04T15:00:05+00:00"
    assert mails[9].received_at.isoformat() == "2026-11-30T09:00:00+00:00"
    assert mails[11].received_at is None


def test_a_new_uidvalidity_starts_over_without_duplicate_tickets(open_runtime, server: Dovecot) -> None:
    """The folder is deleted and made again (new UIDVALIDITY, UIDs from 1): its mail is read again,
    and what was already stored is recognised by its Message-ID."""
    server.recreate(SUPPORT, "Tickets")
    server.append(SUPPORT, "Tickets", customer_mail(1))
    runtime = open_runtime(folders=["Tickets"], after_import="leave")
    with polling(runtime) as enqueued:
        wait_until(lambda: len(enqueued) == 1, 15, "mail imported")
    process_inbox_item(runtime, enqueued[0])
    server.recreate(SUPPORT, "Tickets")
    server.append(SUPPORT, "Tickets", customer_mail(1))
    server.append(SUPPORT, "Tickets", customer_mail(2))
    with polling(runtime) as again:
        wait_until(lambda: len(again) == 2, 15, "both mails imported under the new UIDVALIDITY")
    for inbox_id in again:
        process_inbox_item(runtime, inbox_id)
    assert ticket_subjects(runtime) == ["Printer 1 is broken", "Printer 2 is broken"]
    with runtime.db.transaction() as session:
        item = session.get(InboxItem, again[0])
        assert item.status == "done" and any("duplicate" in p for p in item.problems), item.problems


def test_sent_folder_adds_agent_replies_and_ignores_other_mail(open_runtime, server: Dovecot) -> None:
    server.append(SUPPORT, "INBOX", customer_mail(1))
    runtime = open_runtime(sent_folders=["Sent"])
    with polling(runtime) as enqueued:
        wait_until(lambda: len(enqueued) == 1, 15, "customer mail imported")
        process_inbox_item(runtime, enqueued[0])
        server.append(SUPPORT, "Sent", (
            b"From: Dana <dana@vendor.example>\r\nTo: alice@customer.example\r\nSubject: Re: Printer 1 is broken\r\n"
            b"Message-ID: <reply-1@vendor.example>\r\nIn-Reply-To: <printer-1@customer.example>\r\n\r\n"
            b"A technician comes tomorrow.\r\n"
        ))
        server.append(SUPPORT, "Sent", (
            b"From: Dana <dana@vendor.example>\r\nTo: bob@friends.example\r\nSubject: Lunch?\r\n"
            b"Message-ID: <lunch@vendor.example>\r\n\r\nThursday?\r\n"
        ))
        wait_until(lambda: len(enqueued) == 3, 15, "both sent mails imported")
        for inbox_id in enqueued[1:]:
            process_inbox_item(runtime, inbox_id)
    with runtime.db.transaction() as session:
        texts = session.scalars(select(Message.text).order_by(Message.id)).all()
        assert texts == ["It jams on every page.", "A technician comes tomorrow."]
        # Alice got Dana's reply from Dana herself: the gateway sends only its acknowledgement.
        assert session.scalars(select(OutboxItem.kind)).all() == ["ack"]
        lunch = session.get(InboxItem, enqueued[2])
        assert lunch.status == "done" and any("Sent folder" in p for p in lunch.problems)
    assert ticket_subjects(runtime) == ["Printer 1 is broken"]


def test_folders_named_in_any_language(open_runtime, server: Dovecot) -> None:
    """Names go over the wire in modified UTF-7, quoted: spaces, Cyrillic and umlauts work."""
    requests, archive = "Входящие заявки", "Erledigte Aufträge"
    for name in (requests, archive):
        server.recreate(SUPPORT, folder_argument(name))
    server.append(SUPPORT, folder_argument(requests), customer_mail(1))
    runtime = open_runtime(folders=[requests], after_import=f"move:{archive}")
    with polling(runtime) as enqueued:
        wait_until(lambda: len(enqueued) == 1, 15, "mail imported from the Cyrillic folder")
        wait_until(lambda: server.count(SUPPORT, folder_argument(archive)) == 1, 10, "mail moved")
    assert server.count(SUPPORT, folder_argument(requests)) == 0


def test_move_after_import(open_runtime, server: Dovecot) -> None:
    server.append(SUPPORT, "INBOX", customer_mail(1))
    runtime = open_runtime(after_import="move:Processed")
    with polling(runtime) as enqueued:
        wait_until(lambda: len(enqueued) == 1, 15, "mail imported")
        wait_until(lambda: server.count(SUPPORT, "Processed") == 1, 10, "mail moved")
    assert server.count(SUPPORT, "INBOX") == 0


def test_since_limits_the_first_import(open_runtime, server: Dovecot) -> None:
    server.append(SUPPORT, "INBOX", customer_mail(1), internal_date=time.mktime((2020, 5, 1, 12, 0, 0, 0, 0, -1)))
    server.append(SUPPORT, "INBOX", customer_mail(2))
    runtime = open_runtime(since="2026-01-01")
    with polling(runtime) as enqueued:
        wait_until(lambda: len(enqueued) == 1, 15, "recent mail imported")
        process_inbox_item(runtime, enqueued[0])
    assert ticket_subjects(runtime) == ["Printer 2 is broken"]


def test_oversized_mail_is_left_in_the_folder_and_reported(open_runtime, server: Dovecot, caplog) -> None:
    server.append(SUPPORT, "INBOX", customer_mail(1, b"X-Padding: " + b"x" * 5000 + b"\r\n"))
    server.append(SUPPORT, "INBOX", customer_mail(2))
    runtime = open_runtime(smtp={"max_message_bytes": 4000})
    with caplog.at_level(logging.INFO, logger="gateway.channels.imap.poller"), polling(runtime) as enqueued:
        wait_until(lambda: len(enqueued) == 1, 15, "the small mail imported")
        process_inbox_item(runtime, enqueued[0])
    assert ticket_subjects(runtime) == ["Printer 2 is broken"]
    assert "UID 1 is larger than smtp.max_message_bytes (4000)" in caplog.text
    assert "\\Seen" not in server.flags(SUPPORT, "INBOX")[0]


@pytest.mark.parametrize(("box", "expected"), [
    ({"password": "wrong"}, "login refused"),
    ({"folders": ["Archive/Missing"]}, "cannot open folder 'Archive/Missing'"),
])
def test_refusals_are_logged_and_retried(open_runtime, caplog, box: dict[str, Any], expected: str) -> None:
    runtime = open_runtime(**box)
    with caplog.at_level(logging.WARNING, logger="gateway.channels.imap.poller"), polling(runtime):
        wait_until(lambda: caplog.text.count(expected) >= 2, 15, f"{expected!r} logged and retried")
    assert "retrying in" in caplog.text


def first_syncs_done(runtime: Runtime) -> int:
    with runtime.db.transaction() as session:
        return session.scalar(select(func.count()).select_from(ImapFolder).where(ImapFolder.synced_at.is_not(None)))


def dispatcher_forward(number: int) -> bytes:
    """Dana's forward of customer_mail(number) to the partner FixIt, two hours after it came."""
    return (
        b"From: Dana <dana@vendor.example>\r\nTo: jobs@fixit.example\r\nSubject: Fwd: Printer %d is broken\r\n"
        b"Message-ID: <fwd-%d@vendor.example>\r\nDate: Mon, 23 Nov 2026 11:00:00 +0000\r\n\r\nPlease have a look.\r\n\r\n"
        b"---------- Forwarded message ---------\r\nFrom: Alice <alice@customer.example>\r\n"
        b"Date: Mon, 23 Nov 2026 09:00:00 +0000\r\nSubject: Printer %d is broken\r\nTo: support@vendor.example\r\n\r\n"
        b"It jams on every page.\r\n" % (number, number, number)
    )


@pytest.mark.parametrize("notify", [False, True], ids=["silent", "notify_partners_of_history"])
def test_a_historical_forward_applied_before_its_original_waits_for_it(open_runtime, server: Dovecot,
                                                                       notify: bool) -> None:
    """Order does not matter: the forward is held while its original waits, then linked at its own time."""
    an_hour_ago = time.time() - 3600  # the server got both before relaydesk came (a mail of that very second is live)
    server.append(SUPPORT, "INBOX", customer_mail(1), an_hour_ago)
    server.append(SUPPORT, "Sent", dispatcher_forward(1), an_hour_ago)
    runtime = open_runtime(sent_folders=["Sent"], notify_partners_of_history=notify)
    with polling(runtime) as enqueued:
        wait_until(lambda: len(enqueued) == 2 and first_syncs_done(runtime) == 2, 15, "both folders' first syncs")
    with runtime.db.transaction() as session:
        by_folder = {session.get(InboxItem, i).envelope["imap"]["folder"]: i for i in enqueued}
    assert process_inbox_item(runtime, by_folder["Sent"]) == []
    with runtime.db.transaction() as session:
        held = session.get(InboxItem, by_folder["Sent"])
        assert (held.status, held.attempts) == ("pending", 0)
        assert held.error.startswith("held: a Sent mail that threads nowhere yet")
    process_inbox_item(runtime, by_folder["INBOX"])
    sent = process_inbox_item(runtime, by_folder["Sent"])
    with runtime.db.transaction() as session:
        link = session.scalar(select(Link))
        assert link is not None, [(i.status, i.error, i.problems) for i in session.scalars(select(InboxItem))]
        assert link.parent.subject == "Printer 1 is broken" and link.child.account.slug == "fixit"
        forwarded = datetime(2026, 11, 23, 11, 0, tzinfo=timezone.utc)
        assert link.created_at == forwarded and link.child.created_at == forwarded
        assert link.parent.created_at == datetime(2026, 11, 23, 9, 0, tzinfo=timezone.utc)
        outbox = dict(session.execute(select(OutboxItem.kind, OutboxItem.status)).all())
    assert outbox == {"ack": "withheld", "handoff": "pending" if notify else "withheld"}
    assert len(sent) == (1 if notify else 0)
