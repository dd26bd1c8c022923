"""Robustness: parse_message never raises and stays fast on malformed mail.

100,000 generated messages in total: (6,000 + 3,000 + 1,000) examples
times a batch of 10 (structural cases are the dearest, hence the fewest).  Each Hypothesis example draws a seed
and derives a batch of cheap mutations of realistic mails from it (random
bytes spliced in, truncation, NUL bytes, broken boundaries, broken encoded
words and charsets, deep nesting, huge headers), which keeps the generator's
own overhead small next to the parsing being tested.

Time per message is measured as CPU time of this process, so a busy CI
machine does not make the check flaky; the limit is the product's promise
of well under a second per message.
"""

import gc
import random
import time
from collections.abc import Callable
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from parsers import ParseOptions, parse_message

FIXTURES = Path(__file__).parent / "fixtures_mime"
SEEDS = [path.read_bytes() for path in sorted(FIXTURES.glob("*.eml"))] + [
    b"From: a@example.com\r\nTo: b@example.com\r\nSubject: =?utf-8?q?Hi?=\r\n\r\n#status open\r\nHello\r\n> quoted\r\n",
    b"From: x@example.com\r\nContent-Type: multipart/alternative; boundary=A\r\n\r\n--A\r\n"
    b"Content-Type: text/plain; charset=koi8-r\r\n\r\n\xf4\xe5\xf3\xf4\r\n--A\r\nContent-Type: text/html\r\n\r\n"
    b"<p>hi</p>\r\n--A--\r\n",
    b"From: y@example.com\r\nContent-Type: multipart/mixed; boundary=M\r\n\r\n--M\r\nContent-Type: message/rfc822\r\n\r\n"
    b"From: z@example.com\r\nSubject: inner\r\n\r\ninner body\r\n--M\r\nContent-Type: image/png; name*=utf-8''%E2%82%AC.png\r\n"
    b"Content-Transfer-Encoding: base64\r\n\r\niVBORw0KGgo=\r\n--M--\r\n",
]
OPTIONS = ParseOptions(max_part_bytes=4096, own_domains=("vendor.example",))
BATCH = 10
FUZZ = settings(deadline=None, database=None, suppress_health_check=list(HealthCheck), derandomize=True)
_CHARSETS = ["utf-8", "koi8-r", "gb2312", "x-unknown", "utf-16", "iso-2022-jp", "", "utf-7", "cp1251*ru", "?"]
_WORD_ALPHABET = "=?_AZaz09+/ \x00\r\n\u00e9"


def _check(raw: bytes) -> None:
    # This thread's CPU time, without the collector: in a whole-suite run, threads other tests left behind
    # (servers, workers) spend the process's CPU, and a full collection walks every object the session
    # holds; neither is the parser's doing.  What is left catches a parse that blows up on its input.
    gc.disable()
    try:
        started = time.thread_time()
        parsed = parse_message(raw, OPTIONS)
        spent = time.thread_time() - started
    finally:
        gc.enable()
    assert spent < 1.0
    assert parsed.kind in ("normal", "auto_reply", "bounce", "list", "loop")
    assert all("\n" not in value and "\r" not in value for values in parsed.headers.values() for value in values)


def _splice(rng: random.Random) -> bytes:
    seed = rng.choice(SEEDS)
    position = rng.randrange(len(seed) + 1)
    raw = seed[:position] + rng.randbytes(rng.randrange(48)) + seed[position:]
    if rng.random() < 0.3:
        raw = raw[: rng.randrange(len(raw) + 1)]
    if rng.random() < 0.3:
        raw = raw.replace(b"\n", b"\x00\n", rng.randrange(1, 5))
    return raw


