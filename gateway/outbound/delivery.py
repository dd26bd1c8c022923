"""Deliver one outbox item: send it, retry it later, or give up and say so.

`deliver()` is what the `deliver_outbox` actor runs.  The item's state is
read and written in short transactions on either side of the network call,
never across it, so a slow smarthost holds no database lock.  A crash between
sending and recording `sent` sends the same bytes (same Message-ID) once more
on the next attempt: delivered at least once, marked sent once.  So the lease
and the `sent` mark are committed without waiting for the disk: a power cut
that loses them costs a repeat of the mail, as such a crash does, never a mail.

When an item fails for good (a 5xx, too many attempts, a bounce) the ticket
gets a `delivery_failed` event and the account's agents get a notice mail —
except about a failed notice, which would only fail again.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import dramatiq
from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from gateway.outbound.chat_outbox import remember_post
from gateway.desk import webhook_events
from gateway.outbound.outbox import NOTICE_KIND, queue_mail, rendered_mail, return_path
from gateway.desk.participants import add_participant
from gateway.core.config_types import reveal
from gateway.core.runtime import Runtime
from gateway.desk.tickets import add_event, hosting_account
from gateway.outbound.transports import PermanentError, TransientError
from gateway.outbound.transports.smtp import close_kept_connection, send_mail
from gateway.outbound.transports.telegram import send_chat_item
from gateway.outbound.transports.webhook import post_event
from parsers.message import Address
from storage.api_models import Webhook
from storage.models import Agent, OutboxItem, Ticket, utcnow
from storage.repositories import parent_link

log = logging.getLogger(__name__)

MAX_RETRY_DELAY_SECONDS = 6 * 3600.0
LEASE_MIN_SECONDS = 120.0
FINAL_STATUSES = frozenset({"sent", "failed"})
# Channels whose items to one recipient are sent in the order queued, and how long a newer one waits its turn.
ORDERED_CHANNELS = frozenset({"telegram"})
ORDER_WAIT_SECONDS = 0.25


@dataclass(frozen=True)
class Outgoing:
    """What a transport needs to send one item, copied out of the transaction that read it."""

    outbox_id: int
    channel: str
    recipient: str
    envelope_from: str
    rendered: bytes | None
    payload_sha256: str | None
    payload: dict[str, Any]


# A transport sends one item and returns the channel's id of what it posted (None when there is none).
Transport = Callable[[Runtime, Outgoing], int | None]


def _send_email(runtime: Runtime, outgoing: Outgoing) -> None:
    mail = rendered_mail(runtime.blobs, outgoing)
    send_mail(mail, outgoing.envelope_from, outgoing.recipient, runtime.config.outbound)
    return None


def _send_chat(runtime: Runtime, outgoing: Outgoing) -> int | None:
    files = [(f["filename"], runtime.blobs.get(f["sha256"])) for f in outgoing.payload.get("files", ())]
    return send_chat_item(runtime.config.telegram, outgoing.payload, files)


def _send_webhook(runtime: Runtime, outgoing: Outgoing) -> None:
    """POST the event to the webhook it was queued for, with the secret the config holds now."""
    with runtime.db.transaction() as session:
        hook = session.get(Webhook, outgoing.payload.get("webhook_id"))
        slug, url = (hook.account.slug, hook.url) if hook is not None else ("", "")
    accounts = [a for a in runtime.config.accounts if a.slug == slug]
    settings = next((w for a in accounts for w in a.webhooks if w.url == url), None)
    if settings is None:
        raise PermanentError(f"webhook {outgoing.recipient} is no longer configured")
    post_event(url, reveal(settings.secret), outgoing.payload["event"], outgoing.outbox_id,
               outgoing.payload["body"], runtime.config.outbound.timeout_seconds)
    return None


# Channel → transport.  A channel missing here is left pending for whichever process can send it.
TRANSPORTS: dict[str, Transport] = {"email": _send_email, "telegram": _send_chat, webhook_events.CHANNEL: _send_webhook}
# Kinds whose failure is not mailed to the agents: a notice would fail the same way; a webhook is the
# operator's integration, told in `relaydesk doctor`, health and `relaydesk webhook deliveries`.
UNTOLD_KINDS = frozenset({NOTICE_KIND, webhook_events.KIND})


class ClosesKeptConnections(dramatiq.Middleware):
    """A worker thread that ends closes the smarthost connection it kept between mails."""

    def before_worker_thread_shutdown(self, broker: dramatiq.Broker, thread: object) -> None:
        close_kept_connection()


def deliver(runtime: Runtime, outbox_id: int, on_queued: Callable[[int], None] | None = None) -> float | None:
    """Try to send the item once; the seconds until the next try, or None when done.

    Items already `sent` or `failed`, unknown ids and channels without a
    transport in `TRANSPORTS` are left alone and return None.  An item
    whose retry time has not come yet returns the time left, so a sweeper
    re-enqueueing it early does not shorten the backoff.  When the item
    fails for good, the ids of the failure notices queued for the agents
    are passed to `on_queued` after commit (the actor enqueues them; without
    it the sweeper finds them).
    """
    outgoing = _claim(runtime, outbox_id)
    if not isinstance(outgoing, Outgoing):
        return outgoing
    try:
        posted = TRANSPORTS[outgoing.channel](runtime, outgoing)
    except TransientError as exc:
        delay, notices = _record_transient(runtime, outbox_id, str(exc), exc.retry_after)
    except PermanentError as exc:
        delay, notices = None, _record_permanent(runtime, outbox_id, str(exc))
    else:
        _record_sent(runtime, outbox_id, posted)
        log.info("outbox %s sent to %s", outbox_id, outgoing.recipient)
        return None
    for notice_id in notices if on_queued is not None else ():
        on_queued(notice_id)
    return delay


def fail_outbox_item(session: Session, runtime: Runtime, item: OutboxItem, reason: str) -> list[OutboxItem]:
    """Mark the item failed, record it on its ticket and tell the agents; the notices queued.

    Also used for bounces, which turn a `sent` item into a failed one.  An
    item that already failed is left as it is (no second notice).
    """
    if item.status == "failed":
        return []
    item.status, item.error = "failed", reason
    log.warning("outbox %s to %s failed: %s", item.id, item.recipient, reason)
    ticket = session.get(Ticket, item.ticket_id) if item.ticket_id is not None else None
    if ticket is not None:
        add_event(session, ticket, "delivery_failed", outbox_id=item.id, recipient=item.recipient,
                  kind=item.kind, reason=reason)
    if item.kind in UNTOLD_KINDS:
        return []
    return _tell_agents(session, runtime, item, ticket, reason)


def retry_delay(attempts: int, base_seconds: float) -> float:
    """Exponential backoff with ±20% jitter, so retries of many items do not arrive together."""
    delay = min(base_seconds * 2 ** max(attempts - 1, 0), MAX_RETRY_DELAY_SECONDS)
    return delay * random.uniform(0.8, 1.2)


def _claim(runtime: Runtime, outbox_id: int) -> Outgoing | float | None:
    """Take a lease on a due item: what to send, or the seconds to wait, or None when there is nothing to do.

    The lease moves `next_attempt_at` past the longest a send may take, so a
    second worker handed the same id meanwhile waits instead of sending the
    mail twice; if this worker dies mid-send, the lease runs out and the
    sweeper picks the item up again.
    """
    with runtime.db.transaction(durable=False) as session:
        item = _locked(session, outbox_id)
        if item is None or item.status in FINAL_STATUSES or item.channel not in TRANSPORTS:
            return None
        now = utcnow()
        wait = (item.next_attempt_at - now).total_seconds()
        if wait > 0:
            return wait
        if item.channel in ORDERED_CHANNELS and _earlier_first_send(session, item):
            return ORDER_WAIT_SECONDS
        lease = max(LEASE_MIN_SECONDS, runtime.config.outbound.timeout_seconds * 4)
        item.next_attempt_at = now + timedelta(seconds=lease)
        return Outgoing(item.id, item.channel, item.recipient,
                        return_path(runtime.config.security.secret, item.envelope_from, item.id),
                        item.rendered, item.payload_sha256, dict(item.payload or {}))


def _earlier_first_send(session: Session, item: OutboxItem) -> bool:
    """Whether an older item to the same chat is still on its first try (being sent, or about to be).

    A chat shows messages in the order they arrive, and two workers would
    race; so a chat's items go one after the other.  An older item already
    backing off after a failure does not hold the newer ones up.
    """
    return session.scalar(
        select(OutboxItem.id).where(
            OutboxItem.recipient == item.recipient, OutboxItem.channel == item.channel,
            OutboxItem.status == "pending", OutboxItem.attempts == 0, OutboxItem.id < item.id,
        ).limit(1)
    ) is not None


def release_leases(runtime: Runtime) -> int:
    """Make first sends that a dead process had leased due again; how many.

    Only safe where no other process can be sending: the embedded broker,
    whose worker lives and dies with `relaydesk serve`.  Backed-off retries
    (attempts ≥ 1) keep their delay.
    """
    now = utcnow()
    with runtime.db.transaction() as session:
        result = session.execute(
            update(OutboxItem)
            .where(OutboxItem.status == "pending", OutboxItem.attempts == 0, OutboxItem.next_attempt_at > now)
            .values(next_attempt_at=now)
        )
        return result.rowcount or 0


def _record_sent(runtime: Runtime, outbox_id: int, posted: int | None) -> None:
    with runtime.db.transaction(durable=False) as session:
        item = _locked(session, outbox_id)
        if item is not None and item.status == "pending":
            item.status, item.sent_at, item.error = "sent", utcnow(), None
            if posted is not None:
                remember_post(session, item, posted)


def _record_permanent(runtime: Runtime, outbox_id: int, reason: str) -> list[int]:
    """Fail the item; the ids of the notices queued."""
    with runtime.db.transaction() as session:
        item = _locked(session, outbox_id)
        if item is None or item.status in FINAL_STATUSES:
            return []
        item.attempts += 1
        return [notice.id for notice in fail_outbox_item(session, runtime, item, reason)]


def _record_transient(runtime: Runtime, outbox_id: int, reason: str,
                      asked_wait: float | None = None) -> tuple[float | None, list[int]]:
    """Schedule the next try (no sooner than the remote side asked), or fail the item after the last one;
    (delay, ids of notices queued)."""
    outbound = runtime.config.outbound
    with runtime.db.transaction() as session:
        item = _locked(session, outbox_id)
        if item is None or item.status in FINAL_STATUSES:
            return None, []
        item.attempts += 1
        item.error = reason
        if item.attempts >= outbound.max_attempts:
            notices = fail_outbox_item(session, runtime, item, f"gave up after {item.attempts} attempts: {reason}")
            return None, [notice.id for notice in notices]
        delay = max(retry_delay(item.attempts, outbound.retry_base_seconds), asked_wait or 0.0)
        item.next_attempt_at = utcnow() + timedelta(seconds=delay)
    log.info("outbox %s: %s; retry %d in %.0fs", outbox_id, reason, item.attempts, delay)
    return delay, []


_LOCKED = (select(OutboxItem).where(OutboxItem.id == bindparam("outbox_id")).with_for_update()
           .execution_options(populate_existing=True))


def _locked(session: Session, outbox_id: int) -> OutboxItem | None:
    """The item, row-locked on PostgreSQL so two workers cannot record conflicting outcomes."""
    return session.scalar(_LOCKED, {"outbox_id": outbox_id})


def _tell_agents(
    session: Session, runtime: Runtime, item: OutboxItem, ticket: Ticket | None, reason: str
) -> list[OutboxItem]:
    """One notice per agent of the account that carries the ticket's mail."""
    if ticket is None:
        log.warning("outbox %s failed outside any ticket; no agents to tell", item.id)
        return []
    home = _home_ticket(session, ticket)
    agents = session.scalars(
        select(Agent).where(Agent.account_id == home.account_id, Agent.email.is_not(None)).order_by(Agent.id)
    ).all()
    if not agents:
        log.warning("outbox %s on %s failed; account has no agents with an email to tell", item.id, ticket.ref)
    subject, text = _failure_notice(ticket, item, reason)
    notices = []
    for agent in agents:
        participant = add_participant(session, home, "agent", Address(agent.name, agent.email or ""),
                                      account_id=agent.account_id)
        notices.append(queue_mail(session, runtime, home, participant, kind=NOTICE_KIND, subject=subject,
                                  text=text, auto=True))
    return notices


def _home_ticket(session: Session, ticket: Ticket) -> Ticket:
    """The ticket itself, or for an external account's ticket the upstream one whose agents handed it over.

    An external contractor has no agents here: its tickets are kept by the
    account that handed the work over, and those dispatchers need to know.
    """
    home = hosting_account(session, ticket)
    current = ticket
    while current.account_id != home.id:
        link = parent_link(session, current.id)
        if link is None:
            return ticket
        current = link.parent
    return current


def _failure_notice(ticket: Ticket, item: OutboxItem, reason: str) -> tuple[str, str]:
    subject = f"Delivery failed: {item.recipient}"
    text = (
        f"relaydesk could not deliver a mail about {ticket.ref} to {item.recipient}.\n\n"
        f"Reason: {reason}\n"
        f"Mail: {item.kind}, \"{(item.payload or {}).get('subject', ticket.subject)}\"\n\n"
        f"Please check the address, or reach {item.recipient} another way."
    )
    return subject, text
