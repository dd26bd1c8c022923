"""The written form of partner terms: durations, opening hours, holidays, time zones.

Checked when the configuration loads, so a typo in `accept_within` or
`business_hours` stops the start with the key's name instead of surfacing
as a deadline that never fires.  The arithmetic on these values lives in
gateway/desk/business_time.py.

Durations: `90s`, `15m`, `4h`, `2d` are that much *business* time (`2d` is
48 business hours; with no business hours set, business time is wall-clock
time); `2 business days` (also `1 business hour`, `30 business minutes`)
is two full business days, a business day being the longest day's opening
hours.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, time
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, field_validator

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d)\s*$")
_BUSINESS = re.compile(r"^\s*(\d+(?:\.\d+)?)\s+business\s+(day|hour|minute)s?\s*$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "hour": 3600, "minute": 60}
_WINDOW = re.compile(r"^(\d{2}):(\d{2})-(\d{2}):(\d{2})$")

Window = tuple[time, time | None]  # None as the end means midnight at the end of the day (24:00)
Week = tuple[tuple[Window, ...], ...]  # windows per weekday, Monday first
ALWAYS: Week = tuple(((time(0), None),) for _ in DAYS)


class TermsError(ValueError):
    """A duration, opening-hours or holiday value that cannot be used; the message names the key."""

    def __init__(self, key: str, problem: str) -> None:
        self.key = key
        self.problem = problem
        super().__init__(f"{key}: {problem}" if key else problem)


@dataclass(frozen=True)
class Duration:
    """An amount of business time: plain seconds, or whole business days (sized by the calendar)."""

    amount: float
    business_days: bool = False

    def seconds(self, business_day_seconds: float) -> float:
        """Its length in business seconds, given how long a business day is."""
        return self.amount * business_day_seconds if self.business_days else self.amount


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


def parse_business_hours(text: str) -> Week:
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


def parse_zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise TermsError("timezone", f"{name!r} is not an IANA time zone (e.g. \"Europe/Berlin\")") from None


# --- the config sections -------------------------------------------------------------------------------

TicketStatus = Literal["new", "open", "pending", "resolved", "closed", "cancelled"]


class TermsConfig(BaseModel):
    """Terms an account gives its partners (SPEC §14); `[accounts.terms]` holds the account-wide defaults.

    Every key is optional: a partner's own entry overrides the defaults key
    by key.  Values are checked here so a bad one fails at load.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    accept_within: str | None = None
    resolve_within: str | None = None
    remind_at: tuple[float, ...] | None = None
    pause_while: tuple[TicketStatus, ...] | None = None
    backup_partner: str | None = None
    business_hours: str | None = None
    timezone: str | None = None
    holidays: tuple[str, ...] | None = None

    @field_validator("accept_within", "resolve_within")
    @classmethod
    def _duration(cls, value: str | None) -> str | None:
        if value is not None:
            _checked(parse_duration, value)
        return value

    @field_validator("remind_at")
    @classmethod
    def _fractions(cls, values: tuple[float, ...] | None) -> tuple[float, ...] | None:
        if values is not None and any(not 0 < v < 1 for v in values):
            raise ValueError("fractions of the time allowed, each between 0 and 1 (e.g. [0.5, 0.75])")
        return tuple(sorted(set(values))) if values is not None else None

    @field_validator("business_hours")
    @classmethod
    def _hours(cls, value: str | None) -> str | None:
        if value is not None:
            _checked(parse_business_hours, value)
        return value

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str | None) -> str | None:
        if value is not None:
            _checked(parse_zone, value)
        return value

    @field_validator("holidays")
    @classmethod
    def _holidays(cls, values: tuple[str, ...] | None) -> tuple[str, ...] | None:
        if values is not None:
            _checked(parse_holidays, values)
        return values

    def over(self, defaults: TermsConfig) -> TermsConfig:
        """These terms with the keys they leave unset taken from `defaults`."""
        mine = {k: v for k, v in self.model_dump().items() if v is not None and k in TermsConfig.model_fields}
        return TermsConfig(**{**defaults.model_dump(), **mine})


def _checked(parse: Callable[[Any], object], value: Any) -> None:
    """Parse for the error only; pydantic already names the key, so the message need not."""
    try:
        parse(value)
    except TermsError as exc:
        raise ValueError(exc.problem) from None


class PartnerTermsConfig(TermsConfig):
    """One `[[accounts.partner_terms]]` entry: the terms for one partner."""

    partner: str


def check_terms_partners(defaults: TermsConfig, entries: Sequence[PartnerTermsConfig], partners: Sequence[str]) -> None:
    """Terms are for declared partners, once each; a backup is another declared partner."""
    seen: set[str] = set()
    named: list[tuple[str, TermsConfig, str | None]] = [("terms", defaults, None)]
    named += [(f"partner_terms[{i}]", entry, entry.partner) for i, entry in enumerate(entries)]
    for where, entry, partner in named:
        if partner is not None:
            if partner not in partners:
                raise ValueError(f"{where}.partner: {partner!r} is not one of this account's partners")
            if partner in seen:
                raise ValueError(f"{where}.partner: {partner!r} has terms twice")
            seen.add(partner)
        backup = entry.backup_partner
        if backup is not None and (backup not in partners or backup == partner):
            raise ValueError(f"{where}.backup_partner: {backup!r} must be another of this account's partners")
