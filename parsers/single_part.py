"""A single-part message read without the feed parser or a full compat32 tree.

Most mail, and every bare body, has no MIME structure, yet the stdlib feed
parser still pushes it line by line through generators.  Here the header
lines are read with the feed parser's own patterns and the rest of the text
becomes the payload in one slice.  Whenever the feed parser would do more
than that (a multipart or message/* type, a header defect, a stray "From "
line) the answer is None and the caller runs the stdlib parser, so what the
parse sees is the same either way.
"""

from __future__ import annotations

import re
from email import errors
from email.feedparser import NLCRE, NLCRE_eol, headerRE
from email.message import Message
from email.policy import compat32
from typing import NamedTuple

from parsers.content_type import ContentType, content_type_of

# One line as the feed parser splits them: "\r\n", "\r" and "\n" end a line.
_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)?")
# One ordinary header field: a name (headerRE's characters, at least one),
# its value after the spaces that follow the colon, continuation lines, and
# a line end after each line.  A run of them, then a blank line or the end
# of the text, is a header the line loop below would read the same way.
# Possessive, so a hostile line of blanks costs linear time.
_FIELD = re.compile(r"([!-9;-~]+):[ \t]*+([^\r\n]*+(?:\r\n|\r|\n)(?:[ \t][^\r\n]*+(?:\r\n|\r|\n))*+)")
_FIELDS = re.compile(rf"(?:{_FIELD.pattern})*")
# The fields the MIME walk reads from a single part; the rest only matter to the header readers.
_MIME_FIELDS = frozenset(("content-type", "content-transfer-encoding", "content-disposition", "content-id"))
# Transfer encodings Message.get_payload(decode=True) undoes; any other leaves the bytes as they are.
_DECODED_ENCODINGS = ("quoted-printable", "base64", "x-uuencode", "uuencode", "uue", "x-uue")


class SinglePart(NamedTuple):
    """A single-part message as the compat32 tree holds it, plus its Content-Type readings (a tuple: one per parse)."""

    fields: list[tuple[str, str]]  # (name, raw value) in order, as Message.raw_items() gives them
    payload: str
    defects: list[errors.MessageDefect]
    unixfrom: str | None
    content_type: ContentType

    def first(self, name: str) -> str | None:
        """The raw value of the first field called `name` (lower-case)."""
        return _first(self.fields, name)

    def unencoded_payload(self) -> bytes | None:
        """The payload bytes when get_payload(decode=True) gives them as they are, else None."""
        encoding = self.first("content-transfer-encoding") or ""
        if not encoding.isascii() or encoding.lower() in _DECODED_ENCODINGS:
            return None  # decoded, or an 8-bit value the email package reads its own way
        return self.payload.encode("ascii", "surrogateescape")

    def message(self) -> Message:
        """The compat32 tree BytesParser builds for the message."""
        return self._tree(self.fields)

    def mime_part(self) -> Message:
        """The tree with only the fields the MIME walk reads: it walks to the same content, cheaper."""
        return self._tree([(name, value) for name, value in self.fields if name.lower() in _MIME_FIELDS])

    def _tree(self, fields: list[tuple[str, str]]) -> Message:
        message = Message(policy=compat32)
        for name, value in fields:
            message.set_raw(name, value)
        if self.unixfrom is not None:
            message.set_unixfrom(self.unixfrom)
        message.defects.extend(self.defects)
        message.set_payload(self.payload)
        return message


def parse_single_part(text: str) -> SinglePart | None:
    """`text` read as BytesParser(policy=compat32) reads it, or None when it is not single-part."""
    end = _FIELDS.match(text).end()  # type: ignore[union-attr]  # the pattern matches the empty string
    blank = NLCRE.match(text, end)
    if blank is None and end < len(text):
        if end == 0 and not headerRE.match(text):
            # A bare body: its first line is no header, so all of it is payload.
            return _single_part([], text, [errors.MissingHeaderBodySeparatorDefect()], None)
        return _parse_lines(text)
    fields = [(name, value.rstrip("\r\n")) for name, value in _FIELD.findall(text, 0, end)]
    return _single_part(fields, text[blank.end() if blank else end:], [], None)


def _parse_lines(text: str) -> SinglePart | None:
    """Header lines one by one, for a header that needs the feed parser's special cases."""
    fields: list[list[str]] = []
    defects: list[errors.MessageDefect] = []
    unixfrom = None
    body_start = len(text)
    for match in _LINE.finditer(text):
        line = match.group()
        if not line:  # end of text: all of it was header
            break
        if not headerRE.match(line):
            if NLCRE.match(line):
                body_start = match.end()  # the blank separator line belongs to neither part
            else:
                body_start = match.start()
                defects.append(errors.MissingHeaderBodySeparatorDefect())
            break
        if line[0] in " \t":
            if not fields:
                return None
            fields[-1].append(line)
        elif line.startswith("From "):
            if match.start():
                return None
            eol = NLCRE_eol.search(line)
            unixfrom = line[:-len(eol.group())] if eol else line
        elif line[0] == ":":
            return None
        else:
            fields.append([line])
    return _single_part([compat32.header_source_parse(lines) for lines in fields], text[body_start:], defects, unixfrom)


def _single_part(fields: list[tuple[str, str]], payload: str, defects: list[errors.MessageDefect],
                 unixfrom: str | None) -> SinglePart | None:
    """The part, unless its type needs the feed parser (or cannot even be read)."""
    content_type = content_type_of(_first(fields, "content-type"))
    if content_type is None or content_type.mime_type.partition("/")[0] in ("multipart", "message"):
        return None
    return SinglePart(fields, payload, defects, unixfrom, content_type)


def _first(fields: list[tuple[str, str]], name: str) -> str | None:
    """The raw value of the first field called `name` (lower-case), as Message.get finds it."""
    return next((value for key, value in fields if key.lower() == name), None)
