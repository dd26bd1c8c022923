"""Business-time arithmetic for partner terms: when a deadline falls, how much of it is used.

A partner's deadline counts only the hours its terms say the clock runs
(`Mon-Fri 08:00-18:00` in the account's zone, holidays off), and stops
while the work waits on someone else.  Everything here is pure — instants
in, instants out, no database and no "now" — so the rules can be tested on
fixed timestamps across weekends, holidays and DST changes.  The written
form of the terms (durations, hours, holidays) is read by gateway/core/terms.py.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from gateway.core.terms import ALWAYS, TermsError, Week, Window, parse_business_hours, parse_holidays, parse_zone

# A calendar with opening hours but none in ten years is a configuration error, not a reason to loop.
MAX_CLOSED_DAYS = 3660


@dataclass(frozen=True)
class Calendar:
    """When business time runs: windows per weekday (Mon=0) in a zone, minus holidays (local dates)."""

    zone: ZoneInfo
    week: Week = ALWAYS
    holidays: frozenset[date] = frozenset()

    @property
    def business_day_seconds(self) -> float:
        """The length of one business day: the longest day's opening hours."""
        return max((sum(_window_seconds(w) for w in windows) for windows in self.week), default=0.0)

    def intervals(self, start: datetime) -> Iterator[tuple[datetime, datetime]]:
        """Open intervals in UTC from the local day of `start` on, in order; endless unless never open."""
        day = start.astimezone(self.zone).date()
        closed = 0
        while closed <= MAX_CLOSED_DAYS:
            windows = () if day in self.holidays else self.week[day.weekday()]
            closed = 0 if windows else closed + 1
            for begin, end in windows:
                yield _utc(day, begin, self.zone), _utc(day, end, self.zone)
            day += timedelta(days=1)
        raise TermsError("business_hours", f"no business hours in {MAX_CLOSED_DAYS} days after {start.date()}")

    def add(self, start: datetime, seconds: float) -> datetime:
        """The instant `seconds` of business time after `start`."""
        remaining = timedelta(seconds=seconds)
        if remaining <= timedelta(0):
            return start
        for begin, end in self.intervals(start):
            if end <= start:
                continue
            begin = max(begin, start)
            if remaining <= end - begin:
                return begin + remaining
            remaining -= end - begin
        raise AssertionError("intervals() ends only by raising")

    def elapsed(self, start: datetime, end: datetime) -> float:
        """Seconds of business time between two instants (0 when `end` is not after `start`)."""
        total = 0.0
        if end <= start:
            return total
        for begin, stop in self.intervals(start):
            if begin >= end:
                return total
            overlap = min(stop, end) - max(begin, start)
            total += max(overlap.total_seconds(), 0.0)
        return total


def _utc(day: date, at: time | None, zone: ZoneInfo) -> datetime:
    if at is None:
        day, at = day + timedelta(days=1), time(0)
    return datetime.combine(day, at, tzinfo=zone).astimezone(timezone.utc)


def _window_seconds(window: Window) -> float:
    begin, end = window
    end_seconds = 86400 if end is None else end.hour * 3600 + end.minute * 60
    return float(end_seconds - (begin.hour * 3600 + begin.minute * 60))


def make_calendar(business_hours: str | None = None, timezone_name: str = "UTC",
                  holidays: Iterable[str] = ()) -> Calendar:
    """A Calendar from the terms' strings; TermsError names the offending key."""
    week = parse_business_hours(business_hours) if business_hours else ALWAYS
    return Calendar(zone=parse_zone(timezone_name), week=week, holidays=parse_holidays(holidays))


@dataclass(frozen=True)
class Stopwatch:
    """The business time a deadline has used: closed segments in `spent`, the running one since `running_since`.

    Pausing folds the running segment into `spent`; resuming starts a new
    one.  Terms that change mid-flight keep what was used under the old
    calendar and count the rest under the new one (`retimed`).
    """

    allowed: float
    spent: float = 0.0
    running_since: datetime | None = None

    @classmethod
    def started(cls, allowed: float, at: datetime) -> Stopwatch:
        return cls(allowed=allowed, running_since=at)

    @property
    def running(self) -> bool:
        return self.running_since is not None

    def used(self, calendar: Calendar, at: datetime) -> float:
        """Business seconds used up to `at`."""
        if self.running_since is None:
            return self.spent
        return self.spent + calendar.elapsed(self.running_since, at)

    def paused(self, calendar: Calendar, at: datetime) -> Stopwatch:
        if self.running_since is None:
            return self
        return replace(self, spent=self.used(calendar, at), running_since=None)

    def resumed(self, at: datetime) -> Stopwatch:
        return self if self.running_since is not None else replace(self, running_since=at)

    def due(self, calendar: Calendar) -> datetime | None:
        """When the allowed time runs out, or None while paused."""
        return self.reaches(calendar, 1.0)

    def reaches(self, calendar: Calendar, fraction: float) -> datetime | None:
        """When `fraction` of the allowed time will have been used (None while paused).

        A fraction already used is reached at the start of the running segment, i.e. at once.
        """
        if self.running_since is None:
            return None
        return calendar.add(self.running_since, max(fraction * self.allowed - self.spent, 0.0))

    def retimed(self, old: Calendar, at: datetime, allowed: float) -> Stopwatch:
        """New terms from `at` on: what was used stays used, the rest counts against `allowed`."""
        spent = self.used(old, at)
        return Stopwatch(allowed=allowed, spent=spent, running_since=at if self.running else None)


def next_local_time(after: datetime, hour: int, zone: ZoneInfo) -> datetime:
    """The first instant after `after` at which the clock in `zone` shows `hour`:00 (a daily digest's time)."""
    day = after.astimezone(zone).date()
    for offset in range(3):
        candidate = datetime.combine(day + timedelta(days=offset), time(hour), tzinfo=zone)
        if candidate.astimezone(timezone.utc) > after:
            return candidate.astimezone(timezone.utc)
    raise AssertionError("one of three days has the hour after `after`")
