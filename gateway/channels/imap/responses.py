"""Reading aioimaplib's responses: the UIDVALIDITY of a SELECT, the numbers of a SEARCH, the mails of a FETCH.

Pure functions over the response lines aioimaplib hands back (bytes lines,
literals as bytearrays), kept apart from the poller, which decides what to
import and when.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

_UIDVALIDITY = re.compile(rb"\[UIDVALIDITY (\d+)\]")
_FETCH_START = re.compile(rb"\d+ FETCH \(")
_FETCH_UID = re.compile(rb"\bUID (\d+)")


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


def literals_by_uid(lines: list[Any]) -> dict[int, bytes]:
    """The message bytes of a FETCH response by UID.

    aioimaplib hands each message as the line announcing it
    (`* 7 FETCH (UID 12 BODY[] {n}`), the literal as a bytearray, then the
    rest of the line; the UID may stand before or after the literal.
    Untagged FETCHes without a body (flag changes) are skipped.
    """
    found: dict[int, bytes] = {}
    uid: int | None = None
    literal: bytes | None = None
    for line in lines:
        if isinstance(line, bytearray):
            literal = bytes(line)
        else:
            text = bytes(line)
            if _FETCH_START.match(text):
                uid, literal = None, None
            if uid is None and (named := _FETCH_UID.search(text)):
                uid = int(named.group(1))
        if uid is not None and literal is not None:
            found.setdefault(uid, literal)
            uid, literal = None, None
    return found
