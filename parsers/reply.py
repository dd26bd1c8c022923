"""Reply extraction: the new text of a message without its quoted history.

The body is scanned line by line, top down, for the first line a mail client
writes above quoted history (an "On … wrote:" attribution in any supported
language, possibly wrapped; an Outlook From:/Sent: block; an
"-----Original Message-----" or forwarded-message separator).  Then the tail
is peeled: trailing `>` quotes, signatures and list footers.  A `>` quote
followed by the sender's own answer is an inline reply and stays.

Nothing is thrown away: everything removed goes to `elided`, so it can be
shown collapsed under the message.  Lines are only ever cut as a tail, so
`text` + `elided` is the whole body.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from parsers.html import html_to_text
from parsers.quotes import FORWARD_INTRO, REPLY_HEADER, SEPARATOR, field_role, is_reply_header
from parsers.quotes.html_markers import split_html_quote
from parsers.signature import find_signature_start


@dataclass(frozen=True)
class ReplySplit:
    """The new text, what was removed from it, and the signature alone."""

    text: str
    elided: str
    signature: str | None


_QUOTED = re.compile(r"^[ \t]*>")
_BAR = re.compile(r"^[ \t]*(?:[-_=*]{5,}|[-_=*]{2,}[ \t]*\*?[ \t]*)[ \t]*$")
_SENTENCE_END = re.compile(r"[.!?]\s*$")
_MAX_HEADER_LINES = 3
_MAX_HEADER_FIELD_GAP = 8
_MIN_HEADER_FIELDS = 2


def split_reply(text: str, html: str | None = None) -> ReplySplit:
    """Split a message body into new text and elided history.

    With `html`, the quote is first cut at the client's HTML markers and the
    rest converted to text; plain-text rules then still apply (signatures,
    quotes the markup did not mark).
    """
    removed_by_markup = ""
    if html:
        kept, removed = split_html_quote(html)
        body = html_to_text(kept)
        removed_by_markup = html_to_text(removed) if removed else ""
    else:
        body = text or ""
    split = _split_text(body)
    if removed_by_markup:
        elided = f"{split.elided}\n\n{removed_by_markup}".strip()
        return ReplySplit(split.text, elided, split.signature)
    return split


def _split_text(body: str) -> ReplySplit:
    """The plain-text rules on one body."""
    lines = body.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    end = _history_start(lines)
    end, signature = _peel_tail(lines, end)
    text = "\n".join(lines[:end]).strip()
    elided = "\n".join(lines[end:]).strip()
    return ReplySplit(text, elided, signature)


def _history_start(lines: list[str]) -> int:
    """First line of the quoted history, or len(lines) when there is none."""
    for index, line in enumerate(lines):
        if not line.strip() or _QUOTED.match(line) or len(line) > 1000:
            continue
        if SEPARATOR.match(line) or FORWARD_INTRO.match(line):
            return _include_bar_above(lines, index)
        if _header_block_at(lines, index):
            return _include_bar_above(lines, index)
        size = _reply_header_size(lines, index)
        if size and not _answers_inline(lines, index + size):
            return index
    return len(lines)


def _reply_header_size(lines: list[str], index: int) -> int:
    """How many lines (1–3) the attribution starting at `index` spans, 0 if none.

    A window only counts when none of its later lines is a header alone (the
    header then starts there) and its first line does not end a sentence.
    """
    if is_reply_header(lines[index].strip()):
        return 1
    if _SENTENCE_END.search(lines[index]):
        return 0
    parts = [lines[index].strip()]
    for offset in range(1, _MAX_HEADER_LINES):
        position = index + offset
        if position >= len(lines) or not lines[position].strip() or len(lines[position]) > 1000:
            return 0
        part = lines[position].strip()
        if is_reply_header(part) and not _QUOTED.match(lines[position]):
            return 0
        parts.append(part.lstrip("> ").strip() if _QUOTED.match(lines[position]) else part)
        if is_reply_header(" ".join(parts)):
            return offset + 1
    return 0


def _header_block_at(lines: list[str], index: int) -> bool:
    """An Outlook-style block: a From: line followed closely by Sent:/To:/Subject:."""
    first = field_role(lines[index])
    if not first or first[0] != "from":
        return False
    roles: set[str] = set()
    for position in range(index + 1, min(len(lines), index + _MAX_HEADER_FIELD_GAP)):
        found = field_role(lines[position])
        if found and found[0] in ("date", "to", "cc", "subject"):
            roles.add(found[0])
    return len(roles) >= _MIN_HEADER_FIELDS


def _include_bar_above(lines: list[str], index: int) -> int:
    """Outlook puts a bar of dashes or underscores above its header block."""
    above = index - 1
    while above >= 0 and not lines[above].strip():
        above -= 1
    if above >= 0 and (_BAR.match(lines[above]) or SEPARATOR.match(lines[above])):
        return above
    return index


def _answers_inline(lines: list[str], start: int) -> bool:
    """Whether the quote after an attribution is interleaved with answers.

    "On … wrote:", a quote, the sender's answer, another quote: the answers
    are new text, so the attribution is not the start of the history.
    """
    seen_quote = False
    seen_answer = False
    for line in lines[start:]:
        if not line.strip():
            continue
        if _QUOTED.match(line):
            if seen_answer:
                return True
            seen_quote = True
        elif seen_quote:
            if _BAR.match(line) or is_reply_header(line.strip()):
                return False
            seen_answer = True
        else:
            return False
    return False


def _peel_tail(lines: list[str], end: int) -> tuple[int, str | None]:
    """Move `end` up past trailing quotes, footers and the signature."""
    signature: str | None = None
    while True:
        end = _skip_blank_tail(lines, end)
        quote = _trailing_quote_start(lines, end)
        if quote is not None:
            end = quote
            continue
        start = find_signature_start(lines, end)
        if start is None:
            return end, signature
        signature = "\n".join(lines[start:end]).strip() or signature
        end = start


def _skip_blank_tail(lines: list[str], end: int) -> int:
    while end > 0 and not lines[end - 1].strip():
        end -= 1
    return end


def _trailing_quote_start(lines: list[str], end: int) -> int | None:
    """Start of a `>` block ending at `end`, with an attribution line above it."""
    if end == 0 or not _QUOTED.match(lines[end - 1]):
        return None
    start = end - 1
    while start > 0 and (not lines[start - 1].strip() or _QUOTED.match(lines[start - 1])):
        start -= 1
    while start < end and not lines[start].strip():
        start += 1
    above = _skip_blank_tail(lines, start)
    if above and _looks_like_attribution(lines[above - 1]):
        return above - 1
    return start


def _looks_like_attribution(line: str) -> bool:
    """An attribution without a date ("Bob wrote:") right above a quote."""
    stripped = line.strip()
    return len(stripped) < 300 and stripped.endswith((":", "：")) and bool(REPLY_HEADER.match(stripped))
