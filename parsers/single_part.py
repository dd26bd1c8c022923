"""The compat32 tree of a single-part message, without the feed parser.

Most mail, and every bare body, has no MIME structure, yet the stdlib feed
parser still pushes it line by line through generators.  Here the header
lines are read with the feed parser's own patterns and the rest of the text
becomes the payload in one slice.  Whenever the feed parser would do more
than that (a multipart or message/* type, a header defect, a stray "From "
line) the answer is None and the caller runs the stdlib parser, so the tree
is the same either way.
"""

from __future__ import annotations

import re
from email import errors
from email.feedparser import NLCRE, NLCRE_eol, headerRE
from email.message import Message
from email.policy import compat32

# One line as the feed parser splits them: "\r\n", "\r" and "\n" end a line.
_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)?")
# One ordinary header field: a name (headerRE's characters, at least one),
# its value after the spaces that follow the colon, continuation lines, and
# a line end after each line.  A run of them, then a blank line or the end
# of the text, is a header the line loop below would read the same way.
# Possessive, so a hostile line of blanks costs linear time.
_FIELD = re.compile(r"([!-9;-~]+):[ \t]*+([^\r\n]*+(?:\r\n|\r|\n)(?:[ \t][^\r\n]*+(?:\r\n|\r|\n))*+)")
_FIELDS = re.compile(rf"(?:{_FIELD.pattern})*")


def parse_single_part(text: str) -> Message | None:
    """The tree BytesParser(policy=compat32) builds for `text`, or None when it is not single-part."""
    message = Message(policy=compat32)
    end = _FIELDS.match(text).end()  # type: ignore[union-attr]  # the pattern matches the empty string
    blank = NLCRE.match(text, end)
    if blank is None and end < len(text):
        return _parse_lines(text, message)
    for name, value in _FIELD.findall(text, 0, end):
        message.set_raw(name, value.rstrip("\r\n"))
    return _with_payload(message, text[blank.end() if blank else end:])


def _parse_lines(text: str, message: Message) -> Message | None:
    """Header lines one by one, for a header that needs the feed parser's special cases."""
    fields: list[list[str]] = []
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
                compat32.handle_defect(message, errors.MissingHeaderBodySeparatorDefect())
            break
        if line[0] in " \t":
            if not fields:
                return None
            fields[-1].append(line)
        elif line.startswith("From "):
            if match.start():
                return None
            eol = NLCRE_eol.search(line)
            message.set_unixfrom(line[:-len(eol.group())] if eol else line)
        elif line[0] == ":":
            return None
        else:
            fields.append([line])
    for lines in fields:
        message.set_raw(*compat32.header_source_parse(lines))
    return _with_payload(message, text[body_start:])


def _with_payload(message: Message, payload: str) -> Message | None:
    """The message with its body, unless its type needs the feed parser."""
    if message.get_content_maintype() in ("multipart", "message"):
        return None
    message.set_payload(payload)
    return message
