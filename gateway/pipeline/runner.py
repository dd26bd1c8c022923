"""Process one inbox item: claim it, parse it, run the steps in ONE transaction, park what keeps failing.

Idempotent on the inbox row: an item already `done` is skipped, two workers
racing on one item serialise on its row lock (`SELECT … FOR UPDATE` on
PostgreSQL, `BEGIN IMMEDIATE` on SQLite), and the unique (ticket, source_key)
on messages turns any remaining race into an IntegrityError that is read as
"already done".  A step that raises rolls everything back; the item's
attempts and error are then recorded in a new transaction and the item is
parked after `queue.max_attempts` (`requeue_parked` replays it).  Nothing is
lost and the worker never crashes.  An item a step holds (`Held`: it waits
for mail it refers to) stays pending with the reason, its run not counted;
the sweeper tries it again.

Mail runs the steps of `gateway.pipeline.steps.STEPS`; any other channel
(Telegram) runs the `ChannelApplier` the application layer hands in.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from sqlalchemy import Row, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from gateway.core.accounts import settings_for
from gateway.core.runtime import Runtime
from gateway.desk import webhook_events
from gateway.outbound.chat_outbox import CHANNEL as CHAT_CHANNEL
from gateway.outbound.loop_guard import hop_count
from gateway.pipeline.context import (
    Applied,
    ChannelApplier,
    Inbound,
    Step,
    StepFailed,
    Unprocessable,
    Held,
    copies_key,
    first_line,
    header_recipients,
)
from gateway.pipeline.history import applying, history_of
from gateway.pipeline.steps import PER_ACCOUNT_FROM, STEPS
from parsers import ParsedMessage, ParseOptions, parse_message
from storage.availability import is_unavailable
from storage.blobs import BlobNotFound
from storage.models import InboxItem
from storage.raw_units import unit_bytes
from storage.claims import count_inbox_run, lock_inbox_item, serialize_on, take_pending_inbox_item
from storage.repositories import messages_of_inbox_item

log = logging.getLogger(__name__)

Appliers = Mapping[str, ChannelApplier]


def run_steps(ctx: Inbound, steps: list[Step] | None = None) -> None:
    for step in STEPS if steps is None else steps:
        if ctx.handled:
            return
        try:
            step(ctx)
        except Exception as exc:
            raise StepFailed(step.__name__, exc) from exc


def process_inbox_item(runtime: Runtime, inbox_id: int, appliers: Appliers | None = None) -> list[int]:
    """Process one inbox item in one transaction; returns the ids of the outbox rows it created.

    The caller enqueues their delivery after this returns (i.e. after commit).
    The attempt is counted in its own commit before any work (`_claim`), so a
    mail that kills the worker process outright is still parked after
    `queue.max_attempts` instead of crashing every worker that picks it up.
    Parsing happens before the write transaction opens: it is pure and can
    be slow, and SQLite has only one writer.
    """
    appliers = appliers or {}
    try:
        claimed = _claim(runtime, inbox_id)
        if claimed is None:
            return []
        parsed = _parse(runtime, appliers, claimed.channel, claimed.raw, claimed.raw_sha256)
        with runtime.db.transaction() as session:
            if claimed.sequence_key is not None:
                serialize_on(session, claimed.sequence_key)  # before the row lock: the holder may lock earlier rows
            # Marked done (undone if anything below fails); copies of one mail take turns from here on.
            item = take_pending_inbox_item(session, inbox_id, copies_key(parsed))
            if item is None:
                return []
            earlier = _apply_earlier_in_sequence(runtime, appliers, session, item)
            applied = _apply(runtime, appliers, session, item, parsed)
            if applied.problems or item.problems:
                item.problems = applied.problems
            session.flush()
            return [row.id for row in earlier + applied.outbox if row.status == "pending"] + webhook_events.take_queued(
                session)
    except IntegrityError as exc:
        if _stored_by_another_worker(runtime, inbox_id):
            return []
        _record_failure(runtime, inbox_id, f"store: IntegrityError: {first_line(str(exc.orig))}", park=False)
    except StepFailed as exc:
        if isinstance(exc.cause, Held):
            _record_failure(runtime, inbox_id, f"held: {exc.cause}", park=False, counted=False)
            return []
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
        _record_failure(runtime, inbox_id, f"transaction: {type(exc).__name__}: {first_line(str(exc))}", park=False,
                        counted=not unavailable)
    return []


def _apply(runtime: Runtime, appliers: Appliers, session: Session, item: InboxItem, parsed: object) -> Applied:
    """Run the mail steps, or the item's channel applier."""
    applier = appliers.get(item.channel)
    if applier is not None:
        try:
            return applier.apply(runtime, session, item, parsed)
        except Exception as exc:
            raise StepFailed(item.channel, exc) from exc
    ctx = _context(runtime, session, item, parsed)
    with applying(session, ctx.history):
        run_steps(ctx)
        runs = [ctx, *_runs_for_other_accounts(ctx)]
    return Applied(list(parsed.problems) + [p for run in runs for p in run.problems],
                   [row for run in runs for row in run.outbox])


