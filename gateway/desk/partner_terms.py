"""The terms one account gives one partner, ready to compute with.

A deadline keeps the terms it was set under as a plain snapshot (`Terms.
snapshot`) so it can be re-timed, paused and resumed without the config at
hand, and so a change of terms in the config is noticed by comparing
snapshots.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from gateway.core.config import AccountConfig
from gateway.core.terms import Duration, TermsConfig, parse_duration
from gateway.desk.business_time import Calendar, make_calendar

ACCEPT, RESOLVE = "accept", "resolve"
KINDS = (ACCEPT, RESOLVE)
# Without `remind_at`, a deadline counts as at risk once this share of its time is used.
AT_RISK_DEFAULT = 0.75


@dataclass(frozen=True)
class Terms:
    """Resolved terms: the durations, when to remind, when the clock stops, the backup, the calendar."""

    accept_within: Duration | None
    resolve_within: Duration | None
    remind_at: tuple[float, ...]
    pause_while: frozenset[str]
    backup_partner: str | None
    calendar: Calendar
    snapshot: dict[str, Any]

    def allowed_seconds(self, kind: str) -> float | None:
        """Business seconds allowed for `kind` (accept | resolve), None when the terms set no such deadline."""
        duration = self.accept_within if kind == ACCEPT else self.resolve_within
        return duration.seconds(self.calendar.business_day_seconds) if duration is not None else None

    @property
    def at_risk_from(self) -> float:
        return self.remind_at[0] if self.remind_at else AT_RISK_DEFAULT


def terms_for(handing: AccountConfig, partner: str) -> Terms | None:
    """The terms `handing` gives `partner`, or None when they set no deadline at all."""
    written = handing.terms_for(partner)
    if written.accept_within is None and written.resolve_within is None:
        return None
    snapshot = written.model_dump(mode="json")
    if snapshot.get("backup_partner") == partner:
        snapshot["backup_partner"] = None  # account-wide defaults may name the partner itself
    return from_snapshot(snapshot)


def from_snapshot(snapshot: dict[str, Any]) -> Terms:
    """Terms from what a deadline stored (the config's keys as JSON)."""
    written = TermsConfig(**snapshot)
    return Terms(
        accept_within=parse_duration(written.accept_within, "accept_within") if written.accept_within else None,
        resolve_within=parse_duration(written.resolve_within, "resolve_within") if written.resolve_within else None,
        remind_at=written.remind_at or (),
        pause_while=frozenset(written.pause_while or ()),
        backup_partner=written.backup_partner,
        calendar=_calendar(written.business_hours, written.timezone or "UTC", tuple(written.holidays or ())),
        snapshot=snapshot,
    )


@lru_cache(maxsize=256)
def _calendar(business_hours: str | None, zone: str, holidays: tuple[str, ...]) -> Calendar:
    """Calendars are immutable and few; deadlines of the same terms share one."""
    return make_calendar(business_hours, zone, holidays)


def zone_of(account: AccountConfig) -> ZoneInfo:
    """The account's own zone (its terms' defaults), for its digest hour; UTC when unset."""
    return ZoneInfo(account.terms.timezone or "UTC")
