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
from collections.abc import Sequence
from typing import NamedTuple

from parsers.html_text import html_to_text
from parsers.quotes import (
    FORWARD_INTRO,
    SEPARATOR,
    field_role,
    has_reply_above_marker,
    is_reply_header,
    matches_reply_header,
    may_start_reply_header,
)
from parsers.quotes.body import Body, as_body, read_body
from parsers.quotes.html_markers import split_html_quote
from parsers.quotes.lines import MAX_MARKER_LINE, MAX_SCANNED_LINES, next_content, previous_content
from parsers.signature import find_signature_start


class ReplySplit(NamedTuple):
    """The new text, what was removed from it, and the signature alone.

    A named tuple: immutable like a frozen dataclass, and several times
    cheaper to build, which counts once per message.
    """

    text: str
    elided: str
    signature: str | None


# Bars, including the short `--`/`**` rules clients draw above a header block.
_BAR = re.compile(r"^[ \t]*(?:[-–—_=*]{5,}|[-_=*]{2,}[ \t]*\*?[ \t]*)[ \t]*$")
_SENTENCE_END = re.compile(r"[^\W\d_]{2}[.!?]\s*$")
_SOFT_BREAK = re.compile(r"[^\s=]=$")
_BLANK_RUNS = re.compile(r"\n{3,}")
_MIN_ANSWER_CHARS = 3
_MAX_HEADER_LINES = 4
_MAX_HEADER_SPAN = 6


def split_reply(text: str | Body, html: str | None = None) -> ReplySplit:
    """Split a message body into new text and elided history.

    With `html`, the quote is first cut at the client's HTML markers and the
    rest converted to text; plain-text rules then still apply (signatures,
    quotes the markup did not mark).  `text` may come already read as a Body.
    """
    if not html:
        return _split_text(as_body(text))
    marked = split_html_quote(html)
    split = _split_text(read_body(html_to_text(marked.kept)))
    signature = html_to_text(marked.signature) if marked.signature else ""
    quote = html_to_text(marked.quote) if marked.quote else ""
    if not signature and not quote:
        return split
    elided = "\n\n".join(part for part in (signature, split.elided, quote) if part)
    return ReplySplit(split.text, elided, split.signature or signature or None)


def _split_text(body: Body) -> ReplySplit:
    """The plain-text rules on one body."""
    lines, stripped, quoted = body.lines, body.stripped, body.quoted
    if _may_hold_history(body):
        sizes: dict[int, int] = {}  # attribution sizes by line: both scans may ask about the first line
        first, start = _skip_leading_history(body, sizes)
        cut = _history_start(body, start, sizes)
    else:
        first = start = 0
        cut = len(lines)
    # Lines before `first` are blank; [first, start) is elided history at the top.
    if first == start:
        kept = range(cut)
        end, signature = _peel_tail(lines[:cut], stripped[:cut], quoted[:cut])
    else:
        kept = [*range(first), *range(start, cut)]
        end, signature = _peel_tail([lines[index] for index in kept], [stripped[index] for index in kept],
                                    [quoted[index] for index in kept])
    text = "\n".join(lines[index] for index in kept[:end]).strip()
    tail = kept[end] if end < len(kept) else cut  # everything from here on is removed
    runs = [(min(first, tail), len(lines))] if tail <= start else [(first, start), (tail, len(lines))]
    return ReplySplit(text, _join_runs(lines, runs), signature)


def _may_hold_history(body: Body) -> bool:
    """Whether any rule for quoted history can fire on this body at all.

    Without a `>`, a colon, a separator, a reply-above marker, a line that
    can end an attribution or a line opening with a date, none can: the two
    history scans are skipped, which most short notes never need.
    """
    lines = body.lines
    return (body.has_quote_mark or body.has_colon or bool(body.marker_lines) or body.may_mark_reply_above
            or body.ending_from(0, len(lines)) < len(lines) or any(map(_opens_with_digit, body.stripped)))


