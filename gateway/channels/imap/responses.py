"""Reading aioimaplib's responses: the UIDVALIDITY of a SELECT, the numbers of a SEARCH, the mails of a FETCH.

Pure functions over the response lines aioimaplib hands back (bytes lines,
literals as bytearrays), kept apart from the poller, which decides what to
import and when.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

_UIDVALIDITY = re.compile(rb"\[UIDVALIDITY (\d+)\]")
_FETCH_START = re.compile(rb"\d+ FETCH \(")
_FETCH_UID = re.compile(rb"\bUID (\d+)")
_INTERNALDATE = re.compile(rb'INTERNALDATE "([^"]+)"')


def uidvalidity(lines: Iterable[bytes]) -> int | None:
    """The folder's UIDVALIDITY announced in a SELECT response, None when the server gave none."""
    for line in lines:
        found = _UIDVALIDITY.search(bytes(line))
        if found:
            return int(found.group(1))
    return None


def numbers(lines: Iterable[bytes]) -> list[int]:
    """Every number in the lines of a SEARCH response."""
    return [int(token) for line in lines for token in bytes(line).split() if token.isdigit()]


@dataclass(frozen=True)
class FetchedMail:
    """One mail of a FETCH response: its bytes, and when the server received it (INTERNALDATE)."""

    raw: bytes
    received_at: datetime | None


def mails_by_uid(lines: list[Any]) -> dict[int, FetchedMail]:
    """The mails of a FETCH response by UID.

    aioimaplib hands each message as the line announcing it
    (`* 7 FETCH (UID 12 INTERNALDATE "…" BODY[] {n}`), the literal as a
    bytearray, then the rest of the line; UID and INTERNALDATE may stand
    before or after the literal.  Untagged FETCHes without a body (flag
    changes) are skipped.
    """
    found: dict[int, FetchedMail] = {}
    uid: int | None = None
    literal: bytes | None = None
    received: datetime | None = None

    def keep() -> None:
        if uid is not None and literal is not None:
            found.setdefault(uid, FetchedMail(literal, received))

    for line in lines:
        if isinstance(line, bytearray):
            literal = bytes(line)
            continue
        text = bytes(line)
        if _FETCH_START.match(text):
            keep()
            uid, literal, received = None, None, None
        if uid is None and (named := _FETCH_UID.search(text)):
            uid = int(named.group(1))
        if received is None and (dated := _INTERNALDATE.search(text)):
            received = internal_date(dated.group(1).decode("ascii", "replace"))
    keep()
    return found


def internal_date(value: str) -> datetime | None:
    """An IMAP date-time (`04-Dec-2026 16:00:00 +0000`, day maybe space-padded); None when unreadable."""
    try:
        return datetime.strptime(value.strip(), "%d-%b-%Y %H:%M:%S %z").astimezone(timezone.utc)
    except ValueError:
        return None
