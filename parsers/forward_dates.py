"""Dates of forwarded header blocks, as each client and language writes them.

"Mon, Mar 4, 2024 at 10:15 AM", "Montag, 4. März 2024 09:15",
"2024. március 4. 9:15", "4. maaliskuuta 2024 9.15": month names become
English abbreviations, weekdays and filler words go, and a short list of
shapes is tried.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from email.utils import parsedate_to_datetime

from parsers.quotes.vocabulary import DAY_HALVES, MONTH_NAMES

_DAY_HALF = re.compile(rf"(?<=\d)\s*({'|'.join(re.escape(half) for half in DAY_HALVES)})(?!\w)", re.IGNORECASE)
_TWELVE_HOUR = re.compile(r"\d\s*[ap]\.?m\.?(?!\w)", re.IGNORECASE)
_ENGLISH_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_NOISE = re.compile(
    r"(?<!\w)(?:at|um|uhr|à|a las|alle|den|kl\.?|г\.|в|de|el|le|om|o)(?!\w)|,|(?<=\d)\.(?=\s)", re.IGNORECASE
)
_FORMATS = (
    "%d %b %Y %H:%M:%S", "%d %b %Y %H:%M", "%b %d %Y %I:%M %p", "%b %d %Y %I:%M:%S %p", "%d %b %Y %I:%M %p",
    "%b %d %Y %H:%M", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d", "%d.%m.%Y %H:%M", "%d.%m.%Y %H:%M:%S",
    "%d/%m/%Y %H:%M", "%m/%d/%Y %I:%M %p", "%d %b %Y", "%b %d %Y", "%Y %b %d %H:%M", "%Y %b %d %H:%M:%S",
    "%d %b %Y %H.%M", "%d.%m.%Y %H.%M",
)
_ZONE = re.compile(r"\s*(?:(?:GMT|UTC)?([+-]\d{1,2}):?(\d{2})?|\b(?:GMT|UTC|Z)\b|\b(?!AM\b|PM\b)[A-Z]{2,5}\b)\s*$")


def parse_date(value: str) -> datetime | None:
    """The common forwarded-header date formats as an aware UTC datetime, else None.

    A time without a zone is taken as UTC: a forwarded header rarely says
    which zone it was written in, and an approximate time still threads.
    """
    value = (value or "").strip().replace("\u200e", "").replace("\u00a0", " ")
    if not value:
        return None
    if _TWELVE_HOUR.search(value):
        return _parse_loose(value)  # the RFC 5322 parser would silently drop AM/PM
    try:
        parsed = parsedate_to_datetime(value)
        if parsed is not None:
            return _utc(parsed)
    except (TypeError, ValueError, IndexError):
        pass
    return _parse_loose(value)


def _parse_loose(value: str) -> datetime | None:
    cleaned = _DAY_HALF.sub(lambda found: " " + DAY_HALVES[found.group(1).lower()], value.replace(" p.m.", " PM")
                            .replace(" a.m.", " AM"))
    offset = None
    zone = _ZONE.search(cleaned)
    if zone:
        if zone.group(1):
            sign = -1 if zone.group(1).startswith("-") else 1
            offset = sign * (abs(int(zone.group(1))) * 60 + int(zone.group(2) or 0))
        cleaned = cleaned[: zone.start()]
    words = [_month(word) for word in _NOISE.sub(" ", cleaned).split()]
    # Weekday names and words like "den", "г." in any language carry no part of the date.
    words = [word for word in words if any(ch.isdigit() for ch in word) or word in _KEPT_WORDS]
    candidate = " ".join(words)
    for pattern in _FORMATS:
        try:
            parsed = datetime.strptime(candidate, pattern)
        except ValueError:
            continue
        if offset is not None:
            return (parsed - timedelta(minutes=offset)).replace(tzinfo=timezone.utc)
        return parsed.replace(tzinfo=timezone.utc)
    return None


_ENGLISH_TITLES = tuple(month.title() for month in _ENGLISH_MONTHS)
_KEPT_WORDS = frozenset((*_ENGLISH_TITLES, "AM", "PM"))


def _month(word: str) -> str:
    """Any supported month name as the English abbreviation strptime reads."""
    key = word.lower().rstrip(".")
    if key in MONTH_NAMES:
        return MONTH_NAMES[key]
    if len(key) >= 3 and key[:3] in _ENGLISH_MONTHS and key.isalpha():
        return key[:3].title()
    return word


def _utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc)
