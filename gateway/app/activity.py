"""When each channel last did its work, against how often it should: Up, Slow or Down.

Read from the database, so any process (health, metrics, doctor) sees the
same answer whichever process polls: an IMAP folder records when it last
answered (`imap_folders.checked_at`, at every poll, mail or not), the SMTP
listener and the Telegram bot when they last took something in, delivery
when it last sent.  A channel with no expected interval (mail arrives when
it does) is judged by its backlog instead: due work nobody sends is Down.
Also here: each partner relationship's last mail in and out, and the webhook
deliveries that failed.  Only counts and account slugs, never ticket content.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

from gateway.core.config import Config
from gateway.desk.webhook_events import CHANNEL as WEBHOOK_CHANNEL
from storage.channel_models import ImapFolder, Lease
from storage.models import Account, InboxItem, Link, Message, OutboxItem, Ticket, utcnow

UP, SLOW, DOWN = "up", "slow", "down"
ORDER = {UP: 0, SLOW: 1, DOWN: 2}
OVERDUE_AFTER = timedelta(minutes=15)  # due work this old means nothing is taking it
FAILED_WITHIN = timedelta(hours=24)


@dataclass(frozen=True)
class ChannelActivity:
    """One channel's last sign of work; `expected_seconds` is how often it should show one (None: no rhythm)."""

    name: str
    state: str
    detail: str
    last_activity: datetime | None
    expected_seconds: float | None

    def seconds_since(self, now: datetime) -> float | None:
        return None if self.last_activity is None else max((now - self.last_activity).total_seconds(), 0.0)


@dataclass(frozen=True)
class PartnerTraffic:
    """Mail between an account and a partner it hands work to: last in from the partner, last out to it."""

    account: str
    partner: str
    open_links: int
    last_in: datetime | None
    last_out: datetime | None


def worst(states: list[str]) -> str:
    return max(states, key=ORDER.__getitem__, default=UP)


def channel_activity(session: Session, config: Config, now: datetime | None = None) -> list[ChannelActivity]:
    """Every IMAP folder, SMTP in and out, the Telegram bot (if configured) and webhooks."""
    now = now or utcnow()
    found = [_imap_folder(session, box.mailbox, folder, box.poll_seconds, now)
             for box in config.imap for folder in (*box.folders, *box.sent_folders)]
    found.append(_intake(session, "smtp", "smtp in", now))
    found.append(_delivery(session, "email", "smtp out", now))
    if config.telegram is not None:
        found.append(_telegram(session, config, now))
    found.append(_delivery(session, WEBHOOK_CHANNEL, "webhooks", now))
    return found


def partner_traffic(session: Session) -> list[PartnerTraffic]:
    """Per (account, partner) with links: open links, last partner message in, last mail out to the partner."""
    parent, child = aliased(Ticket), aliased(Ticket)
    handing, partner = aliased(Account), aliased(Account)
    pair = (select(handing.slug, partner.slug, Link).select_from(Link)
            .join(parent, Link.parent_ticket_id == parent.id).join(handing, parent.account_id == handing.id)
            .join(child, Link.child_ticket_id == child.id).join(partner, child.account_id == partner.id))
    pairs: dict[tuple[str, str], list[object]] = {}
    for account, partner_slug, link in session.execute(pair):
        entry = pairs.setdefault((account, partner_slug), [0, None, None])
        entry[0] += link.state in ("handed_off", "accepted")
    last_in = session.execute(
        select(handing.slug, partner.slug, func.max(Message.created_at)).select_from(Message)
        .join(parent, Message.ticket_id == parent.id).join(handing, parent.account_id == handing.id)
        .join(partner, Message.via_account_id == partner.id).where(Message.channel == "mirror")
        .group_by(handing.slug, partner.slug))
    last_out = session.execute(
        select(handing.slug, partner.slug, func.max(OutboxItem.sent_at)).select_from(OutboxItem)
        .join(child, OutboxItem.ticket_id == child.id).join(partner, child.account_id == partner.id)
        .join(Link, Link.child_ticket_id == child.id).join(parent, Link.parent_ticket_id == parent.id)
        .join(handing, parent.account_id == handing.id)
        .where(OutboxItem.channel == "email", OutboxItem.status == "sent").group_by(handing.slug, partner.slug))
    for index, rows in ((1, last_in), (2, last_out)):
        for account, partner_slug, at in rows:
            if (account, partner_slug) in pairs:
                pairs[(account, partner_slug)][index] = at
    return [PartnerTraffic(a, p, int(v[0]), v[1], v[2]) for (a, p), v in sorted(pairs.items())]


