"""Where the sender's signature starts in the new text of a message.

A signature is recognised only at the tail of the text and only by what
people and their mail apps actually write there: the `-- ` delimiter (and
the bars of mailing-list footers), "Sent from my iPhone" and its
translations, a closing formula followed by a few short name/contact lines,
a block of contact lines (name, mail, phone, site), or a `-Name` / `/Name` sign-off.  Everything else is left alone: eating real content
is worse than keeping a signature.
"""

from __future__ import annotations

import re

from parsers.quotes import MOBILE_SIGNATURE, VALEDICTION
from parsers.quotes.lines import last_paragraph

_DELIMITER = re.compile(r"^[ \t]*(?:--|—|__+)[ \t]*$")
_DASH_BAR = re.compile(r"^[ \t]*[-–—=_*]{4,}[ \t]*$")
_CONTACT = re.compile(
    r"[\w.+-]+@[\w-]+\.[\w.-]+|https?://|www\.|(?:\+?\(?\d[\d ()./-]{6,}\d)|"
    r"^(?:t|f|m|p|tel|phone|fax|mob|mobile|cell|skype|тел|моб)\b\.?\s*:?",
    re.IGNORECASE,
)
_SYMBOLS_ONLY = re.compile(r"^[ \t]*[\W_ᐧ]+[ \t]*$")
_HYPHEN_NAME = re.compile(r"^[ \t]*(?:-{1,2}|/{1,2})[^\W\d_][^\n]{0,40}$")
_NAME_LINE = re.compile(r"^[ \t]*[^\W\d_][^\W\d_'.-]*(?:[ \t]+[^\W\d_][^\W\d_'.-]*){0,2}[ \t]*$")
_MAX_DELIMITED_LINES = 30
_MAX_MOBILE_LINE = 80
_MAX_CLOSING_LINES = 6
_MAX_CLOSING_LINE_CHARS = 70
_MAX_CONTACT_LINES = 15
_MIN_CONTACT_HITS = 2
_MAX_CONTACT_WORDS = 6


def find_signature_start(lines: list[str], end: int, stripped: list[str] | None = None) -> int | None:
    """Index of the first signature line within `lines[:end]`, or None.

    `stripped`, the same lines stripped, saves stripping them again when the
    caller has them already.
    """
    if stripped is None:
        stripped = [line.strip() for line in lines]
    start = _first_content_line(stripped, end)
    if start >= end:  # one line of content: only an app's "Sent from my iPhone" can be a signature there
        return _mobile(lines, stripped, start, end)
    for finder in (_delimited, _mobile, _closing_formula, _contact_block, _hyphen_name, _trailing_symbols):
        found = finder(lines, stripped, start, end)
        if found is not None:
            return found
    return None


def _first_content_line(stripped: list[str], end: int) -> int:
    """A signature never starts on the first line of the message."""
    for index in range(end):
        if stripped[index]:
            return index + 1
    return end


def _delimited(lines: list[str], stripped: list[str], start: int, end: int) -> int | None:
    """`-- ` (RFC 3676) or a bar of underscores close to the end."""
    for index in range(max(start, end - _MAX_DELIMITED_LINES), end):
        if _DELIMITER.match(lines[index]):
            return index
    return None


def _mobile(lines: list[str], stripped: list[str], start: int, end: int) -> int | None:
    """"Sent from my iPhone" and friends: the app appends them after the text.

    A name line directly above it ("Anna" / "Sent from my iPhone") is the
    sender signing off and belongs to the signature.
    """
    for index in range(max(start - 1, 0, end - _MAX_DELIMITED_LINES), end):
        if len(lines[index]) <= _MAX_MOBILE_LINE and MOBILE_SIGNATURE.match(lines[index]):
            if index - 1 >= start and _NAME_LINE.match(lines[index - 1]):
                return index - 1
            return index
    return None


def _closing_formula(lines: list[str], stripped: list[str], start: int, end: int) -> int | None:
    """"Best regards," + name lines, when nothing long follows it."""
    for index in range(max(start, end - _MAX_CLOSING_LINES - 4), end):
        match = VALEDICTION.match(lines[index])
        if not match:
            continue
        rest = [line for line in stripped[index + 1 : end] if line]
        if len(rest) <= _MAX_CLOSING_LINES and all(len(line) <= _MAX_CLOSING_LINE_CHARS for line in rest):
            if rest or match.group("rest") or lines[index].rstrip().endswith((",", "،")):
                return index
    return None


def _contact_block(lines: list[str], stripped: list[str], start: int, end: int) -> int | None:
    """A closing block of short lines with an address, phone or web site in it.

    Either the last paragraph ("Name / mail / phone / site") or everything
    under a bar of dashes, when at least two of its lines are contact data.
    """
    paragraph = last_paragraph(stripped, start, end)
    if paragraph is None:
        return None
    first, last = paragraph
    for bar in range(max(start, end - _MAX_CONTACT_LINES * 2), first):
        if _DASH_BAR.match(lines[bar]) and _is_contact_block(stripped[bar + 1 : end]):
            return bar
    if last > first and _is_contact_block(stripped[first:end]):
        return first
    return None


def _is_contact_block(stripped: list[str]) -> bool:
    """At least two contact lines among a few short ones (the lines stripped)."""
    content = [line for line in stripped if line]
    if not content or len(content) > _MAX_CONTACT_LINES:
        return False
    if any(len(line) > _MAX_CLOSING_LINE_CHARS or len(line.split()) > _MAX_CONTACT_WORDS for line in content):
        return False  # sentences ("please call me at …") are content, not a card
    return sum(1 for line in content if _CONTACT.search(line)) >= _MIN_CONTACT_HITS


def _hyphen_name(lines: list[str], stripped: list[str], start: int, end: int) -> int | None:
    """A `-Name` or `/Name` sign-off as the last paragraph (not a `- item` list)."""
    paragraph = last_paragraph(stripped, start, end)
    if paragraph is None:
        return None
    first, last = paragraph
    if last - first <= 1 and _HYPHEN_NAME.match(lines[first]) and not lines[first].lstrip().startswith("- "):
        return first
    return None


def _trailing_symbols(lines: list[str], stripped: list[str], start: int, end: int) -> int | None:
    """Lines of bare symbols at the very end (`***`, `====`, a tracking pixel)."""
    index = end
    found = None
    while index > start:
        if stripped[index - 1] and not _SYMBOLS_ONLY.match(lines[index - 1]):
            break
        index -= 1
        if stripped[index]:
            found = index
    return found
