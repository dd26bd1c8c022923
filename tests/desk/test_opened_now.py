"""A ticket opened in this transaction is answered from memory; anything else still asks the database."""

from __future__ import annotations

from sqlalchemy import func, insert, select

from gateway.core.runtime import Runtime
from gateway.desk.opened_now import opened_now
from gateway.desk.participants import add_participant
from gateway.desk.tickets import NewMessage, add_message, open_ticket, remember_message_id
from gateway.desk.webhook_events import announce
from gateway.outbound.outbox import queue_mail
from parsers.message import Address
from storage.api_models import Webhook
from storage.models import Account, Event, MessageRef, OutboxItem, Participant, Ticket
from storage.repositories import account_by_slug, conversation_ends

ALICE = Address("Alice", "alice@client.example")


def test_participants_and_message_ids_of_a_new_ticket_are_kept_whole(runtime: Runtime) -> None:
    with runtime.db.transaction() as session:
        ticket = open_ticket(session, account_by_slug(session, "vendor"), "Printer jams")
        first = add_participant(session, ticket, "requester", ALICE)
        assert add_participant(session, ticket, "requester", Address("", "Alice@Client.example")) is first
        add_participant(session, ticket, "cc", ALICE)
        remember_message_id(session, ticket, "<one@client.example>")
        remember_message_id(session, ticket, "<one@client.example>")
        assert [p.role for p in ticket.participants] == ["requester", "cc"]
        ticket_id = ticket.id
    with runtime.db.transaction() as session:  # what the database holds agrees with what memory said
        assert session.scalar(select(func.count()).where(Participant.ticket_id == ticket_id)) == 2
        assert session.scalar(select(func.count()).where(MessageRef.ticket_id == ticket_id)) == 1
        assert opened_now(session, session.get(Ticket, ticket_id)) is None  # another transaction asks the database


def test_a_ticket_rolled_back_to_a_savepoint_is_not_mistaken_for_a_later_one(runtime: Runtime) -> None:
    with runtime.db.transaction() as session:
        vendor = account_by_slug(session, "vendor")
        savepoint = session.begin_nested()
        gone = open_ticket(session, vendor, "Rolled back")
        gone_id = gone.id
        remember_message_id(session, gone, "<two@client.example>")
        savepoint.rollback()
        kept = open_ticket(session, vendor, "Kept")  # SQLite hands out the same id again
        record = opened_now(session, kept)
        assert record is not None and record.ticket is kept and record.message_ids == set()
        if kept.id != gone_id:
            assert opened_now(session, gone) is None or opened_now(session, gone).ticket is gone
        remember_message_id(session, kept, "<two@client.example>")
        assert session.scalar(select(func.count()).where(MessageRef.ticket_id == kept.id)) == 1


def test_a_webhook_added_by_another_process_is_heard_at_once(runtime: Runtime) -> None:
    with runtime.db.transaction() as session:
        open_ticket(session, account_by_slug(session, "vendor"), "Warms the settings copy")
    with runtime.db.engine.begin() as conn:  # not through a session of ours: as another process would
        vendor_id = conn.scalar(select(Account.id).where(Account.slug == "vendor"))
        conn.execute(insert(Webhook).values(account_id=vendor_id, url="http://127.0.0.1:9/hook",
                                            events=["ticket.created"], active=True))
    with runtime.db.transaction() as session:
        ticket = open_ticket(session, account_by_slug(session, "vendor"), "Heard")
        queued = session.scalars(select(OutboxItem).where(OutboxItem.channel == "webhook",
                                                          OutboxItem.ticket_id == ticket.id)).all()
        assert [item.payload["event"] for item in queued] == ["ticket.created"]
        other = open_ticket(session, account_by_slug(session, "partner"), "Not the vendor's")
        event = session.scalars(select(Event).where(Event.ticket_id == other.id)).one()
        assert announce(session, other, event) == []  # an account without webhooks


def test_conversation_ends_from_memory_agree_with_the_database(runtime: Runtime) -> None:
    with runtime.db.transaction() as session:
        ticket = open_ticket(session, account_by_slug(session, "vendor"), "Printer jams")
        alice = add_participant(session, ticket, "requester", ALICE)
        mail = add_message(session, ticket, NewMessage(source_key="t:1", direction="in", visibility="public",
                                                       channel="email", sender=ALICE, text="Jams again",
                                                       rfc_message_id="<m1@client.example>"))
        record = opened_now(session, ticket)
        assert record is not None
        assert record.conversation_ends("alice@client.example") == conversation_ends(session, ticket.id,
                                                                                     "alice@client.example")
        queue_mail(session, runtime, ticket, alice, kind="reply", text="On it.", message_id=mail.id)
        remembered = record.conversation_ends("alice@client.example")
        assert [rfc_id for _, rfc_id in remembered][0] == "<m1@client.example>" and len(remembered) == 2
        assert remembered == conversation_ends(session, ticket.id, "alice@client.example")


def test_a_rolled_back_savepoint_makes_memory_ask_the_database(runtime: Runtime) -> None:
    with runtime.db.transaction() as session:
        ticket = open_ticket(session, account_by_slug(session, "vendor"), "Printer jams")
        with session.begin_nested() as savepoint:
            remember_message_id(session, ticket, "<undone@client.example>")
            session.flush()
            savepoint.rollback()
        assert opened_now(session, ticket) is None
        remember_message_id(session, ticket, "<undone@client.example>")  # not skipped: the first was undone
        assert session.scalar(select(func.count()).where(MessageRef.ticket_id == ticket.id)) == 1
