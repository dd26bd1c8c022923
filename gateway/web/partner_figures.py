"""The Partners screen's data: how each partner did on this account's handoffs, week by week.

The totals are `report partners` restricted to the links this account
handed over (the same rows its CSV export gives); the weekly stage times
and the rating comments are read from the same links in one query each.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from gateway.desk.reports import PartnerRow, Period, partner_report
from storage.models import Account, Link, Ticket

PERIODS = {"30": 30, "90": 90, "365": 365, "all": None}


@dataclass(frozen=True)
class WeekStages:
    """Median hours to accept and to resolve of the links handed over in one ISO week."""

    week: date  # its Monday
    accept_hours: float | None
    resolve_hours: float | None
    handed: int


@dataclass(frozen=True)
class Rated:
    child_ref: str
    rating: int
    comment: str | None
    rated_at: datetime | None


@dataclass
class PartnerFigures:
    row: PartnerRow
    accepted: int = 0
    weeks: list[WeekStages] = field(default_factory=list)
    ratings: list[Rated] = field(default_factory=list)


def period_of(days: int | None, now: datetime | None = None) -> Period:
    if days is None:
        return Period()
    return Period(start=(now or datetime.now(timezone.utc)) - timedelta(days=days))


def handed_rows(session: Session, account: Account, period: Period) -> list[PartnerRow]:
    """`report partners` rows of the links this account handed over, one per partner."""
    return [row for row in partner_report(session, period, account.slug) if row.handed_by == account.slug]


def partner_figures(session: Session, account: Account, period: Period) -> list[PartnerFigures]:
    figures = {row.partner: PartnerFigures(row) for row in handed_rows(session, account, period)}
    parent, child, partner = aliased(Ticket), aliased(Ticket), aliased(Account)
    query = (select(partner.slug, child.ref, Link.created_at, Link.accepted_at, Link.resolved_at, Link.rating,
                    Link.rating_comment, Link.rated_at)
             .join(parent, Link.parent_ticket_id == parent.id).join(child, Link.child_ticket_id == child.id)
             .join(partner, child.account_id == partner.id).where(parent.account_id == account.id))
    if period.start is not None:
        query = query.where(Link.created_at >= period.start)
    by_week: dict[str, dict[date, list[tuple[float | None, float | None]]]] = defaultdict(lambda: defaultdict(list))
    for slug, ref, created, accepted, resolved, rating, comment, rated_at in session.execute(query):
        if slug not in figures:
            continue
        figures[slug].accepted += accepted is not None
        monday = (created - timedelta(days=created.weekday())).date()
        by_week[slug][monday].append((_hours(created, accepted), _hours(created, resolved)))
        if rating is not None:
            figures[slug].ratings.append(Rated(ref, rating, comment, rated_at))
    for slug, weeks in by_week.items():
        figures[slug].weeks = [_stages(monday, stages) for monday, stages in sorted(weeks.items())]
        figures[slug].ratings.sort(key=lambda r: r.rated_at or datetime.min.replace(tzinfo=timezone.utc), reverse=True)
    return list(figures.values())


def _hours(start: datetime, end: datetime | None) -> float | None:
    return (end - start).total_seconds() / 3600 if end is not None else None


def _stages(monday: date, stages: list[tuple[float | None, float | None]]) -> WeekStages:
    accept = [a for a, _ in stages if a is not None]
    resolve = [r for _, r in stages if r is not None]
    return WeekStages(monday, statistics.median(accept) if accept else None,
                      statistics.median(resolve) if resolve else None, len(stages))
