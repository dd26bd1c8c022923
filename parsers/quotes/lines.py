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

# A line that only draws a bar: Outlook's underscores, dashes above a header block.
BAR = re.compile(r"^[ \t>]*[-–—_=*]{5,}[ \t]*$")


def next_content(lines: Sequence[str], index: int) -> int:
    """Index of the first non-blank line at or after `index` (len(lines) if none)."""
    while index < len(lines) and not lines[index].strip():
        index += 1
    return index


def previous_content(lines: Sequence[str], index: int) -> int:
    """Index of the last non-blank line before `index` (-1 if none)."""
    index -= 1
    while index >= 0 and not lines[index].strip():
        index -= 1
    return index


def last_paragraph(lines: Sequence[str], start: int, end: int) -> tuple[int, int] | None:
    """(first, last) line of the last paragraph within lines[start:end]."""
    last = previous_content(lines, end)
    if last < start:
        return None
    first = last
    while first > start and lines[first - 1].strip():
        first -= 1
    return first, last
