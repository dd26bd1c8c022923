"""Reply extraction: the new text of a message without its quoted history.

Nothing is thrown away: everything removed goes to `elided`, so it can be
shown collapsed under the message.
"""

from __future__ import annotations

from dataclasses import dataclass

from parsers.html import html_to_text


@dataclass(frozen=True)
class ReplySplit:
    """The new text, what was removed from it, and the signature alone."""

    text: str
    elided: str
    signature: str | None


def split_reply(text: str, html: str | None = None) -> ReplySplit:
    """Split a message body into new text and elided history."""
    body = html_to_text(html) if html and not text else (text or "")
    lines = body.replace("\r\n", "\n").split("\n")
    for index, line in enumerate(lines):
        if line.lstrip().startswith(">"):
            return ReplySplit("\n".join(lines[:index]).strip(), "\n".join(lines[index:]).strip(), None)
    return ReplySplit(body.strip(), "", None)