def _imap_folder(session: Session, mailbox: str, folder: str, poll_seconds: float, now: datetime) -> ChannelActivity:
    """Up within three rounds (an IDLE round lasts up to poll_seconds), Slow within ten, else Down."""
    checked = session.scalar(select(ImapFolder.checked_at).where(ImapFolder.mailbox == mailbox,
                                                                  ImapFolder.folder == folder))
    name = f"imap {mailbox}/{folder}"
    if checked is None:
        return ChannelActivity(name, DOWN, "has never answered a poll", None, poll_seconds)
    age = (now - checked).total_seconds()
    state = UP if age <= 3 * poll_seconds else SLOW if age <= 10 * poll_seconds else DOWN
    return ChannelActivity(name, state, f"answered {age:.0f} s ago (polled every {poll_seconds:g} s)", checked,
                           poll_seconds)


def _intake(session: Session, channel: str, name: str, now: datetime) -> ChannelActivity:
    """A channel that only receives: judged by work received and not taken (pending past OVERDUE_AFTER)."""
    last = session.scalar(select(func.max(InboxItem.received_at)).where(InboxItem.channel == channel))
    overdue = session.scalar(select(func.count()).select_from(InboxItem).where(
        InboxItem.channel == channel, InboxItem.status == "pending", InboxItem.received_at < now - OVERDUE_AFTER)) or 0
    if overdue:
        return ChannelActivity(name, DOWN, f"{overdue} item(s) received over {_minutes(OVERDUE_AFTER)} min ago "
                               "wait for a worker", last, None)
    return ChannelActivity(name, UP, "last received " + (f"{(now - last).total_seconds():.0f} s ago" if last else "never"),
                           last, None)


def _delivery(session: Session, channel: str, name: str, now: datetime) -> ChannelActivity:
    """Down when due items wait past OVERDUE_AFTER, Slow while items are retrying or failed within a day."""
    def count(*where: object) -> int:
        return session.scalar(select(func.count()).select_from(OutboxItem).where(OutboxItem.channel == channel,
                                                                                 *where)) or 0

    last = session.scalar(select(func.max(OutboxItem.sent_at)).where(OutboxItem.channel == channel))
    overdue = count(OutboxItem.status == "pending", OutboxItem.next_attempt_at < now - OVERDUE_AFTER)
    retrying = count(OutboxItem.status == "pending", OutboxItem.attempts > 0)
    failed = count(OutboxItem.status == "failed", OutboxItem.created_at > now - FAILED_WITHIN)
    detail = f"{retrying} retrying, {failed} failed in {_minutes(FAILED_WITHIN) // 60} h, {overdue} overdue"
    state = DOWN if overdue else SLOW if retrying or failed else UP
    return ChannelActivity(name, state, detail, last, None)


def _telegram(session: Session, config: Config, now: datetime) -> ChannelActivity:
    """The bot's update loop holds its lease while it runs; last activity is the last update taken in."""
    assert config.telegram is not None
    lease = session.scalar(select(Lease.expires_at).where(Lease.name == config.telegram.lease_name))
    last = session.scalar(select(func.max(InboxItem.received_at)).where(InboxItem.channel == "telegram"))
    if lease is None or lease < now:
        return ChannelActivity("telegram", DOWN, "no process runs the bot's update loop", last, None)
    return ChannelActivity("telegram", UP, "the update loop runs", last, None)


def _minutes(span: timedelta) -> int:
    return int(span.total_seconds() // 60)
