"""Process one inbox item: parse, thread, apply, store, queue outbound mail.

All in ONE transaction, idempotent on the inbox row: an item already `done`
is skipped, two workers racing on one item serialise on its row lock
(`SELECT … FOR UPDATE` on PostgreSQL, `BEGIN IMMEDIATE` on SQLite), and the
unique (ticket, source_key) on messages turns any remaining race into an
IntegrityError that is read as "already done".  A step that raises rolls
everything back; the item's attempts and error are then recorded in a new
transaction and the item is parked after `queue.max_attempts`
(`requeue_parked` replays it).  Nothing is lost and the worker never crashes.

The work is an ordered list of small steps over one `Inbound` context
(`STEPS` below).  A step reads and fills the context; setting
`ctx.handled = True` stops the remaining steps and still marks the item done.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from email.utils import getaddresses

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from gateway.accounts import settings_for
from gateway.bounces import handle_bounces
from gateway.chat_outbox import CHANNEL as CHAT_CHANNEL
from gateway.config import AccountConfig
from gateway.federation_step import elide_body_markers, federation_step
from gateway.fingerprints import profiles
from gateway.handoff_step import handoff_step
from gateway.loop_guard import hop_count
from gateway.mail_commands import commands_step
from gateway.mirroring import RATING_KIND, REQUESTER_SIDE, mirror_step
from gateway.notices import acknowledgement
from gateway.outbox import NOTICE_KIND, queue_mail
from gateway.participants import add_participant, copied_contacts, participant_for, role_of
from gateway.relays import relay_to_requester_side
from gateway.runtime import Runtime
from gateway.team_chat import announce_ticket
from gateway.telegram_updates import apply_update
from gateway.threading import ThreadMatch, ThreadQuery, find_thread
from gateway.tickets import (
    AUTO_KINDS,
    FINISHED,
    NewMessage,
    add_event,
    add_message,
    change_status,
    open_ticket,
    store_attachments,
)
from gateway.tokens import split_plus
from parsers import ParseOptions, ParsedMessage, parse_message
from parsers.telegram import TelegramUpdate, parse_update
from storage.availability import is_unavailable
from storage.blobs import BlobNotFound
from storage.models import Account, InboxItem, Link, Message, OutboxItem, Participant, Ticket, utcnow
from storage.repositories import (
    account_by_slug,
    agent_by_email,
    all_account_addresses,
    has_event,
    inbound_addresses,
    inbound_message_in_account,
    lock_inbox_item,
    messages_of_inbox_item,
    outbox_count_since,
    outbox_kind,
    serialize_on,
)

log = logging.getLogger(__name__)


class Unprocessable(Exception):
    """The item can never be processed as it is (no blob, no hosted recipient): park it at once."""


@dataclass
class Inbound:
    """Everything the steps share about one inbound message.

    Filled in step order:
      runtime, session, item, parsed, hops — before the first step;
      recipients — envelope RCPT TO addresses, else To/Cc/Delivered-To (lower-case);
      account / account_config — the hosted account that received it (`receive`);
      other_accounts — further hosted accounts a non-agent wrote to; each gets a run of its own (`receive`);
      match, ticket — which ticket it belongs to, None for a new one (`thread`);
      related — a finished ticket this mail followed up, for linking (`follow_up_finished`);
      new_ticket — True once `open_new_ticket` created the ticket;
      sender_role — requester | agent | partner | cc | None (outsider) (`classify_sender`);
      participant — the sender's participant row on the ticket, if any (`classify_sender`, `open_new_ticket`);
      visibility, unverified — how the message is stored (`classify_sender`, mail commands);
      message — the stored Message (`store_message`);
      outbox — OutboxItems queued so far; their ids are returned for delivery;
      problems — notes kept on the inbox item (what was skipped and why);
      link — the handoff link this mail made or repeated (`handoff_step`);
      handled — set by any step that fully dealt with the item; later steps are skipped.
    """

    runtime: Runtime
    session: Session
    item: InboxItem
    parsed: ParsedMessage
    recipients: tuple[str, ...]
    hops: int
    account: Account | None = None
    account_config: AccountConfig | None = None
    other_accounts: list[Account] = field(default_factory=list)
    match: ThreadMatch | None = None
    ticket: Ticket | None = None
    related: Ticket | None = None
    new_ticket: bool = False
    sender_role: str | None = None
    participant: Participant | None = None
    visibility: str = "public"
    unverified: bool = False
    message: Message | None = None
    outbox: list[OutboxItem] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    link: Link | None = None
    handled: bool = False

    @property
    def sender_email(self) -> str | None:
        return self.parsed.sender.email.lower() if self.parsed.sender and self.parsed.sender.email else None

    @property
    def is_auto(self) -> bool:
        return self.parsed.kind in AUTO_KINDS


Step = Callable[[Inbound], None]


# --- steps -----------------------------------------------------------------------


def receive(ctx: Inbound) -> None:
    """Find the hosted account the mail was delivered to.

    A channel that knows the account (an IMAP mailbox, `ingest --account`)
    names it in the envelope as `"account": slug` — an agent's Sent folder
    holds mail addressed to partners, not to us.  Otherwise the recipients
    decide (envelope first, then headers): when several hosted accounts are
    addressed, the one the sender works for takes it alone (a dispatcher
    Cc-ing a hosted partner writes as their own account); anyone else wrote
    to each of them, and each gets the mail (`other_accounts`).
    """
    named = (ctx.item.envelope or {}).get("account")
    if named:
        account = account_by_slug(ctx.session, str(named))
        if account is None or account.kind != "hosted":
            raise Unprocessable(f"envelope names {named!r}, which is not a hosted account")
        ctx.account = account
    else:
        ctx.account, *ctx.other_accounts = _addressed_accounts(ctx)
    ctx.account_config = settings_for(ctx.runtime.config, ctx.account)


def _addressed_accounts(ctx: Inbound) -> list[Account]:
    by_base = {}
    for address in ctx.recipients:
        base, _, domain = split_plus(address)
        by_base.setdefault(f"{base}@{domain}", address)
    rows = inbound_addresses(ctx.session, by_base)
    candidates = list({rows[a].account.id: rows[a].account for a in by_base if a in rows}.values())
    if not candidates:
        raise Unprocessable(f"no hosted account owns any recipient address ({', '.join(ctx.recipients) or 'none'})")
    sender = ctx.sender_email
    own = [a for a in candidates if sender and agent_by_email(ctx.session, a.id, sender)]
    return own[:1] or candidates


def skip_duplicate(ctx: Inbound) -> None:
    """The same mail seen by a second channel (SMTP Cc and IMAP Sent) is stored once.

    Copies of one mail often arrive together (a sender's MTA delivers one
    copy per recipient domain), and on PostgreSQL two workers would each
    find nothing yet: they take turns on the Message-ID, so the second sees
    what the first stored.
    """
    message_id = ctx.parsed.message_id
    if message_id:
        serialize_on(ctx.session, f"inbound message:{message_id}")
    if message_id and inbound_message_in_account(ctx.session, ctx.account.id, message_id) is not None:
        ctx.problems.append(f"duplicate of an already stored message {message_id}")
        ctx.handled = True


def thread(ctx: Inbound) -> None:
    """Apply the threading rules (gateway/threading.py) within the receiving account."""
    config = ctx.runtime.config
    ctx.match = find_thread(
        ThreadQuery(
            session=ctx.session,
            secret=config.security.secret,
            account=ctx.account,
            parsed=ctx.parsed,
            recipients=ctx.recipients + _header_recipients(ctx.parsed),
            fingerprints=profiles(config.fingerprints),
        )
    )
    ctx.ticket = ctx.match.ticket
    if ctx.ticket is not None and ctx.match.external_id and not ctx.ticket.external_id:
        ctx.ticket.external_id = ctx.match.external_id


def classify_sender(ctx: Inbound) -> None:
    """Decide the sender's role and how the message is stored.

    Machines' mail is `auto`.  On an existing ticket, only participants (or
    whoever replies through a valid token) write normal follow-ups; anyone
    else's mail is kept `internal` and flagged unverified.  An agent's
    forward to people outside the ticket, or answer to mail only agents got,
    is an internal note.
    """
    if ctx.ticket is None:
        ctx.sender_role = "requester"
    else:
        ctx.sender_role = role_of(ctx.session, ctx.ticket, ctx.sender_email)
        if ctx.sender_email:
            ctx.participant = participant_for(ctx.session, ctx.ticket, ctx.sender_email)
        if ctx.sender_role is None and ctx.match.rule == "token":
            ctx.sender_role = ctx.match.participant.role
    if ctx.is_auto:
        ctx.visibility = "auto"
    elif ctx.sender_role is None:
        ctx.visibility, ctx.unverified = "internal", True
    elif ctx.sender_role == "agent" and (_forwarded_past_the_requester(ctx) or _answers_agents_only_mail(ctx)):
        ctx.visibility = "internal"


def _answers_agents_only_mail(ctx: Inbound) -> bool:
    """An agent answered a notice or rating request, which only agents got: a note among them."""
    answered = ctx.parsed.in_reply_to
    return bool(answered) and outbox_kind(ctx.session, ctx.ticket.id, answered) in (NOTICE_KIND, RATING_KIND)


def _forwarded_past_the_requester(ctx: Inbound) -> bool:
    """An agent forwarded the ticket to someone else (a colleague, the customer's manager).

    That mail was written to them, not to the requester: it is kept as a
    note and never relayed.  A handoff is decided later and is a note too.
    """
    if ctx.parsed.forward is None:
        return False
    addressed = {a.email for a in (*ctx.parsed.to, *ctx.parsed.cc)}
    return not any(p.role in REQUESTER_SIDE and p.email in addressed for p in ctx.ticket.participants)


def follow_up_finished(ctx: Inbound) -> None:
    """The requester side writing to a closed/cancelled ticket opens a new, linked one (or reopens it by setting).

    Agents and partners writing to a finished ticket stay on it (a late note).
    """
    ticket = ctx.ticket
    if ticket is None or ticket.status not in FINISHED or ctx.is_auto or ctx.sender_role not in ("requester", "cc"):
        return
    if ticket.status == "closed" and ctx.account_config.followup_to_closed == "reopen":
        return
    ctx.related, ctx.ticket = ticket, None
    ctx.sender_role = "requester"


def skip_unthreaded_sent(ctx: Inbound) -> None:
    """Mail from an agent's Sent folder only ever adds to tickets: it never opens one.

    The folder also holds the agent's private and everyday mail; what belongs
    to a ticket (a reply, a forward to a partner) has been threaded or handed
    off by now.
    """
    if ctx.ticket is None and ((ctx.item.envelope or {}).get("imap") or {}).get("role") == "sent":
        ctx.problems.append("mail from a Sent folder that belongs to no ticket; kept in the inbox only")
        ctx.handled = True


def open_new_ticket(ctx: Inbound) -> None:
    """Open a ticket for a mail that threads nowhere.

    Machine replies (out-of-office, bounces, loops) never open one.  List mail
    does, stored `auto` and unanswered: a customer's team address is often a
    mailing list, and losing their request would be worse than a stray ticket.
    """
    if ctx.ticket is not None:
        return
    if ctx.is_auto and ctx.parsed.kind != "list":
        ctx.problems.append(f"{ctx.parsed.kind} mail matched no ticket; kept in the inbox only")
        ctx.handled = True
        return
    ctx.ticket = open_ticket(
        ctx.session,
        ctx.account,
        ctx.parsed.subject,
        external_id=ctx.match.external_id if ctx.match else None,
        related_ticket_id=ctx.related.id if ctx.related else None,
        by=ctx.sender_email,
    )
    ctx.new_ticket = True
    if ctx.parsed.sender is not None:
        ctx.participant = add_participant(ctx.session, ctx.ticket, "requester", ctx.parsed.sender)
    _add_copied_contacts(ctx)


def store_message(ctx: Inbound) -> None:
    """Store the message with its files; the requester's new Cc's become participants."""
    parsed = ctx.parsed
    ctx.message = add_message(
        ctx.session,
        ctx.ticket,
        NewMessage.inbound(
            parsed,
            source_key=f"inbox:{ctx.item.id}",
            visibility=ctx.visibility,
            channel=ctx.item.channel,
            inbox_item_id=ctx.item.id,
            raw_sha256=ctx.item.raw_sha256,
            unverified=ctx.unverified,
        ),
    )
    store_attachments(ctx.session, ctx.runtime.blobs, ctx.message, parsed.attachments)
    if not ctx.new_ticket and ctx.sender_role == "requester" and ctx.visibility == "public":
        _add_copied_contacts(ctx)


def apply_follow_up(ctx: Inbound) -> None:
    """Status effects of a verified follow-up: the requester reopens; an agent's first reply is timed."""
    ticket = ctx.ticket
    if ctx.new_ticket or ctx.is_auto or ctx.unverified:
        return
    if ctx.sender_role == "requester" and ticket.status in ("pending", "resolved", "closed"):
        change_status(ctx.session, ticket, "open", by=ctx.sender_email)
    elif ctx.sender_role == "agent" and ctx.visibility == "public":
        if not has_event(ctx.session, ticket.id, "first_response"):
            add_event(ctx.session, ticket, "first_response", by=ctx.sender_email, message_id=ctx.message.id)
        if ticket.status == "new":
            change_status(ctx.session, ticket, "open", by=ctx.sender_email)


def relay_agent_reply(ctx: Inbound) -> None:
    """An agent's public mail on a root ticket reaches the requester side (gateway/relays.py)."""
    message = ctx.message
    if (message is None or ctx.new_ticket or ctx.sender_role != "agent" or message.visibility != "public"
            or message.unverified):
        return
    ctx.outbox += relay_to_requester_side(ctx.session, ctx.runtime, ctx.ticket, message, ctx.hops)


def acknowledge(ctx: Inbound) -> None:
    """One acknowledgement to a new ticket's requester (RFC 3834 manners).

    Never to automatic mail, our own addresses or the account's agents, and
    at most one per sender and account per `outbound.ack_period_seconds`.
    """
    if not ctx.new_ticket or not ctx.account_config.send_acknowledgement or ctx.is_auto:
        return
    requester, email = ctx.participant, ctx.sender_email
    if requester is None or not email or requester.role != "requester":
        return
    if email in all_account_addresses(ctx.session) or agent_by_email(ctx.session, ctx.ticket.account_id, email):
        return
    since = utcnow() - timedelta(seconds=ctx.runtime.config.outbound.ack_period_seconds)
    # Concurrent first mails to one account serialise on its numbering row, so this count is current.
    if outbox_count_since(ctx.session, email, "ack", since, account_id=ctx.ticket.account_id):
        ctx.problems.append(f"acknowledgement to {email} suppressed: one was sent within the period")
        return
    subject, text = acknowledgement(ctx.ticket, ctx.account)
    ctx.outbox.append(
        queue_mail(ctx.session, ctx.runtime, ctx.ticket, requester, kind="ack", text=text, subject=subject,
                   auto=True, inbound_hops=ctx.hops)
    )


def announce_new_ticket(ctx: Inbound) -> None:
    """A new ticket appears in the account's Telegram team chat, if it has one (with Take / Resolve)."""
    if ctx.new_ticket and not ctx.is_auto and ctx.message is not None:
        sender = ctx.parsed.sender
        who = f"{sender.name} <{sender.email}>" if sender and sender.name else (ctx.sender_email or "unknown sender")
        ctx.outbox += announce_ticket(ctx.session, ctx.runtime, ctx.ticket, f"New request {ctx.ticket.ref} from {who}",
                                      ctx.message.text, ctx.message.attachments)


# The order is the design; a new step is a one-line edit here.
#   handle_bounces        before `receive`: a VERP bounce is addressed to no hosted mailbox
#   receive … classify_sender, follow_up_finished: which account, which ticket, who is writing
#   handoff_step          before `open_new_ticket`: a dispatcher's forward to a partner opens a child instead
#   commands_step         before `store_message`: #internal etc. change how the message is stored
#   store_message, apply_follow_up: the message and its status effects
#   mirroring, relays, the acknowledgement and the team chat post: outbound, after everything is stored
#   (the forwarded-original threading rule lives in gateway.threading.RULES)
STEPS: list[Step] = [
    elide_body_markers,  # a relaydesk's machine reference is not text for people
    handle_bounces,  # before receive: a VERP return path is no hosted address, and a bounce never threads
    receive,
    skip_duplicate,
    thread,
    classify_sender,
    follow_up_finished,
    handoff_step,
    skip_unthreaded_sent,
    open_new_ticket,
    commands_step,
    store_message,
    apply_follow_up,
    federation_step,  # another relaydesk's X-Relaydesk-* headers: remote ref, executor's status
    mirror_step,
    relay_agent_reply,
    acknowledge,
    announce_new_ticket,
]


# --- running ---------------------------------------------------------------------


class StepFailed(Exception):
    """A step raised; carries the step's name for the item's error line."""

    def __init__(self, step: str, cause: Exception) -> None:
        super().__init__(f"{step}: {type(cause).__name__}: {_first_line(str(cause))}")
        self.step = step
        self.cause = cause


def run_steps(ctx: Inbound, steps: list[Step] | None = None) -> None:
    for step in STEPS if steps is None else steps:
        if ctx.handled:
            return
        try:
            step(ctx)
        except Exception as exc:
            raise StepFailed(step.__name__, exc) from exc


def process_inbox_item(runtime: Runtime, inbox_id: int) -> list[int]:
    """Process one inbox item in one transaction; returns the ids of the outbox rows it created.

    The caller enqueues their delivery after this returns (i.e. after commit).
    The attempt is counted in its own commit before any work (`_claim`), so a
    mail that kills the worker process outright is still parked after
    `queue.max_attempts` instead of crashing every worker that picks it up.
    Parsing happens before the write transaction opens: it is pure and can
    be slow, and SQLite has only one writer.
    """
    try:
        claimed = _claim(runtime, inbox_id)
        if claimed is None:
            return []
        channel, raw_sha256, sequence_key = claimed
        parsed = _parse(runtime, channel, raw_sha256)
        with runtime.db.transaction() as session:
            if sequence_key is not None:
                serialize_on(session, sequence_key)  # before the row lock: the holder may lock earlier rows
            item = lock_inbox_item(session, inbox_id)
            if item is None or item.status != "pending":
                return []
            outbox = _apply_earlier_in_sequence(runtime, session, item)
            problems, own_outbox = _apply(runtime, session, item, parsed)
            item.status, item.error, item.problems = "done", None, problems
            session.flush()
            return [row.id for row in outbox + own_outbox]
    except IntegrityError as exc:
        if _stored_by_another_worker(runtime, inbox_id):
            return []
        _record_failure(runtime, inbox_id, f"store: IntegrityError: {_first_line(str(exc.orig))}", park=False)
    except StepFailed as exc:
        unavailable = is_unavailable(exc)
        if not unavailable:  # an outage is logged once, by the database
            log.warning("inbox item %s failed: %s", inbox_id, exc)
        _record_failure(runtime, inbox_id, str(exc), park=isinstance(exc.cause, Unprocessable),
                        counted=not unavailable)
    except Unprocessable as exc:
        _record_failure(runtime, inbox_id, f"load: {exc}", park=True)
    except Exception as exc:  # the database itself failed; the sweeper will retry
        unavailable = is_unavailable(exc)
        if not unavailable:
            log.exception("inbox item %s failed outside the steps", inbox_id)
        _record_failure(runtime, inbox_id, f"transaction: {type(exc).__name__}: {_first_line(str(exc))}", park=False,
                        counted=not unavailable)
    return []


def _apply(runtime: Runtime, session: Session, item: InboxItem,
           parsed: ParsedMessage | TelegramUpdate) -> tuple[list[str], list[OutboxItem]]:
    """Run the mail steps, or apply a Telegram update; (problems, outbox rows)."""
    if isinstance(parsed, TelegramUpdate):
        try:
            chat = apply_update(runtime, session, item, parsed)
        except Exception as exc:
            raise StepFailed("telegram", exc) from exc
        return chat.problems, chat.outbox
    ctx = _context(runtime, session, item, parsed)
    run_steps(ctx)
    runs = [ctx, *_runs_for_other_accounts(ctx)]
    return list(parsed.problems) + [p for run in runs for p in run.problems], [row for run in runs for row in run.outbox]


def _apply_earlier_in_sequence(runtime: Runtime, session: Session, item: InboxItem) -> list[OutboxItem]:
    """Apply the pending items stored before `item` in its sequence, oldest first; their outbox rows.

    Two updates of one chat taken by two workers must not be applied in
    the wrong order ("/new" after the text it announced, a welcome after
    the ticket's acknowledgement).  Whoever holds the sequence applies what
    came before; the other worker then finds its item done.  An earlier
    item that fails is rolled back to its savepoint and left to its own run
    (and, if it keeps failing, to parking), so it cannot hold up the chat.
    """
    if item.sequence_key is None:
        return []
    earlier = session.scalars(
        select(InboxItem)
        .where(InboxItem.sequence_key == item.sequence_key, InboxItem.status == "pending", InboxItem.id < item.id,
               InboxItem.attempts < runtime.config.queue.max_attempts)
        .order_by(InboxItem.id)
        .with_for_update()
    ).all()
    outbox: list[OutboxItem] = []
    for other in earlier:
        try:
            with session.begin_nested():
                problems, rows = _apply(runtime, session, other, _parse(runtime, other.channel, other.raw_sha256))
                other.status, other.error, other.problems = "done", None, problems
                session.flush()
        except (StepFailed, Unprocessable, IntegrityError) as exc:
            log.warning("inbox item %s (before %s in %s) left for its own run: %s",
                        other.id, item.id, item.sequence_key, exc)
            continue
        outbox.extend(rows)
    return outbox


def _runs_for_other_accounts(first: Inbound) -> list[Inbound]:
    """The steps after `receive` once more for each further account the mail was addressed to."""
    runs = []
    for account in first.other_accounts:
        run = _context(first.runtime, first.session, first.item, first.parsed)
        run.account, run.account_config = account, settings_for(first.runtime.config, account)
        run_steps(run, STEPS[STEPS.index(receive) + 1:])
        runs.append(run)
    return runs


def _claim(runtime: Runtime, inbox_id: int) -> tuple[str, str, str | None] | None:
    """Count this run of a pending item (committed at once); its channel, raw blob's hash and sequence, or None.

    An item whose earlier runs all died without recording anything (the
    process was killed, or the mail crashed it) has used up its attempts
    here and is parked with that reason.
    """
    with runtime.db.transaction() as session:
        item = lock_inbox_item(session, inbox_id)
        if item is None:
            log.warning("inbox item %s does not exist", inbox_id)
            return None
        if item.status != "pending":
            return None
        if item.attempts >= runtime.config.queue.max_attempts:
            item.status = "parked"
            item.error = item.error or f"run {item.attempts} times without finishing (the worker died each time)"
            log.error("inbox item %s parked: %s", inbox_id, item.error)
            return None
        item.attempts += 1
        return item.channel, item.raw_sha256, item.sequence_key


def requeue_parked(runtime: Runtime, inbox_id: int) -> bool:
    """Give a parked item a fresh start (after a fix); True when it was parked."""
    with runtime.db.transaction() as session:
        item = lock_inbox_item(session, inbox_id)
        if item is None or item.status != "parked":
            return False
        item.status, item.attempts, item.error = "pending", 0, None
        return True


def parse_options(runtime: Runtime) -> ParseOptions:
    config = runtime.config
    return ParseOptions(
        own_domains=(config.message_id_domain,),
        max_hops=config.security.max_hops,
    )


def _parse(runtime: Runtime, channel: str, raw_sha256: str) -> ParsedMessage | TelegramUpdate:
    try:
        raw = runtime.blobs.get(raw_sha256)
    except BlobNotFound:
        raise Unprocessable(f"raw blob {raw_sha256} is missing from the blob store") from None
    if channel == CHAT_CHANNEL:
        return parse_update(raw)
    return parse_message(raw, parse_options(runtime))


def _context(runtime: Runtime, session: Session, item: InboxItem, parsed: ParsedMessage) -> Inbound:
    return Inbound(
        runtime=runtime,
        session=session,
        item=item,
        parsed=parsed,
        recipients=_envelope_recipients(item, parsed),
        hops=hop_count(parsed),
    )


def _envelope_recipients(item: InboxItem, parsed: ParsedMessage) -> tuple[str, ...]:
    """RCPT TO addresses when the channel had an envelope, else To/Cc/Delivered-To."""
    rcpt = [str(a).strip().lower() for a in (item.envelope or {}).get("rcpt_tos") or [] if str(a).strip()]
    if rcpt:
        return tuple(dict.fromkeys(rcpt))
    return _header_recipients(parsed)


def _header_recipients(parsed: ParsedMessage) -> tuple[str, ...]:
    delivered = [addr.lower() for _, addr in getaddresses(parsed.headers.get("delivered-to", [])) if addr]
    return tuple(dict.fromkeys([a.email for a in parsed.to + parsed.cc] + delivered))


def _add_copied_contacts(ctx: Inbound) -> None:
    """To/Cc people other than us, the sender and the account's agents become `cc` participants.

    "Us" is the hosted addresses only: an external account's address (a
    partner, or an upstream customer running its own relaydesk) is a real
    mailbox elsewhere and a contact like any other.
    """
    ours = set(ctx.runtime.config.hosted_addresses)
    exclude = ours | ({ctx.sender_email} if ctx.sender_email else set())
    for address in copied_contacts(ctx.parsed.to + ctx.parsed.cc, exclude):
        base, _, domain = split_plus(address.email)
        if f"{base}@{domain}" in ours or agent_by_email(ctx.session, ctx.ticket.account_id, address.email):
            continue
        add_participant(ctx.session, ctx.ticket, "cc", address)


def _stored_by_another_worker(runtime: Runtime, inbox_id: int) -> bool:
    """After a unique-key clash: did a concurrent run store this item? Then it is done."""
    with runtime.db.transaction() as session:
        item = lock_inbox_item(session, inbox_id)
        if item is None:
            return True
        if item.status == "done":
            return True
        if messages_of_inbox_item(session, inbox_id):
            item.status = "done"
            return True
        return False


def _record_failure(runtime: Runtime, inbox_id: int, error: str, park: bool, counted: bool = True) -> None:
    """Keep the reason of a failed run (already counted by `_claim`); park after `queue.max_attempts` (or at once).

    A run the database broke off (`counted=False`) is given back: an outage
    is no fault of the item, and must not park mail that was never read.
    When the database is still away, this fails too and the count stays.
    """
    with runtime.db.transaction() as session:
        item = lock_inbox_item(session, inbox_id)
        if item is None:
            return
        item.error = error[:2000]
        if not counted:
            item.attempts = max(item.attempts - 1, 0)
        elif park or item.attempts >= runtime.config.queue.max_attempts:
            item.status = "parked"


def _first_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[0] if lines else "(no detail)"
