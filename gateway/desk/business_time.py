"""Business-time arithmetic for partner terms: durations, opening hours, holidays, pauses.

A partner's deadline counts only the hours its terms say the clock runs
(`Mon-Fri 08:00-18:00` in the account's zone, holidays off), and stops
while the work waits on someone else.  Everything here is pure — instants
in, instants out, no database and no "now" — so the rules can be tested on
fixed timestamps across weekends, holidays and DST changes.

Durations: `90s`, `15m`, `4h`, `2d` are that much *business* time (`2d` is
48 business hours; with no business hours set, business time is wall-clock
time); `2 business days` (also `1 business hour`, `30 business minutes`)
is two full business days, a business day being the longest day's opening
hours.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# A calendar with opening hours but none in ten years is a configuration error, not a reason to loop.
MAX_CLOSED_DAYS = 3660
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d)\s*$")
_BUSINESS = re.compile(r"^\s*(\d+(?:\.\d+)?)\s+business\s+(day|hour|minute)s?\s*$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "hour": 3600, "minute": 60}
_WINDOW = re.compile(r"^(\d{2}):(\d{2})-(\d{2}):(\d{2})$")


class TermsError(ValueError):
    """A duration, opening-hours or holiday value that cannot be used; the message names the key."""

    def __init__(self, key: str, problem: str) -> None:
        self.key = key
        super().__init__(f"{key}: {problem}" if key else problem)


@dataclass(frozen=True)
class Duration:
    """An amount of business time: plain seconds, or whole business days (sized by the calendar)."""

    amount: float
    business_days: bool = False

    def seconds(self, calendar: Calendar) -> float:
        return self.amount * calendar.business_day_seconds if self.business_days else self.amount


def parse_duration(text: str, key: str = "") -> Duration:
    """`"90s"`, `"15m"`, `"4h"`, `"2d"`, `"2 business days"` → Duration; TermsError naming `key` otherwise."""
    value = str(text).strip().lower()
    plain = _DURATION.match(value)
    if plain:
        amount = float(plain.group(1)) * _UNIT_SECONDS[plain.group(2)]
        return _positive(Duration(amount), text, key)
    business = _BUSINESS.match(value)
    if business:
        amount, unit = float(business.group(1)), business.group(2)
        if unit == "day":
            return _positive(Duration(amount, business_days=True), text, key)
        return _positive(Duration(amount * _UNIT_SECONDS[unit]), text, key)
    raise TermsError(key, f"{text!r} is not a duration; write e.g. \"90s\", \"15m\", \"4h\", \"2d\" "
                          f"or \"2 business days\"")


def _positive(duration: Duration, text: str, key: str) -> Duration:
    if duration.amount <= 0:
        raise TermsError(key, f"{text!r} must be longer than nothing")
    return duration


Window = tuple[time, time | None]  # None as the end means midnight at the end of the day (24:00)


@dataclass(frozen=True)
class Calendar:
    """When business time runs: windows per weekday (Mon=0) in a zone, minus holidays (local dates)."""

    zone: ZoneInfo
    week: tuple[tuple[Window, ...], ...] = tuple(((time(0), None),) for _ in DAYS)
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
    try:
        zone = ZoneInfo(timezone_name)
    except (ZoneInfoNotFoundError, ValueError):
        raise TermsError("timezone", f"{timezone_name!r} is not an IANA time zone (e.g. \"Europe/Berlin\")") from None
    week = parse_business_hours(business_hours) if business_hours else Calendar(zone).week
    return Calendar(zone=zone, week=week, holidays=parse_holidays(holidays))


def parse_business_hours(text: str) -> tuple[tuple[Window, ...], ...]:
    """`"Mon-Fri 08:00-18:00"`, `"Mon-Fri 08:00-12:00 13:00-17:00; Sat 09:00-12:00"` → windows per weekday."""
    week: list[list[Window]] = [[] for _ in DAYS]
    for group in filter(None, (g.strip() for g in text.split(";"))):
        days_part, *windows = group.split()
        if not windows:
            raise TermsError("business_hours", f"{group!r} needs days and hours, e.g. \"Mon-Fri 08:00-18:00\"")
        parsed = [_window(w) for w in windows]
        for day in _days(days_part):
            week[day] = sorted([*week[day], *parsed], key=lambda w: w[0])
            _no_overlap(week[day], group)
    if not any(week):
        raise TermsError("business_hours", f"{text!r} has no opening hours")
    return tuple(tuple(windows) for windows in week)


def _days(text: str) -> list[int]:
    found: list[int] = []
    for part in text.lower().split(","):
        first, _, last = part.partition("-")
        if first[:3] not in DAYS or (last and last[:3] not in DAYS):
            raise TermsError("business_hours", f"{text!r}: days are Mon, Tue, Wed, Thu, Fri, Sat, Sun or a range")
        a, b = DAYS.index(first[:3]), DAYS.index((last or first)[:3])
        found += list(range(a, b + 1)) if a <= b else [*range(a, 7), *range(0, b + 1)]
    return found


def _window(text: str) -> Window:
    match = _WINDOW.match(text)
    if not match:
        raise TermsError("business_hours", f"{text!r} is not a time range like 08:00-18:00")
    h1, m1, h2, m2 = (int(g) for g in match.groups())
    if h1 > 23 or m1 > 59 or m2 > 59 or h2 > 24 or (h2 == 24 and m2):
        raise TermsError("business_hours", f"{text!r} is not a valid time range")
    begin, end = time(h1, m1), None if h2 == 24 else time(h2, m2)
    if end is not None and end <= begin:
        raise TermsError("business_hours", f"{text!r} must end after it starts (a range cannot cross midnight)")
    return begin, end


def _no_overlap(windows: list[Window], group: str) -> None:
    for (_, end), (begin, _) in zip(windows, windows[1:]):
        if end is None or end > begin:
            raise TermsError("business_hours", f"{group!r} overlaps other hours of the same day")


def parse_holidays(values: Iterable[str]) -> frozenset[date]:
    days: set[date] = set()
    for value in values:
        try:
            days.add(date.fromisoformat(str(value)))
        except ValueError:
            raise TermsError("holidays", f"{value!r} is not a date like 2026-12-25") from None
    return frozenset(days)


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