def _skip_leading_history(body: Body, sizes: dict[int, int]) -> tuple[int, int]:
    """Handle history at the very top: bottom-posted replies and bare forwards.

    A forward without a note shows the forwarded text (its header block is
    elided); an attribution on the first line is elided, together with the
    quote right under it when the answer follows below (bottom-posting);
    quotes answered inline stay.  Returns (first content line, where the scan
    goes on): the lines between them are elided.
    """
    lines, stripped, quoted = body.lines, body.stripped, body.quoted
    first = next_content(stripped, 0)
    if first >= len(lines) or quoted[first]:
        return first, first
    if _is_separator(body, first) or body.starts_header_block(first):
        return first, _header_block_end(body, first)
    size = _known_header_size(body, first, sizes)
    if not size:
        return first, first
    quote = next_content(stripped, first + size)
    if quote >= len(lines) or not quoted[quote]:
        return first, first + size
    after = quote
    while after < len(lines) and (not stripped[after] or quoted[after]):
        after += 1
    if any(stripped[after:]) and not any(quoted[after:]):
        return first, after
    return first, first + size  # answered inline: the quotes stay, in context


def _is_separator(body: Body, index: int) -> bool:
    """A separator or forward intro line (tested only where the body's search found one)."""
    line = body.lines[index]
    return index in body.marker_lines and bool(SEPARATOR.match(line) or FORWARD_INTRO.match(line))


def _header_block_end(body: Body, start: int) -> int:
    """Index after a separator and/or header field block (wrapped values included)."""
    lines, stripped = body.lines, body.stripped
    index = start
    if _is_separator(body, index):
        index = next_content(stripped, index + 1)
    if index < len(lines) and field_role(lines[index]):
        while index < len(lines) and stripped[index]:
            index += 1
    return index


def _join_runs(lines: Sequence[str], runs: list[tuple[int, int]]) -> str:
    """The removed lines, given as ordered (start, stop) runs, a blank line between runs that were apart."""
    parts: list[str] = []
    previous = None
    for start, stop in runs:
        if start >= stop:
            continue
        if previous is not None and start != previous:
            parts.append("")
        parts.extend(lines[start:stop])
        previous = stop
    return _BLANK_RUNS.sub("\n\n", "\n".join(parts)).strip()


def _history_start(body: Body, start: int, sizes: dict[int, int]) -> int:
    """First line of the quoted history from `start`, or len(lines) when none.

    An attribution above quotes answered inline stays: it says whom the
    quotes are from, and the answers between them are new text.  A line can
    only start an attribution when one of the next few lines can end it (or
    it opens with a date); the body's ending lines say that without a test
    per line.
    """
    lines, stripped, quoted = body.lines, body.stripped, body.quoted
    index = start
    budget = MAX_SCANNED_LINES
    ending = -1  # the next line from `index` on that could end an attribution
    while index < len(lines) and budget:
        line = lines[index]
        if not stripped[index] or quoted[index] or len(line) > MAX_MARKER_LINE:
            index += 1
            continue
        budget -= 1
        if _is_separator(body, index) or body.starts_header_block(index):
            return _include_bar_above(body, index)
        if body.may_mark_reply_above and has_reply_above_marker(line):
            return index
        if ending < index:
            ending = body.ending_from(index, len(lines))
        if (ending == len(lines) or ending - index > _MAX_HEADER_SPAN) and not _opens_with_digit(stripped[index]):
            index += 1
            continue
        size = _known_header_size(body, index, sizes)
        if size and not _answers_inline(body, index + size):
            return index
        index += max(size, 1)
    return len(lines)


def _known_header_size(body: Body, index: int, sizes: dict[int, int]) -> int:
    """`_reply_header_size`, computed once per line."""
    if index not in sizes:
        sizes[index] = _reply_header_size(body, index)
    return sizes[index]


def _reply_header_size(body: Body, index: int) -> int:
    """How many lines the attribution starting at `index` spans, 0 if none.

    Wrapped attributions ("On …, Name <" / "addr> wrote:") are re-joined over
    a few lines, blank ones included; a later line that is an attribution on
    its own and starts like one is a header of its own instead.  It opens
    with a date or ends on a line that can end an attribution: a cheap test
    that lets the scan skip the attribution patterns, which cost far more,
    on most lines.
    """
    lines, stripped, quoted = body.lines, body.stripped, body.quoted
    last = min(index + _MAX_HEADER_SPAN + 1, len(lines))
    if not _opens_with_digit(stripped[index]) and body.ending_from(index, last) == last:
        return 0
    if is_reply_header(stripped[index]):
        return 1
    if _ends_sentence(lines[index]) or not may_start_reply_header(lines[index]):
        return 0
    parts = [stripped[index]]
    position = index
    while len(parts) < _MAX_HEADER_LINES and position + 1 < len(lines) and position - index < _MAX_HEADER_SPAN:
        position += 1
        part = stripped[position]
        if not part:
            continue
        if len(lines[position]) > MAX_MARKER_LINE:
            return 0
        if quoted[position]:
            part = part.lstrip(">").strip()
        if is_reply_header(part) and part[:1].isupper():
            return 0
        if _soft_break(parts[-1]):
            parts[-1] = parts[-1][:-1] + part  # quoted-printable soft break left undecoded
        else:
            parts.append(part)
        if is_reply_header(" ".join(parts)):
            return position - index + 1
    return 0


