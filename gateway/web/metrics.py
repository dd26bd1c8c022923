"""`/metrics` in Prometheus' text format, computed from the database at each scrape.

Every figure is a count over durable rows (inbox, outbox, events, links), so
whichever of several `serve` and `worker` processes answers the scrape, it
answers the same, and a restart resets nothing: no multi-process files, no
counters in memory.  Counters (`*_total`) are counts of rows that only
grow.  Labels are channels, outcomes, reasons and account slugs: never
ticket content, and no label says one tenant's figure to another beyond the
slug.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import timedelta

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector, CollectorRegistry
from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session, aliased
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway.app.activity import ORDER, channel_activity
from gateway.desk.links import ACTIVE_STATES
from gateway.desk.reports import nearest_rank
from gateway.core.runtime import Runtime
from storage.deadline_models import Deadline
from storage.models import Account, Event, InboxItem, Link, OutboxItem, Ticket, utcnow

LATENCY_WINDOW = timedelta(hours=1)
LATENCY_QUANTILES = (0.5, 0.95, 0.99)


class DatabaseCollector(Collector):
    """Reads every series from the database in one transaction per scrape."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    def collect(self) -> Iterator[Metric]:
        with self.runtime.db.reading() as session:
            yield from _intake(session)
            yield from _outbox(session)
            yield from _latency(session)
            yield from _rejections(session)
            yield from _links(session)
            yield from _tickets(session)
            yield from _channels(session, self.runtime)


def _intake(session: Session) -> Iterator[Metric]:
    taken = CounterMetricFamily("relaydesk_inbound", "Mail and updates taken in, per channel and outcome "
                                "(done, parked, pending).", labels=["channel", "outcome"])
    depth = GaugeMetricFamily("relaydesk_inbox_depth", "Inbound items waiting to be processed.", labels=["channel"])
    rows = session.execute(select(InboxItem.channel, InboxItem.status, func.count()).group_by(InboxItem.channel,
                                                                                             InboxItem.status))
    for channel, status, count in rows:
        taken.add_metric([channel, status], count)
        if status == "pending":
            depth.add_metric([channel], count)
    yield taken
    yield depth


def _outbox(session: Session) -> Iterator[Metric]:
    done = CounterMetricFamily("relaydesk_deliveries", "Outbound items per channel (email, telegram, webhook) and "
                               "outcome (sent, failed).", labels=["channel", "outcome"])
    depth = GaugeMetricFamily("relaydesk_outbox_depth", "Outbound items waiting to be sent (first try or retry).",
                              labels=["channel"])
    retrying = GaugeMetricFamily("relaydesk_outbox_retrying", "Outbound items waiting after a failed try.",
                                 labels=["channel"])
    rows = session.execute(select(OutboxItem.channel, OutboxItem.status, func.count())
                           .group_by(OutboxItem.channel, OutboxItem.status))
    for channel, status, count in rows:
        (depth.add_metric([channel], count) if status == "pending" else done.add_metric([channel, status], count))
    rows = session.execute(select(OutboxItem.channel, func.count()).where(
        OutboxItem.status == "pending", OutboxItem.attempts > 0).group_by(OutboxItem.channel))
    for channel, count in rows:
        retrying.add_metric([channel], count)
    yield from (done, depth, retrying)


def _latency(session: Session) -> Iterator[Metric]:
    """Seconds from receiving an item to having applied it, over the items finished in the last hour."""
    since = utcnow() - LATENCY_WINDOW
    rows = session.execute(select(InboxItem.received_at, InboxItem.updated_at)
                           .where(InboxItem.status == "done", InboxItem.updated_at >= since))
    seconds = [(done - received).total_seconds() for received, done in rows]
    latency = GaugeMetricFamily("relaydesk_processing_latency_seconds", "Receiving to applied, items finished in "
                                "the last hour (nearest-rank quantiles).", labels=["quantile"])
    for q in LATENCY_QUANTILES:
        value = nearest_rank(seconds, q)
        if value is not None:
            latency.add_metric([str(q)], value)
    yield latency
    yield GaugeMetricFamily("relaydesk_processed_last_hour", "Inbound items applied in the last hour.",
                            value=len(seconds))


