"""Per-key rate limits in bounded memory: SMTP senders per hour, web clients per hour or minute."""

from __future__ import annotations

import tracemalloc

from gateway.core.rate_window import SlidingWindow


class Clock:
    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_refuses_beyond_the_limit_and_counts_each_key_apart() -> None:
    window = SlidingWindow(limit=3, seconds=60, clock=Clock(0.0))
    assert [window.allow("10.0.0.1") for _ in range(4)] == [True, True, True, False]
    assert window.allow("10.0.0.2"), "another client has its own count"


def test_allows_does_not_count_and_record_does() -> None:
    window = SlidingWindow(limit=2, seconds=3600, clock=Clock(0.0))
    for _ in range(5):
        assert window.allows("alice@client.example")
    window.record("alice@client.example")
    window.record("alice@client.example")
    assert not window.allows("alice@client.example")
    assert window.allows("bob@client.example")


def test_the_previous_window_weighs_by_how_much_of_it_is_still_inside() -> None:
    clock = Clock(0.0)
    window = SlidingWindow(limit=10, seconds=100, clock=clock)
    for _ in range(10):
        window.record("k")
    clock.now = 110  # 90 % of the previous window still inside: 9 of its 10 count
    assert window.allow("k") and not window.allows("k")
    clock.now = 150  # half inside: 5 + the 1 counted at 110
    assert [window.allow("k") for _ in range(5)] == [True, True, True, True, False]


def test_a_key_silent_for_two_windows_is_forgotten() -> None:
    clock = Clock(0.0)
    window = SlidingWindow(limit=1, seconds=60, clock=clock)
    assert window.allow("a") and not window.allow("a")
    clock.now = 125
    assert window.allow("a")


def test_the_least_recently_used_key_makes_room_and_a_busy_key_stays() -> None:
    window = SlidingWindow(limit=3, seconds=3600, max_keys=100, clock=Clock(0.0))
    for _ in range(3):
        window.record("runaway@client.example")
    for n in range(500):  # a crowd of one-off senders
        window.record(f"c{n}@client.example")
        if n % 50 == 0:
            assert not window.allow("runaway@client.example"), "still refused while it keeps trying"
    window.record("c0@client.example")  # long since pushed out: counted from zero again
    assert window.allows("c0@client.example")


def test_memory_stays_bounded_however_many_keys_pass() -> None:
    window = SlidingWindow(limit=200, seconds=3600, max_keys=1000, clock=Clock(0.0))
    tracemalloc.start()
    try:
        for n in range(2_000):
            window.record(f"customer-{n}@client.example")
        after_some, _ = tracemalloc.get_traced_memory()
        for n in range(2_000, 50_000):
            window.record(f"customer-{n}@client.example")
        after_many, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert after_many - after_some < 64 * 1024, f"grew {after_many - after_some} bytes for 48,000 more keys"