def _apply_earlier_in_sequence(runtime: Runtime, appliers: Appliers, session: Session, item: InboxItem) -> list:
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
    outbox = []
    for other in earlier:
        try:
            with session.begin_nested():
                parsed = _parse(runtime, appliers, other.channel, other.raw, other.raw_sha256)
                applied = _apply(runtime, appliers, session, other, parsed)
                other.status, other.error, other.problems = "done", None, applied.problems
                session.flush()
        except (StepFailed, Unprocessable, IntegrityError) as exc:
            log.warning("inbox item %s (before %s in %s) left for its own run: %s",
                        other.id, item.id, item.sequence_key, exc)
            continue
        outbox.extend(applied.outbox)
    return outbox


def _runs_for_other_accounts(first: Inbound) -> list[Inbound]:
    """The steps after `receive` once more for each further account the mail was addressed to."""
    runs = []
    for account in first.other_accounts:
        run = _context(first.runtime, first.session, first.item, first.parsed)
        run.account, run.account_config = account, settings_for(first.runtime.config, account)
        run_steps(run, STEPS[PER_ACCOUNT_FROM:])
        runs.append(run)
    return runs


def _claim(runtime: Runtime, inbox_id: int) -> Row | None:
    """Count this run of a pending item (committed at once); its channel, raw, raw_sha256 and sequence, or None.

    The count only has to outlive a worker that dies on the mail, so it is
    committed without waiting for the disk (`durable=False`); the apply's
    commit makes it durable.  An item whose earlier runs all died without
    recording anything (the process was killed, or the mail crashed it) has
    used up its attempts here and is parked with that reason.
    """
    with runtime.db.transaction(durable=False) as session:
        counted = count_inbox_run(session, inbox_id, runtime.config.queue.max_attempts)
        if counted is not None:
            return counted
        item = lock_inbox_item(session, inbox_id)
        if item is None:
            log.warning("inbox item %s does not exist", inbox_id)
        elif item.status == "pending":  # out of attempts
            item.status = "parked"
            item.error = item.error or f"run {item.attempts} times without finishing (the worker died each time)"
            log.error("inbox item %s parked: %s", inbox_id, item.error)
        return None


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


def _parse(runtime: Runtime, appliers: Appliers, channel: str, in_row: bytes | None, raw_sha256: str) -> object:
    """Parse a unit: the bytes its row holds, else its blob (a big unit)."""
    try:
        raw = unit_bytes(runtime.blobs, in_row, raw_sha256)
    except BlobNotFound:
        raise Unprocessable(f"raw blob {raw_sha256} is missing from the blob store") from None
    applier = appliers.get(channel)
    if applier is not None:
        return applier.parse(raw)
    if channel == CHAT_CHANNEL:
        raise Unprocessable(f"no applier for {channel} items in this process")
    return parse_message(raw, parse_options(runtime))


def _context(runtime: Runtime, session: Session, item: InboxItem, parsed: ParsedMessage) -> Inbound:
    return Inbound(
        runtime=runtime,
        session=session,
        item=item,
        parsed=parsed,
        recipients=_envelope_recipients(item, parsed),
        hops=hop_count(parsed),
        history=history_of(item.envelope, parsed),
    )


def _envelope_recipients(item: InboxItem, parsed: ParsedMessage) -> tuple[str, ...]:
    """RCPT TO addresses when the channel had an envelope, else To/Cc/Delivered-To."""
    rcpt = [str(a).strip().lower() for a in (item.envelope or {}).get("rcpt_tos") or [] if str(a).strip()]
    if rcpt:
        return tuple(dict.fromkeys(rcpt))
    return header_recipients(parsed)


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
