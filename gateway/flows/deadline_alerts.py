"""What a due timer of a deadline does: remind the partner, or act on a breach.

A reminder goes to the partner's side of the child (its executors by mail,
its team chat if bound).  A breach tells the handing account's agents (mail,
team chat) and, for a missed accept deadline with a `backup_partner`,
recalls the link and hands the same work to the backup: the dispatcher's
original mail is read again from the blob store and handed off as it was,
so the backup gets the same note and files through the one handoff path.
Each handler runs inside the timer sweeper's transaction; it returns the
mail it queued, or None when there was nothing left to do.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import Row, select
from sqlalchemy.orm import Session

from gateway.core.runtime import Runtime
from gateway.desk import deadlines, links
from gateway.desk.partner_side import executors_of
from gateway.desk.partner_terms import ACCEPT, from_snapshot
from gateway.desk.tickets import add_event
from gateway.flows import status_propagation
from gateway.flows.handoff import HandoffSource, hand_off
from gateway.flows.handoff_detection import HandoffIntent, default_address
from gateway.flows.mirroring import agent_participants
from gateway.outbound import deadline_notices, outbox
from gateway.outbound.team_chat import post_to_team
from parsers.message import Address, ParsedMessage
from storage.deadline_models import Deadline
from storage.models import Event, Link, Message, OutboxItem, Ticket

log = logging.getLogger(__name__)

REMINDER_KIND = "reminder"
ESCALATION_KIND = "escalation"
ESCALATED_BY = "Deadline escalation"

Reparse = Callable[[Session, str], ParsedMessage]
"""Reads a stored raw mail (by its sha256: storage/raw_units.py) as the pipeline would; handed in by the app layer."""


def remind(session: Session, runtime: Runtime, timer: Row, now: datetime) -> list[OutboxItem] | None:
    """Remind the partner's side, unless the deadline is no longer running or is already past due."""
    deadline = session.get(Deadline, timer.deadline_id)
    if deadline is None or deadline.state != deadlines.RUNNING or (deadline.due_at and deadline.due_at <= now):
        return None  # met, stopped, paused — or the breach is due too (a catch-up after downtime): skip
    link = deadline.link
    zone = _zone(deadline)
    subject, text = deadline_notices.reminder(link, deadline, zone)
    queued = [
        outbox.queue_mail(session, runtime, link.child, person, kind=REMINDER_KIND, subject=subject, text=text,
                          auto=True)
        for person in executors_of(link.child)
    ]
    queued += post_to_team(session, runtime, link.child, text)
    add_event(session, link.child, "deadline_reminder", link.id, kind=deadline.kind, fraction=timer.fraction)
    return queued


def breach_handler(reparse: Reparse) -> Callable[[Session, Runtime, Row, datetime], list[OutboxItem] | None]:
    """The breach handler, with the app's way of reading a stored mail again (for the backup handoff)."""

    def on_breach(session: Session, runtime: Runtime, timer: Row, now: datetime) -> list[OutboxItem] | None:
        deadline = session.get(Deadline, timer.deadline_id)
        if deadline is None or deadline.state != deadlines.RUNNING:
            return None
        link = deadline.link
        deadlines.breach(session, deadline, now)
        for ticket in (link.parent, link.child):
            add_event(session, ticket, "deadline_breached", link.id, kind=deadline.kind,
                      due_at=deadline.due_at.isoformat() if deadline.due_at else None)
        queued: list[OutboxItem] = []
        moved_to = None
        backup = from_snapshot(deadline.terms).backup_partner
        if deadline.kind == ACCEPT and backup and link.state in links.ACTIVE_STATES:
            moved_to, queued = _move_to_backup(session, runtime, link, backup, reparse)
        subject, text = deadline_notices.escalation(link, deadline, _zone(deadline), moved_to)
        queued += [
            outbox.queue_mail(session, runtime, link.parent, agent, kind=ESCALATION_KIND, subject=subject,
                              text=text, auto=True)
            for agent in agent_participants(session, runtime.config, link.parent)
        ]
        return queued + post_to_team(session, runtime, link.parent, text)

    return on_breach


def _move_to_backup(session: Session, runtime: Runtime, link: Link, backup: str,
                    reparse: Reparse) -> tuple[Ticket | None, list[OutboxItem]]:
    """Recall the link (its partner is told) and hand the dispatcher's original mail to `backup`."""
    note = _handoff_note(session, link)
    if note is None or note.raw_sha256 is None:
        log.warning("%s: no stored handoff mail to hand to %s; escalating only", link.child.ref, backup)
        return None, []
    queued = status_propagation.recall(session, runtime, link, ESCALATED_BY, hops=0)
    parsed = reparse(session, note.raw_sha256)
    partner = runtime.config.account(backup)
    intent = HandoffIntent(partner, default_address(partner), note.text, by_command=_by_command(session, link))
    dispatcher = parsed.sender or Address(note.from_name, note.from_email or "")
    source = HandoffSource(parsed=parsed, dispatcher=dispatcher, source_key=note.source_key, channel=note.channel,
                           inbox_item_id=note.inbox_item_id, raw_sha256=note.raw_sha256)
    result = hand_off(session, runtime, link.parent, intent, source)
    add_event(session, link.parent, "moved_to_backup", link.id,
              **{"from": link.child.ref, "to": result.link.child.ref})
    return result.link.child, queued + result.outbox


def _handoff_note(session: Session, link: Link) -> Message | None:
    """The dispatcher's note on the child: its first message that came from a stored mail."""
    return session.scalar(
        select(Message).where(Message.ticket_id == link.child_ticket_id, Message.raw_sha256.is_not(None))
        .order_by(Message.id).limit(1)
    )


def _by_command(session: Session, link: Link) -> bool:
    event = session.scalar(select(Event).where(Event.link_id == link.id, Event.type == "link_handed_off").limit(1))
    return bool(event and event.detail.get("via") == "command")


def _zone(deadline: Deadline) -> str:
    return deadline.terms.get("timezone") or "UTC"