def _encoded_words(rng: random.Random) -> bytes:
    charset = rng.choice(_CHARSETS)
    text = "".join(rng.choice(_WORD_ALPHABET) for _ in range(rng.randrange(24)))
    word = f"=?{charset}?{rng.choice('BQbqX')}?{text}?=".encode("utf-8", "surrogatepass")
    param = rng.choice([b"utf-8''%E2%82", b"x''%ZZ", b"\"unterminated", b"=?utf-8?B?w6k=?=", rng.randbytes(12)])
    return (
        b"From: " + word + b" <a@example.com>\r\nSubject: " + word + b" " + word + b"\r\n"
        b"Content-Type: text/plain; charset=\"" + charset.encode() + b"\"\r\n"
        b"Content-Disposition: attachment; filename*=" + param + b"\r\n\r\n" + rng.randbytes(rng.randrange(64))
    )


def _structure(rng: random.Random) -> bytes:
    depth = rng.randrange(32)  # the walk stops at 20 levels; deeper costs only the stdlib parser
    rfc822 = rng.random() < 0.5
    opening = b""
    for level in range(depth):
        if rfc822 and level % 2:
            opening += b"Content-Type: message/rfc822\r\n\r\n"
        else:
            opening += b"Content-Type: multipart/mixed; boundary=b%d\r\n\r\n--b%d\r\n" % (level, level)
    closing = b"".join(b"--b%d--\r\n" % level for level in reversed(range(depth)) if not (rfc822 and level % 2))
    damage = rng.randrange(4)
    if damage == 1:
        closing = closing.replace(b"--\r\n", b"\r\n")
    elif damage == 2:
        opening = opening.replace(b"boundary=", b"boundary=\"", 5)
    elif damage == 3:
        closing = b""
    huge = rng.random() < 0.03  # rare, since each costs as much as dozens of normal mails
    width, repeat = (rng.randrange(200_000), rng.randrange(3000)) if huge else (rng.randrange(200), rng.randrange(20))
    headers = b"X-Spam: " + b"x" * width + b"\r\n" + b"Received: from a by b\r\n" * repeat
    return b"From: a@example.com\r\nSubject: deep\r\n" + headers + opening + b"Content-Type: text/plain\r\n\r\nbottom\r\n" + closing


def _batch(make: Callable[[random.Random], bytes], seed: int) -> None:
    rng = random.Random(seed)
    for _ in range(BATCH):
        _check(make(rng))


@settings(FUZZ, max_examples=6_000)
@given(seed=st.integers(0, 2**32))
def test_spliced_truncated_and_nul_bytes(seed: int) -> None:
    _batch(_splice, seed)


@settings(FUZZ, max_examples=3_000)
@given(seed=st.integers(0, 2**32))
def test_broken_encoded_words_and_charsets(seed: int) -> None:
    _batch(_encoded_words, seed)


@settings(FUZZ, max_examples=1_000)
@given(seed=st.integers(0, 2**32))
def test_nesting_boundaries_and_huge_headers(seed: int) -> None:
    _batch(_structure, seed)


def test_hand_made_pathological_mails_stay_under_a_second() -> None:
    cases = [
        b"From: a@b.example\r\nX-Big: " + b"x" * 10_000_000 + b"\r\n\r\nhi",
        b"From: a@b.example\r\n" + b"X-H: v\r\n" * 100_000 + b"\r\nhi",
        b"From: a@b.example\r\nSubject: " + b"=?utf-8?q?a" * 200_000 + b"\r\n\r\nhi",
        b"From: a@b.example\r\nContent-Type: multipart/mixed; boundary=B\r\n\r\n"
        + b"--B\r\nContent-Type: text/plain\r\n\r\nx\r\n" * 50_000 + b"--B--\r\n",
        b"From: a@b.example\r\nTo: " + b", ".join(b"u%d@example.com" % i for i in range(50_000)) + b"\r\n\r\nhi",
        b"From: a@b.example\r\nSubject: \x00\x00\r\n\r\n" + b"\x00" * 1_000_000,
        b"From: a@b.example\r\nSubject: " + bytes(range(128, 256)) * 2000 + b"\r\n\r\nhi",
    ]
    for raw in cases:
        _check(raw)
