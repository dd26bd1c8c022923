"""Business-time arithmetic on fixed instants: weekends, holidays, DST, pauses, terms changed mid-flight."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from gateway.core.terms import Duration, TermsError, parse_duration
from gateway.desk.business_time import Calendar, Stopwatch, make_calendar

BERLIN = ZoneInfo("Europe/Berlin")
HOUR = 3600.0


def berlin(y: int, mo: int, d: int, h: int = 0, mi: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=BERLIN)


def office(holidays: tuple[str, ...] = ()) -> Calendar:
    return make_calendar("Mon-Fri 08:00-18:00", "Europe/Berlin", holidays)


@pytest.mark.parametrize(("text", "expected"), [
    ("90s", Duration(90)),
    ("15m", Duration(900)),
    ("4h", Duration(4 * HOUR)),
    ("2d", Duration(48 * HOUR)),
    ("2 business days", Duration(2, business_days=True)),
    ("1 business day", Duration(1, business_days=True)),
    ("3 business hours", Duration(3 * HOUR)),
    ("0.5h", Duration(1800)),
])
def test_durations(text: str, expected: Duration) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "4", "4 hours", "-1h", "0s", "2 weeks", "business days"])
def test_bad_durations_name_the_key(text: str) -> None:
    with pytest.raises(TermsError, match="^accept_within: "):
        parse_duration(text, "accept_within")


def test_business_days_are_sized_by_the_calendar() -> None:
    assert Duration(2, business_days=True).seconds(office().business_day_seconds) == 20 * HOUR
    assert Duration(1, business_days=True).seconds(make_calendar().business_day_seconds) == 24 * HOUR


def test_without_business_hours_business_time_is_wall_clock_time() -> None:
    start = datetime(2026, 3, 7, 23, 0, tzinfo=timezone.utc)  # a Saturday night
    assert make_calendar().add(start, 2 * HOUR) == start + timedelta(hours=2)
    assert make_calendar().elapsed(start, start + timedelta(days=3)) == 72 * HOUR


def test_the_clock_runs_only_within_business_hours_and_skips_the_weekend() -> None:
    cal = office()
    friday_late = berlin(2026, 3, 6, 16)  # Friday 16:00
    assert cal.add(friday_late, 4 * HOUR) == berlin(2026, 3, 9, 10)  # Monday 10:00
    assert cal.elapsed(friday_late, berlin(2026, 3, 9, 10)) == 4 * HOUR
    saturday = berlin(2026, 3, 7, 12)
    assert cal.add(saturday, 60) == berlin(2026, 3, 9, 8, 1)  # starts counting Monday 08:00
    assert cal.elapsed(saturday, berlin(2026, 3, 8, 23)) == 0


def test_two_business_days_end_at_the_same_time_two_working_days_later() -> None:
    cal = office()
    tuesday = berlin(2026, 3, 3, 15)
    assert cal.add(tuesday, Duration(2, business_days=True).seconds(cal.business_day_seconds)) == berlin(2026, 3, 5, 15)


def test_holidays_are_closed() -> None:
    cal = office(("2026-12-25", "2026-12-26"))
    thursday = berlin(2026, 12, 24, 17)  # Christmas Eve 17:00; Friday the 25th is a holiday
    assert cal.add(thursday, 2 * HOUR) == berlin(2026, 12, 28, 9)
    assert cal.elapsed(thursday, berlin(2026, 12, 27, 12)) == HOUR


def test_a_dst_change_in_the_accounts_zone() -> None:
    cal = office()
    # Clocks go back in Berlin on Sunday 25 Oct 2026: Friday is UTC+2, Monday UTC+1.
    friday = berlin(2026, 10, 23, 17)
    due = cal.add(friday, 4 * HOUR)
    assert due == berlin(2026, 10, 26, 11)
    assert due.astimezone(timezone.utc) == datetime(2026, 10, 26, 10, 0, tzinfo=timezone.utc)
    # Round the clock across the change: the short night is one real hour longer.
    always = make_calendar(None, "Europe/Berlin")
    saturday = berlin(2026, 10, 24, 12)
    assert always.elapsed(saturday, berlin(2026, 10, 25, 12)) == 25 * HOUR
    # In spring the day of the change is an hour short.
    assert always.elapsed(berlin(2026, 3, 28, 12), berlin(2026, 3, 29, 12)) == 23 * HOUR


def test_split_hours_and_a_saturday_morning() -> None:
    cal = make_calendar("Mon-Fri 08:00-12:00 13:00-17:00; Sat 09:00-12:00", "Europe/Berlin")
    assert cal.business_day_seconds == 8 * HOUR
    assert cal.add(berlin(2026, 3, 2, 11), 2 * HOUR) == berlin(2026, 3, 2, 14)  # the lunch hour does not count
    assert cal.add(berlin(2026, 3, 6, 16), 2 * HOUR) == berlin(2026, 3, 7, 10)  # Friday → Saturday morning


@pytest.mark.parametrize(("hours", "zone", "holidays", "key"), [
    ("Mon-Fri", "UTC", (), "business_hours"),
    ("Mon-Fri 18:00-08:00", "UTC", (), "business_hours"),
    ("Mon-Fri 08:00-12:00 11:00-14:00", "UTC", (), "business_hours"),
    ("Mo-Fr 08:00-18:00", "UTC", (), "business_hours"),
    ("Mon-Fri 8-18", "UTC", (), "business_hours"),
    ("Mon-Fri 08:00-18:00", "Mars/Olympus", (), "timezone"),
    ("Mon-Fri 08:00-18:00", "UTC", ("25.12.2026",), "holidays"),
])
def test_bad_calendars_name_the_key(hours: str, zone: str, holidays: tuple[str, ...], key: str) -> None:
    with pytest.raises(TermsError, match=f"^{key}: "):
        make_calendar(hours, zone, holidays)


def test_pauses_stop_the_deadline_and_resumes_push_it_out() -> None:
    cal = office()
    handed = berlin(2026, 3, 2, 9)  # Monday 09:00, 4 business hours to accept
    watch = Stopwatch.started(4 * HOUR, handed)
    assert watch.due(cal) == berlin(2026, 3, 2, 13)
    assert watch.reaches(cal, 0.5) == berlin(2026, 3, 2, 11)
    paused = watch.paused(cal, berlin(2026, 3, 2, 10))  # waiting on the customer after one hour
    assert paused.due(cal) is None and paused.used(cal, berlin(2026, 3, 3, 17)) == HOUR
    resumed = paused.resumed(berlin(2026, 3, 3, 16))  # Tuesday 16:00: 3 hours left
    assert resumed.due(cal) == berlin(2026, 3, 4, 9)  # 2 h on Tuesday, 1 h on Wednesday
    assert resumed.reaches(cal, 0.25) == berlin(2026, 3, 3, 16)  # already used: reached at once
    assert resumed.paused(cal, berlin(2026, 3, 3, 17)).paused(cal, berlin(2026, 3, 3, 18)).spent == 2 * HOUR


def test_terms_changed_mid_flight_keep_the_time_used() -> None:
    old = office()
    watch = Stopwatch.started(4 * HOUR, berlin(2026, 3, 2, 9))
    new = make_calendar("Mon-Sat 07:00-19:00", "Europe/Berlin")
    retimed = watch.retimed(old, berlin(2026, 3, 2, 12), allowed=8 * HOUR)  # 3 h used; 5 h left
    assert retimed.spent == 3 * HOUR
    assert retimed.due(new) == berlin(2026, 3, 2, 17)
    shorter = watch.retimed(old, berlin(2026, 3, 2, 12), allowed=2 * HOUR)
    assert shorter.due(new) == berlin(2026, 3, 2, 12)  # already overdue under the new terms: due now
    paused = watch.paused(old, berlin(2026, 3, 2, 10)).retimed(old, berlin(2026, 3, 2, 12), allowed=HOUR)
    assert not paused.running and paused.spent == HOUR


def test_the_next_digest_hour_in_the_accounts_zone() -> None:
    from gateway.desk.business_time import next_local_time

    assert next_local_time(berlin(2026, 3, 2, 7, 59), 8, BERLIN) == berlin(2026, 3, 2, 8)
    assert next_local_time(berlin(2026, 3, 2, 8), 8, BERLIN) == berlin(2026, 3, 3, 8)
    # across the autumn change the digest stays at 08:00 local, 25 hours later
    assert next_local_time(berlin(2026, 10, 24, 9), 8, BERLIN) == berlin(2026, 10, 25, 8)
    utc = timezone.utc
    assert berlin(2026, 10, 25, 8).astimezone(utc) - berlin(2026, 10, 24, 8).astimezone(utc) == timedelta(hours=25)
