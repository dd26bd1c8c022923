"""Steps of the linked-ticket scenarios, shared by the tests: mail in, what went out."""

from __future__ import annotations

import tomllib
from pathlib import Path

from sqlalchemy import select

from gateway.app.timer_sweeper import TimerSweeper
from gateway.app.timers import timer_handlers
from gateway.core.config import Config, parse_config

from gateway.core.runtime import Runtime
from storage.models import Link, OutboxItem, Ticket
from tests.conftest import demo_config_text
from tests.flows import mails
from tests.pipeline.mail import deliver, outbox, sent_mail

ALICE = "Alice Customer <alice@client.example>"
DANA = "Dana Dispatcher <dana@vendor.example>"
PAUL = "Paul Partner <paul@partner.example>"
SAM = "Sam Subco <sam@subco.example>"
NOTE = "Paul, please send a technician.\n-- Dana"
ORIGINAL_TEXT = "Hello,\n\nthe printer jams on tray 2 every morning.\n\nAlice"


def new_mail_since(runtime: Runtime, before: int, recipient: str | None = None, kind: str | None = None
                   ) -> list[OutboxItem]:
    """Outbox rows queued after the first `before` ones, optionally for one recipient/kind."""
    return [o for o in outbox(runtime)[before:]
            if (recipient is None or o.recipient == recipient) and (kind is None or o.kind == kind)]


def answer(runtime: Runtime, item: OutboxItem, sender: str, text: str, *, style: str = "thunderbird",
           signature: str = "", cc: list[str] = (), attachment: tuple[str, str, bytes] | None = None
           ) -> tuple[int, list[int]]:
    """Reply to a mail we sent, the way a client does: to its Reply-To, quoting it, threaded."""
    sent = sent_mail(runtime, item)
    reply_to = sent["Reply-To"].addresses[0].addr_spec
    body = sent.get_body(("plain",)).get_content()
    raw = mails.reply(
        sender=sender, to=[reply_to], cc=list(cc), subject=str(sent["Subject"]), text=text,
        answered=str(sent["Message-ID"]), answered_from=str(sent["From"]), answered_text=body,
        references=str(sent.get("References", "")).split(), style=style, signature=signature,
        attachment=attachment,
    )
    return deliver(runtime, raw, rcpt=[reply_to, *cc])


def customer_writes(runtime: Runtime) -> None:
    deliver(runtime, mails.customer_mail(sender=ALICE, text=ORIGINAL_TEXT))


def dana_forwards_to_partner(runtime: Runtime, rcpt: list[str] | None = None, message_id: str | None = None
                             ) -> tuple[int, list[int]]:
    """S2.2: dana forwards alice's mail Outlook-style to service@partner.example, Cc support@vendor.example."""
    raw = mails.outlook_forward(
        sender=DANA, to=["service@partner.example"], cc=["support@vendor.example"], note=NOTE,
        original_from=ALICE, original_subject="Printer jams on tray 2", original_text=ORIGINAL_TEXT,
        message_id=message_id or "<fw1@vendor.example>",
    )
    return deliver(runtime, raw, rcpt=rcpt or ["service@partner.example", "support@vendor.example"])


def ticket(runtime: Runtime, ref: str) -> Ticket:
    """The ticket with its account, participants, messages and their files loaded."""
    with runtime.db.transaction() as session:
        found = session.scalar(select(Ticket).where(Ticket.ref == ref))
        assert found is not None, f"no ticket {ref}"
        found.account, found.participants
        for message in found.messages:
            message.attachments
        return found


def link_of(runtime: Runtime, child_ref: str) -> Link:
    with runtime.db.transaction() as session:
        child = session.scalar(select(Ticket).where(Ticket.ref == child_ref))
        link = session.scalar(select(Link).where(Link.child_ticket_id == child.id))
        assert link is not None, f"{child_ref} has no parent link"
        link.parent, link.child
        return link


def only(items: list[OutboxItem]) -> OutboxItem:
    assert len(items) == 1, [(o.kind, o.recipient) for o in items]
    return items[0]


def body_of(runtime: Runtime, item: OutboxItem) -> str:
    return sent_mail(runtime, item).get_body(("plain",)).get_content()


def header(runtime: Runtime, item: OutboxItem, name: str) -> str:
    return str(sent_mail(runtime, item)[name])


__all__ = ["deliver", "outbox", "sent_mail"]  # re-exported so scenario tests import from one place


def demo_data(tmp_path: Path, db_url: str | None = None) -> dict:
    """The demo world's config as data (on `db_url` when given), for a test to change before `parse_config`."""
    data = tomllib.loads(demo_config_text(tmp_path))
    if db_url:
        data["storage"]["url"] = db_url
    return data


def vendor_config(tmp_path: Path, db_url: str | None = None, **vendor: object) -> Config:
    """The demo world with keys of the vendor account set (terms, digest hour)."""
    data = demo_data(tmp_path, db_url)
    data["accounts"][0].update(vendor)
    return parse_config(data)


def sweeper(runtime: Runtime) -> TimerSweeper:
    """The worker's timer sweeper with all its handlers, swept by hand (`.sweep()`) under a ManualClock."""
    return TimerSweeper(runtime, timer_handlers(runtime), interval=1.0)
