"""Deadlines per link: set at handoff, paused and resumed with the child's status, met, stopped, re-timed.

Each link under terms gets an `accept` and/or a `resolve` deadline in
business time (gateway/desk/business_time.py).  A running deadline always
has its timers in the database — one per `remind_at` fraction not yet
reached and one at the due time — so whatever process is up when they fall
due acts on them (gateway/app/timer_sweeper.py).  Every change that moves a
due time cancels the pending timers and schedules new ones in the same
transaction, so a timer never outlives the deadline it was made for.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, aliased

from gateway.core.accounts import settings_for
from gateway.core.config import Config
from gateway.desk.business_time import Stopwatch
from gateway.desk.partner_terms import KINDS, Terms, from_snapshot, terms_for
from gateway.desk.withheld import in_history
from storage import repositories
from storage.deadline_models import Deadline, Timer
from storage.models import Account, Link, Ticket

RUNNING, PAUSED, MET, BREACHED, STOPPED = "running", "paused", "met", "breached", "stopped"
OPEN = (RUNNING, PAUSED)
REMIND, BREACH = "remind", "breach"
# What `chain --json` shows per deadline and per link, worst first.
ON_TRACK, AT_RISK = "on_track", "at_risk"
_SEVERITY = (BREACHED, PAUSED, AT_RISK, ON_TRACK, MET)


def start(session: Session, link: Link, terms: Terms | None, now: datetime) -> list[Deadline]:
    """Set the link's deadlines from `terms` (none without terms, nor for a handoff found in history: its
    reminders and escalations would leave for work done long ago), running from `now`."""
    if terms is None or in_history(session):
        return []
    started = []
    for kind in KINDS:
        allowed = terms.allowed_seconds(kind)
        if allowed is None:
            continue
        deadline = Deadline(link_id=link.id, kind=kind, state=RUNNING, allowed_seconds=allowed, spent_seconds=0.0,
                            running_since=now, terms=terms.snapshot, started_at=now)
        deadline.link = link
        session.add(deadline)
        started.append(deadline)
    session.flush()
    for deadline in started:
        _reschedule(session, deadline, terms)
    return started


def meet(session: Session, link: Link, kinds: Iterable[str], now: datetime) -> None:
    """The partner answered (accept) or resolved (both): those deadlines are met; a breach stays on record."""
    for deadline in _of_link(session, link.id):
        if deadline.kind in kinds and deadline.met_at is None and deadline.state in (*OPEN, BREACHED):
            deadline.met_at = now
            if deadline.state in OPEN:
                deadline.state = MET
                _freeze(deadline, now)
            _cancel_timers(session, deadline)


def stop(session: Session, link: Link, now: datetime) -> None:
    """The work was recalled, declined or closed from above: open deadlines stop without a verdict."""
    for deadline in _of_link(session, link.id):
        if deadline.state in OPEN:
            _freeze(deadline, now)
            deadline.state, deadline.stopped_at = STOPPED, now
            _cancel_timers(session, deadline)


def breach(session: Session, deadline: Deadline, now: datetime) -> None:
    """The time ran out before the partner answered or resolved."""
    deadline.state, deadline.breached_at = BREACHED, now
    _cancel_timers(session, deadline)


def follow_status(session: Session, child: Ticket, now: datetime) -> None:
    """Pause the deadlines of `child`'s link while it has a `pause_while` status; resume them when it leaves it."""
    link = repositories.parent_link(session, child.id)
    if link is None:
        return
    for deadline in _of_link(session, link.id):
        if deadline.state not in OPEN:
            continue
        terms = from_snapshot(deadline.terms)
        waiting = child.status in terms.pause_while
        if waiting and deadline.state == RUNNING:
            _set_watch(deadline, watch_of(deadline).paused(terms.calendar, now), terms)
            deadline.state = PAUSED
        elif not waiting and deadline.state == PAUSED:
            _set_watch(deadline, watch_of(deadline).resumed(now), terms)
            deadline.state = RUNNING
        else:
            continue
        _reschedule(session, deadline, terms)


