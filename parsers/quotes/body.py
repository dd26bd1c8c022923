"""A body split into lines once, with the per-line facts every pass asks for.

Reply splitting, signature peeling and forward detection all walk the same
lines asking the same questions: is it blank, is it a `>` quote, could it be
a separator, can it end an attribution, does a header block start here.  The
answers are computed once per body, on first use, and shared, instead of
re-stripping and re-matching each line in every pass.

Whole-text searches stand in for a test per line where most bodies hold no
such line at all: each is a superset of the per-line test it stands in for,
so skipping a line it rules out never changes a result.
"""

from __future__ import annotations

import re

from parsers.quotes import FORWARD_INTRO, SEPARATOR, has_reply_above_marker, starts_header_block
from parsers.quotes.lines import QUOTED

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
_NO_LINES: frozenset[int] = frozenset()


class Body:
    """The lines of a body (CR LF and CR read as LF) and facts about them.

    A plain class with slots rather than a dataclass: a body is built for
    every message, and the facts fill in lazily.
    """

    __slots__ = ("lines", "may_mark_reply_above", "marker_lines", "has_colon", "has_quote_mark", "_text", "_stripped", "_quoted", "_next_ending",
                 "_header_blocks")

    def __init__(self, text: str) -> None:
        self._text = text
        self.lines = text.split("\n")
        self.marker_lines = _marker_lines(text)  # lines that may be a separator or forward intro
        self.may_mark_reply_above = has_reply_above_marker(text)  # a helpdesk's "reply above this line"
        self.has_colon = ":" in text or "：" in text  # else no header field, no colon-ended attribution
        self.has_quote_mark = ">" in text  # else no line is a quote
        self._stripped: list[str] | None = None
        self._quoted: list[bool] | None = None
        self._next_ending: list[int] | None = None
        self._header_blocks: dict[int, bool] = {}

    @property
    def stripped(self) -> list[str]:
        """Each line without surrounding white space ("" for a blank line)."""
        if self._stripped is None:
            self._stripped = [line.strip() for line in self.lines]
        return self._stripped

    @property
    def quoted(self) -> list[bool]:
        """Whether each line is a `>` (or Supercite `Name>`) quote."""
        if self._quoted is None:
            if self.has_quote_mark:
                self._quoted = [">" in line and QUOTED.match(line) is not None for line in self.lines]
            else:
                self._quoted = [False] * len(self.lines)
        return self._quoted

    def ending_from(self, start: int, stop: int) -> int:
        """First index in [start, stop) whose line can end an attribution, else `stop`."""
        if self._next_ending is None:
            self._next_ending = _next_endings(self._text, len(self.lines))
        found = self._next_ending[start]
        return found if found < stop else stop

    def starts_header_block(self, index: int) -> bool:
        """`starts_header_block` on this body's lines, decided once per line."""
        known = self._header_blocks.get(index)
        if known is None:
            known = self._header_blocks[index] = starts_header_block(self.lines, index)
        return known


def as_body(text: str | Body) -> Body:
    """`text` read as a Body, unless it already is one (read once, used by several steps)."""
    return text if isinstance(text, Body) else read_body(text)


def read_body(text: str) -> Body:
    """Split `text` into lines and search it once for each family of markers."""
    text = text or ""
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return Body(text)


def _marker_lines(text: str) -> frozenset[int]:
    """Indexes of the lines a `_MARKER_LINE` match starts on (one line each)."""
    padded = "\n" + text
    first = _MARKER_LINE.search(padded)
    if first is None:  # most bodies: one search, nothing to collect
        return _NO_LINES
    return frozenset(text.count("\n", 0, match.start()) for match in _MARKER_LINE.finditer(padded, first.start()))


def _next_endings(text: str, count: int) -> list[int]:
    """For each line index (and `count`), the first line at or after it that can end an attribution."""
    following = [count] * (count + 1)
    line = position = 0
    previous = 0
    for match in _ENDING.finditer(text):
        line += text.count("\n", position, match.start())
        position = match.start()
        following[previous : line + 1] = [line] * (line + 1 - previous)
        previous = line + 1  # a match ends its line, so each line is found once
    return following