def _ends_sentence(line: str) -> bool:
    """`_SENTENCE_END.search(line)`, tried only where a match can start: three
    characters before the trailing white space (a search tries every position)."""
    start = len(line.rstrip()) - 3
    return start >= 0 and _SENTENCE_END.match(line, start) is not None


def _soft_break(line: str) -> bool:
    """A line (without line breaks) that ends in a quoted-printable soft break."""
    return line.endswith("=") and _SOFT_BREAK.search(line) is not None


def _opens_with_digit(stripped: str) -> bool:
    """Whether a stripped line opens with a digit once leading dashes are gone (a date)."""
    return stripped.lstrip("-– \t")[:1].isdigit()


def _include_bar_above(body: Body, index: int) -> int:
    """Outlook puts a bar of dashes or underscores above its header block."""
    above = previous_content(body.stripped, index)
    if above >= 0 and (_BAR.match(body.lines[above]) or SEPARATOR.match(body.lines[above])):
        return above
    return index


def _answers_inline(body: Body, start: int) -> bool:
    """Whether the quote after an attribution is interleaved with answers.

    "On … wrote:", a quote, the sender's answer, another quote: the answers
    are new text, so the attribution is not the start of the history.
    """
    lines, stripped, quoted = body.lines, body.stripped, body.quoted
    seen_quote = False
    seen_answer = False
    previous = ""
    for index in range(start, len(lines)):
        text = stripped[index]
        if not text:
            continue
        if _soft_break(previous) or len(text) <= _MIN_ANSWER_CHARS:
            previous = lines[index]
            continue  # the tail of a wrapped quoted-printable line, not an answer
        previous = lines[index]
        if quoted[index]:
            if seen_answer:
                return True
            seen_quote = True
        elif seen_quote:
            if _BAR.match(previous) or is_reply_header(text):
                return False
            seen_answer = True
        else:
            return False
    return False


def _peel_tail(lines: list[str], stripped: list[str], quoted: list[bool]) -> tuple[int, str | None]:
    """Where the new text ends once trailing quotes, footers and the signature are peeled.

    Signature-like blocks peeled one right after another (a sign-off above a
    list footer) form one signature; a quote between them starts over.
    """
    signature_end: int | None = None
    start = end = len(lines)
    while True:
        end = previous_content(stripped, end) + 1
        quote = _trailing_quote_start(lines, stripped, quoted, end)
        if quote is not None:
            end, signature_end = quote, None
            continue
        found = find_signature_start(lines, end, stripped)
        if found is None:
            break
        signature_end = end if signature_end is None else signature_end
        start = end = found
    if signature_end is None:
        return end, None
    return end, _BLANK_RUNS.sub("\n\n", "\n".join(lines[start:signature_end])).strip() or None


def _trailing_quote_start(lines: list[str], stripped: list[str], quoted: list[bool], end: int) -> int | None:
    """Start of a `>` block ending at `end`, with an attribution line above it."""
    if end == 0 or not quoted[end - 1]:
        return None
    start = end - 1
    while start > 0 and (not stripped[start - 1] or quoted[start - 1]):
        start -= 1
    while start < end and not stripped[start]:
        start += 1
    above = previous_content(stripped, start) + 1
    if above == 0 and not any(is_reply_header(line.lstrip(" \t>")) for line in lines[start:end]):
        return None  # a message that is only a quote, with no attribution: pasted text
    if above and _looks_like_attribution(stripped[above - 1]):
        return above - 1
    return start


def _looks_like_attribution(stripped: str) -> bool:
    """An attribution without a date ("Bob wrote:") right above a quote (the line stripped)."""
    return len(stripped) < 300 and stripped.endswith((":", "：")) and matches_reply_header(stripped)