def apply_current_terms(session: Session, config: Config, now: datetime) -> int:
    """Re-time every open deadline whose terms changed in the config; returns how many changed.

    What was used under the old terms stays used; the rest counts under the
    new ones.  A deadline the new terms no longer set stops.
    """
    parent, child = aliased(Ticket), aliased(Ticket)
    handing, partner = aliased(Account), aliased(Account)
    rows = session.execute(
        select(Deadline, handing, partner.slug).join(Link, Deadline.link_id == Link.id)
        .join(parent, Link.parent_ticket_id == parent.id).join(handing, parent.account_id == handing.id)
        .join(child, Link.child_ticket_id == child.id).join(partner, child.account_id == partner.id)
        .where(Deadline.state.in_(OPEN))
    )
    known: dict[tuple[str, str], Terms | None] = {}  # one resolution per (handing account, partner)
    changed = 0
    for deadline, account, partner_slug in rows:
        key = (account.slug, partner_slug)
        if key not in known:
            known[key] = terms_for(settings_for(config, account), partner_slug)
        current = known[key]
        if current is not None and current.snapshot == deadline.terms:
            continue
        changed += 1
        allowed = current.allowed_seconds(deadline.kind) if current is not None else None
        if current is None or allowed is None:
            _freeze(deadline, now)
            deadline.state, deadline.stopped_at = STOPPED, now
            _cancel_timers(session, deadline)
            continue
        old = from_snapshot(deadline.terms)
        deadline.terms = current.snapshot
        _set_watch(deadline, watch_of(deadline).retimed(old.calendar, now, allowed), current)
        _reschedule(session, deadline, current)
    return changed


def watch_of(deadline: Deadline) -> Stopwatch:
    return Stopwatch(allowed=deadline.allowed_seconds, spent=deadline.spent_seconds,
                     running_since=deadline.running_since)


def state_of(deadline: Deadline, now: datetime) -> str | None:
    """on_track, at_risk, breached, met or paused; None for a deadline stopped without a verdict."""
    if deadline.state == BREACHED or (deadline.state == RUNNING and deadline.due_at is not None
                                      and deadline.due_at <= now):
        return BREACHED
    if deadline.state in (MET, PAUSED):
        return deadline.state
    if deadline.state != RUNNING:
        return None
    terms = from_snapshot(deadline.terms)
    at_risk = watch_of(deadline).reaches(terms.calendar, terms.at_risk_from)
    return AT_RISK if at_risk is not None and at_risk <= now else ON_TRACK


def link_state(deadlines: Iterable[Deadline], now: datetime) -> str | None:
    """The worst state of a link's deadlines (breached > paused > at_risk > on_track > met)."""
    states = {state_of(d, now) for d in deadlines} - {None}
    return next((s for s in _SEVERITY if s in states), None)


def is_overdue(deadlines: Iterable[Deadline], now: datetime) -> bool:
    """A deadline ran out and what it waits for has not happened yet."""
    return any(d.met_at is None and d.state != STOPPED and state_of(d, now) == BREACHED for d in deadlines)


def by_link(session: Session, link_ids: Iterable[int]) -> dict[int, list[Deadline]]:
    """The deadlines of several links in one query, accept before resolve."""
    ids = list(link_ids)
    found: dict[int, list[Deadline]] = defaultdict(list)
    if ids:
        for deadline in session.scalars(select(Deadline).where(Deadline.link_id.in_(ids)).order_by(Deadline.id)):
            found[deadline.link_id].append(deadline)
    return found


def due_at(deadlines: Iterable[Deadline], kind: str) -> datetime | None:
    return next((d.due_at for d in deadlines if d.kind == kind), None)


def _of_link(session: Session, link_id: int) -> list[Deadline]:
    return list(session.scalars(select(Deadline).where(Deadline.link_id == link_id).order_by(Deadline.id)))


def _freeze(deadline: Deadline, now: datetime) -> None:
    """Fold the running segment into `spent_seconds`: the time used is kept for reports."""
    if deadline.running_since is not None:
        terms = from_snapshot(deadline.terms)
        deadline.spent_seconds = watch_of(deadline).used(terms.calendar, now)
        deadline.running_since = None


def _set_watch(deadline: Deadline, watch: Stopwatch, terms: Terms) -> None:
    deadline.allowed_seconds, deadline.spent_seconds = watch.allowed, watch.spent
    deadline.running_since = watch.running_since
    deadline.due_at = watch.due(terms.calendar)


def _reschedule(session: Session, deadline: Deadline, terms: Terms) -> None:
    """Replace the deadline's pending timers: reminders not yet reached and the breach (none while paused)."""
    _cancel_timers(session, deadline)
    watch = watch_of(deadline)
    if not watch.running:
        return
    deadline.due_at = watch.due(terms.calendar)
    for fraction in terms.remind_at:
        if fraction * watch.allowed > watch.spent:
            session.add(Timer(kind=REMIND, deadline_id=deadline.id, fraction=fraction,
                              due_at=watch.reaches(terms.calendar, fraction)))
    session.add(Timer(kind=BREACH, deadline_id=deadline.id, due_at=deadline.due_at))


def _cancel_timers(session: Session, deadline: Deadline) -> None:
    """Pending timers of the deadline go; one that failed for good stays, with its error, for the operator."""
    session.execute(delete(Timer).where(Timer.deadline_id == deadline.id, Timer.status == "pending")
                    .execution_options(synchronize_session=False))

