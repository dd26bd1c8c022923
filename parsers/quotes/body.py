"""A body split into lines once, with what a search of the whole text rules out.

Reply splitting and forward detection test every line against the same
client-written markers, yet most bodies hold none of them.  One regex search
over the whole text proves that for all lines at once, far faster than a test
per line; the per-line rules then run only where a marker may be.  Each
search here is a superset of the per-line test it stands in for, so skipping
a line it rules out never changes a result.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from dataclasses import dataclass

from parsers.quotes import FORWARD_INTRO, SEPARATOR, has_reply_above_marker

# A separator or forward intro on some line, also under one `>` quote mark
# (forward detection strips it).  The literal "\n" in front lets the regex
# engine jump from line start to line start.
_MARKER_LINE = re.compile(
    rf"\n(?:[ \t]*> ?)?(?:{SEPARATOR.pattern.removeprefix('^')}|{FORWARD_INTRO.pattern.removeprefix('^')})",
    re.IGNORECASE | re.MULTILINE,
)
# A line that could end an attribution: a colon or "wrote"/"writes" (any
# case) before trailing dashes and spaces, then any white space.  Written
# without IGNORECASE and starting with a character class, so the engine skips
# straight to the few characters that can begin a match.
_ENDING = re.compile(
    r"[:：wW](?:(?<=[:：])|(?<=[wW])[rR](?:[oO][tT][eE]|[iI][tT][eE][sS]))[-– \t]*[^\S\n]*$",
    re.MULTILINE,
)


@dataclass(frozen=True)
class Body:
    """The lines of a body (CR LF and CR read as LF) and where markers may be."""

    lines: tuple[str, ...]
    may_separate: bool  # some line may be a separator or a forward intro
    may_mark_reply_above: bool  # a helpdesk's "reply above this line" occurs
    endings: tuple[int, ...]  # indexes of the lines that can end an attribution

    def ending_from(self, start: int, stop: int) -> int:
        """First index in [start, stop) whose line can end an attribution, else `stop`."""
        found = bisect_left(self.endings, start)
        if found < len(self.endings) and self.endings[found] < stop:
            return self.endings[found]
        return stop


def as_body(text: str | Body) -> Body:
    """`text` read as a Body, unless it already is one (read once, used by several steps)."""
    return text if isinstance(text, Body) else read_body(text)


def read_body(text: str) -> Body:
    """Split `text` into lines and search it once for each family of markers."""
    text = (text or "").replace("\r\n", "\n").replace("\r", "\n")
    return Body(
        tuple(text.split("\n")),
        _MARKER_LINE.search("\n" + text) is not None,
        has_reply_above_marker(text),
        _ending_lines(text),
    )


def _ending_lines(text: str) -> tuple[int, ...]:
    """Line indexes of the matches of `_ENDING`, counted incrementally."""
    found: list[int] = []
    line = position = 0
    for match in _ENDING.finditer(text):
        line += text.count("\n", position, match.start())
        position = match.start()
        found.append(line)  # a match ends its line, so each line is found once
    return tuple(found)
