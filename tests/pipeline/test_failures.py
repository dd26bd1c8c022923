"""A failing step never loses the item: attempts and error are kept, then it is parked and can be replayed."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from gateway.channels.intake import accept_raw
from gateway.core.runtime import Runtime
from gateway.pipeline import runner
from gateway.pipeline.context import Inbound
from gateway.pipeline.runner import process_inbox_item, requeue_parked
from storage.blobs import IN_ROW_LIMIT
from storage.models import InboxItem, Message
from tests.conftest import demo_config
from tests.db_errors import database_locked, missing_table
from tests.pipeline.mail import deliver, mail, outbox


@pytest.fixture
def impatient_runtime(db_url: str, tmp_path: Path) -> Iterator[Runtime]:
    rt = Runtime.open(demo_config(tmp_path, db_url, queue={"max_attempts": 2}))
    yield rt
    rt.close()


def _item(runtime: Runtime, inbox_id: int) -> InboxItem:
    with runtime.db.transaction() as session:
        return session.get(InboxItem, inbox_id)


def _explode(ctx: Inbound) -> None:
    raise RuntimeError("disk on fire\nsecond line is not kept")


def test_failing_step_rolls_back_counts_attempts_and_parks(impatient_runtime, monkeypatch) -> None:
    rt = impatient_runtime
    monkeypatch.setattr(runner, "STEPS", runner.STEPS[:-2] + [_explode])
    inbox_id = accept_raw(rt, channel="smtp", raw=mail(), envelope={"rcpt_tos": ["support@vendor.example"]})

    assert process_inbox_item(rt, inbox_id) == []
    first = _item(rt, inbox_id)
    assert (first.status, first.attempts, first.error) == ("pending", 1, "_explode: RuntimeError: disk on fire")
    with rt.db.transaction() as session:
        assert session.query(Message).count() == 0  # the ticket and message of the failed run were rolled back

    assert process_inbox_item(rt, inbox_id) == []
    assert (_item(rt, inbox_id).status, _item(rt, inbox_id).attempts) == ("parked", 2)
    assert process_inbox_item(rt, inbox_id) == []  # parked items wait for an operator

    monkeypatch.undo()
    assert requeue_parked(rt, inbox_id) is True
    assert len(process_inbox_item(rt, inbox_id)) == 1
    replayed = _item(rt, inbox_id)
    assert (replayed.status, replayed.attempts, replayed.error) == ("done", 1, None)  # attempts count runs


@pytest.mark.parametrize("error, held_against_the_mail", [(database_locked, False), (missing_table, True)])
def test_a_run_the_database_broke_off_is_not_held_against_the_mail(impatient_runtime, monkeypatch, tmp_path,
                                                                    error, held_against_the_mail) -> None:
    """An outage does not park mail; an error of the statement itself still does, after max_attempts."""
    rt = impatient_runtime
    failure = error(tmp_path)

    def _database_error(ctx: Inbound) -> None:
        raise failure

    monkeypatch.setattr(runner, "STEPS", runner.STEPS[:-2] + [_database_error])
    inbox_id = accept_raw(rt, channel="smtp", raw=mail(), envelope={"rcpt_tos": ["support@vendor.example"]})
    for _ in range(3):
        assert process_inbox_item(rt, inbox_id) == []
    item = _item(rt, inbox_id)
    assert item.error.startswith("_database_error: OperationalError: (sqlite3.OperationalError) ")
    if held_against_the_mail:
        assert (item.status, item.attempts) == ("parked", 2)
        return
    assert (item.status, item.attempts) == ("pending", 0)
    monkeypatch.undo()
    assert len(process_inbox_item(rt, inbox_id)) == 1  # the database is back: the mail goes through
    assert (_item(rt, inbox_id).status, _item(rt, inbox_id).attempts) == ("done", 1)


def test_mail_that_kills_the_worker_is_parked_after_max_attempts(impatient_runtime, monkeypatch) -> None:
    """A run that dies without recording anything (SIGKILL, a crash in C code) still counts."""
    rt = impatient_runtime
    inbox_id = accept_raw(rt, channel="smtp", raw=mail(), envelope={"rcpt_tos": ["support@vendor.example"]})

    def _die(*_args: object) -> None:
        raise SystemExit("worker process died")  # not an Exception: nothing is recorded by the pipeline

    monkeypatch.setattr(runner, "parse_message", _die)
    for _ in range(2):
        with pytest.raises(SystemExit):
            process_inbox_item(rt, inbox_id)
    assert (_item(rt, inbox_id).status, _item(rt, inbox_id).attempts) == ("pending", 2)

    monkeypatch.undo()
    assert process_inbox_item(rt, inbox_id) == []  # the third run finds the attempts used up
    parked = _item(rt, inbox_id)
    assert parked.status == "parked"
    assert "without finishing" in parked.error


def test_mail_for_no_hosted_account_is_parked_at_once_with_the_reason(sqlite_runtime) -> None:
    inbox_id, out = deliver(sqlite_runtime, mail(to="someone@elsewhere.example"), rcpt=["someone@elsewhere.example"])
    item = _item(sqlite_runtime, inbox_id)
    assert out == [] and item.status == "parked" and item.attempts == 1
    assert item.error == "receive: Unprocessable: no hosted account owns any recipient address (someone@elsewhere.example)"


def test_missing_raw_blob_is_parked_with_the_reason(sqlite_runtime) -> None:
    raw = mail() + b"x" * IN_ROW_LIMIT  # too big for its row: the blob store holds it
    inbox_id = accept_raw(sqlite_runtime, channel="smtp", raw=raw, envelope={"rcpt_tos": ["support@vendor.example"]})
    item = _item(sqlite_runtime, inbox_id)
    sqlite_runtime.blobs.path(item.raw_sha256).unlink()
    assert process_inbox_item(sqlite_runtime, inbox_id) == []
    parked = _item(sqlite_runtime, inbox_id)
    assert parked.status == "parked" and "is missing from the blob store" in parked.error
    assert outbox(sqlite_runtime) == []


def test_broken_mime_is_processed_with_its_problems_kept(sqlite_runtime) -> None:
    raw = (b"From: alice@client.example\r\nTo: support@vendor.example\r\nSubject: =?utf-8?B?broken\r\n"
           b"Content-Type: multipart/mixed; boundary=\"x\"\r\n\r\n--x\r\nContent-Type: text/plain\r\n\r\nhi\x00there")
    inbox_id, _ = deliver(sqlite_runtime, raw)
    assert _item(sqlite_runtime, inbox_id).status == "done"
