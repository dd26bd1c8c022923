"""The partner report: how each partner did on the work handed to it, for settlements.

One row per (partner, handing account) and one total row per partner
(`handed_by` = None): tickets handed over, how many were resolved, median
and 90th percentile time to accept and to resolve, average rating and how
many were rated; under partner terms, how many links had deadlines, the
share of the decided ones kept within terms, and the breaches of each
deadline.  The links of the period are read in one query (joined to
both tickets and accounts) and aggregated in one pass, so the cost does not
grow with the number of queries, only with the number of links.

Percentiles use the nearest-rank method (the value at rank ⌈p·n⌉ of the
sorted list), which is what a person checking a settlement by hand gets.
"""

from __future__ import annotations

import csv
import io
import math
import statistics
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, time, timedelta, timezone

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from storage.deadline_models import Deadline
from storage.models import Account, Link, Ticket

REPORT_COLUMNS = (
    "partner",
    "partner_name",
    "handed_by",
    "handed_by_name",
    "tickets",
    "resolved",
    "accept_median_seconds",
    "accept_p90_seconds",
    "resolve_median_seconds",
    "resolve_p90_seconds",
    "rating_avg",
    "rated",
    "under_terms",
    "within_terms_share",
    "accept_breaches",
    "resolve_breaches",
)