def _rejections(session: Session) -> Iterator[Metric]:
    """Refused mail commands per reason (the error reply's reason), from the `command_rejected` events."""
    reasons = Counter(str((detail or {}).get("reason", "rejected"))
                      for detail in session.scalars(select(Event.detail).where(Event.type == "command_rejected")))
    rejected = CounterMetricFamily("relaydesk_rejections", "Mail commands refused, per reason.", labels=["reason"])
    for reason, count in sorted(reasons.items()):
        rejected.add_metric([reason], count)
    yield rejected


def _links(session: Session) -> Iterator[Metric]:
    open_links = GaugeMetricFamily("relaydesk_open_links", "Handoffs not finished yet, per handing account and "
                                   "partner.", labels=["account", "partner"])
    for account, partner, count in _per_pair(session, Link, Link.state.in_(ACTIVE_STATES)):
        open_links.add_metric([account, partner], count)
    yield open_links
    breaches = CounterMetricFamily("relaydesk_deadline_breaches", "Deadlines a partner let pass, per handing "
                                   "account and partner.", labels=["account", "partner"])
    for account, partner, count in _per_pair(session, Deadline, Deadline.breached_at.is_not(None)):
        breaches.add_metric([account, partner], count)
    yield breaches


def _per_pair(session: Session, model: type[Link] | type[Deadline],
              *where: ColumnElement[bool]) -> list[tuple[str, str, int]]:
    """Rows of `model` (links, or deadlines of links) matching `where`, counted per handing account and partner."""
    child, parent = aliased(Ticket), aliased(Ticket)
    partner, handing = aliased(Account), aliased(Account)
    query = select(handing.slug, partner.slug, func.count()).select_from(model)
    if model is Deadline:
        query = query.join(Link, Deadline.link_id == Link.id)
    query = (query.join(child, Link.child_ticket_id == child.id).join(partner, child.account_id == partner.id)
             .join(parent, Link.parent_ticket_id == parent.id).join(handing, parent.account_id == handing.id))
    return [tuple(row) for row in session.execute(query.where(*where).group_by(handing.slug, partner.slug))]


def _tickets(session: Session) -> Iterator[Metric]:
    tickets = GaugeMetricFamily("relaydesk_tickets", "Tickets per account and status.", labels=["account", "status"])
    rows = session.execute(select(Account.slug, Ticket.status, func.count()).select_from(Ticket)
                           .join(Account, Ticket.account_id == Account.id)
                           .group_by(Account.slug, Ticket.status))
    for slug, status, count in rows:
        tickets.add_metric([slug, status], count)
    yield tickets


def _channels(session: Session, runtime: Runtime) -> Iterator[Metric]:
    now = utcnow()
    since = GaugeMetricFamily("relaydesk_channel_seconds_since_activity", "Seconds since each channel last did its "
                              "work (an IMAP folder answered, mail came in or went out).", labels=["channel"])
    state = GaugeMetricFamily("relaydesk_channel_state", "Each channel's health: 0 up, 1 slow, 2 down.",
                              labels=["channel"])
    for activity in channel_activity(session, runtime.config, now):
        seconds = activity.seconds_since(now)
        if seconds is not None:
            since.add_metric([activity.name], seconds)
        state.add_metric([activity.name], ORDER[activity.state])
    yield since
    yield state


def metrics_registry(runtime: Runtime) -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(DatabaseCollector(runtime))
    return registry


def metrics_route(runtime: Runtime) -> Route:
    """`GET /metrics`, served from its own registry (nothing process-local is mixed in)."""
    registry = metrics_registry(runtime)

    def metrics(request: Request) -> Response:
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    return Route("/metrics", metrics, methods=["GET"])
