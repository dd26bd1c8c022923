"""Small line-scanning helpers shared by reply, signature and forward detection."""

from __future__ import annotations

import re
from collections.abc import Sequence

# Lines a mail client writes around quoted history are short, and they come
# early: lines longer than this are never examined as markers, and a scan
# gives up after this many candidate lines, so a huge body stays linear and
# fast (what is not examined simply stays text).
MAX_MARKER_LINE = 300
MAX_SCANNED_LINES = 1000

# ">" quotes, and Supercite's "Name>" prefixes.
QUOTED = re.compile(r"^[ \t]*(?:>|[A-Za-z]{1,12}>(?=[ >]|$))")
# A line that only draws a bar: Outlook's underscores, dashes above a header block.
BAR = re.compile(r"^[ \t>]*[-–—_=*]{5,}[ \t]*$")


def next_content(stripped: Sequence[str], index: int) -> int:
    """Index of the first non-blank line at or after `index` (len(stripped) if none).

    Takes the lines already stripped (`Body.stripped`): blank is then just empty.
    """
    while index < len(stripped) and not stripped[index]:
        index += 1
    return index


def previous_content(stripped: Sequence[str], index: int) -> int:
    """Index of the last non-blank line before `index` (-1 if none), on stripped lines."""
    index -= 1
    while index >= 0 and not stripped[index]:
        index -= 1
    return index


def last_paragraph(stripped: Sequence[str], start: int, end: int) -> tuple[int, int] | None:
    """(first, last) line of the last paragraph within stripped[start:end]."""
    last = previous_content(stripped, end)
    if last < start:
        return None
    first = last
    while first > start and stripped[first - 1]:
        first -= 1
    return first, last