def nearest_rank(values: list[float], fraction: float) -> float | None:
    """The value at rank ⌈fraction·n⌉ of the sorted values (None for no values)."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


@dataclass(frozen=True)
class Period:
    """Links handed off in [start, end); either end may be open."""

    start: datetime | None = None
    end: datetime | None = None

    @classmethod
    def from_dates(cls, since: date | None, until: date | None) -> "Period":
        """`--since` and `--until` are whole UTC days, both included."""
        start = datetime.combine(since, time.min, timezone.utc) if since else None
        end = datetime.combine(until + timedelta(days=1), time.min, timezone.utc) if until else None
        return cls(start, end)


@dataclass
class _Tally:
    """The figures of one row, gathered in one pass over the links."""

    partner: str
    partner_name: str
    handed_by: str | None
    handed_by_name: str | None
    tickets: int = 0
    accept: list[float] = field(default_factory=list)
    resolve: list[float] = field(default_factory=list)
    ratings: list[int] = field(default_factory=list)
    terms: TermsTally = field(default_factory=lambda: TermsTally())

    def add(self, accept: float | None, resolve: float | None, rating: int | None,
            link_deadlines: list[tuple[str, str]]) -> None:
        self.tickets += 1
        if accept is not None:
            self.accept.append(accept)
        if resolve is not None:
            self.resolve.append(resolve)
        if rating is not None:
            self.ratings.append(rating)
        self.terms.add(link_deadlines)

    def row(self) -> "PartnerRow":
        return PartnerRow(
            partner=self.partner,
            partner_name=self.partner_name,
            handed_by=self.handed_by,
            handed_by_name=self.handed_by_name,
            tickets=self.tickets,
            resolved=len(self.resolve),
            accept_median_seconds=_rounded(statistics.median(self.accept) if self.accept else None),
            accept_p90_seconds=_rounded(nearest_rank(self.accept, 0.9)),
            resolve_median_seconds=_rounded(statistics.median(self.resolve) if self.resolve else None),
            resolve_p90_seconds=_rounded(nearest_rank(self.resolve, 0.9)),
            rating_avg=round(statistics.fmean(self.ratings), 2) if self.ratings else None,
            rated=len(self.ratings),
            under_terms=self.terms.links,
            within_terms_share=round(self.terms.within / self.terms.decided, 3) if self.terms.decided else None,
            accept_breaches=self.terms.breaches["accept"],
            resolve_breaches=self.terms.breaches["resolve"],
        )


@dataclass
class TermsTally:
    """Links under partner terms: decided (every deadline met, stopped or breached), kept within, breaches.

    A link whose deadlines still run counts as under terms but not yet as
    decided, so a partner's share is not flattered by work still open.
    """

    links: int = 0
    decided: int = 0
    within: int = 0
    breaches: dict[str, int] = field(default_factory=lambda: {"accept": 0, "resolve": 0})

    def add(self, link_deadlines: list[tuple[str, str]]) -> None:
        if not link_deadlines:
            return
        self.links += 1
        breached = [kind for kind, state in link_deadlines if state == "breached"]
        for kind in breached:
            self.breaches[kind] += 1
        if breached:
            self.decided += 1
        elif all(state in ("met", "stopped") for _, state in link_deadlines):
            self.decided += 1
            self.within += 1


@dataclass(frozen=True)
class PartnerRow:
    partner: str
    partner_name: str
    handed_by: str | None
    handed_by_name: str | None
    tickets: int
    resolved: int
    accept_median_seconds: float | None
    accept_p90_seconds: float | None
    resolve_median_seconds: float | None
    resolve_p90_seconds: float | None
    rating_avg: float | None
    rated: int
    under_terms: int
    within_terms_share: float | None
    accept_breaches: int
    resolve_breaches: int


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def partner_report(session: Session, period: Period = Period(), account: str | None = None) -> list[PartnerRow]:
    """Rows for every partner that received work in `period`.

    `account` keeps only the links where that account is the partner or the
    one handing over.  Rows are ordered by partner, its total row first.
    """
    parent, child = aliased(Ticket), aliased(Ticket)
    handing, partner = aliased(Account), aliased(Account)
    query = (
        select(
            partner.slug, partner.name, handing.slug, handing.name,
            Link.id, Link.created_at, Link.accepted_at, Link.resolved_at, Link.rating,
        )
        .join(child, Link.child_ticket_id == child.id)
        .join(partner, child.account_id == partner.id)
        .join(parent, Link.parent_ticket_id == parent.id)
        .join(handing, parent.account_id == handing.id)
    )
    if period.start is not None:
        query = query.where(Link.created_at >= period.start)
    if period.end is not None:
        query = query.where(Link.created_at < period.end)
    if account is not None:
        query = query.where((partner.slug == account) | (handing.slug == account))

    rows = session.execute(query).all()
    deadlines = _deadline_states(session, [row[4] for row in rows])
    tallies: dict[tuple[str, str | None], _Tally] = {}
    for p_slug, p_name, h_slug, h_name, link_id, created, accepted, resolved, rating in rows:
        accept = (accepted - created).total_seconds() if accepted else None
        resolve = (resolved - created).total_seconds() if resolved else None
        for key, names in (((p_slug, None), (p_name, None)), ((p_slug, h_slug), (p_name, h_name))):
            tally = tallies.get(key)
            if tally is None:
                tally = tallies[key] = _Tally(key[0], names[0], key[1], names[1])
            tally.add(accept, resolve, rating, deadlines.get(link_id, []))
    ordered = sorted(tallies.values(), key=lambda t: (t.partner, t.handed_by is not None, t.handed_by or ""))
    return [t.row() for t in ordered]


def _deadline_states(session: Session, link_ids: list[int]) -> dict[int, list[tuple[str, str]]]:
    """(kind, state) of every deadline of the links, in batches of one query each."""
    found: dict[int, list[tuple[str, str]]] = defaultdict(list)
    for start in range(0, len(link_ids), 5000):
        batch = link_ids[start:start + 5000]
        rows = session.execute(select(Deadline.link_id, Deadline.kind, Deadline.state)
                               .where(Deadline.link_id.in_(batch)))
        for link_id, kind, state in rows:
            found[link_id].append((kind, state))
    return found


def rows_to_json(rows: list[PartnerRow]) -> list[dict]:
    return [asdict(r) for r in rows]


def rows_to_csv(rows: list[PartnerRow]) -> str:
    """CSV with a header line; empty cells for figures that have no data."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=REPORT_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: ("" if v is None else v) for k, v in asdict(row).items()})
    return out.getvalue()

