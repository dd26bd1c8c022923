"""Uuencoded files inside plain-text bodies (Lotus Notes, old Unix mailers).

Such mail has no MIME structure for its attachments: `begin 644 name` …
`end` blocks sit in the text.  They are cut out of the text and returned as
files, so the ticket shows the words and lists the attachments.
"""

from __future__ import annotations

import binascii
import re

_BLOCK = re.compile(r"^begin [0-7]{3,4} ([^\r\n]+)\r?\n(.*?)^end[ \t]*$", re.MULTILINE | re.DOTALL)


def split_uuencoded(text: str) -> tuple[str, list[tuple[str, bytes]]]:
    """The text without uuencoded blocks, and each block's (filename, bytes)."""
    if "begin " not in text:
        return text, []
    files: list[tuple[str, bytes]] = []

    def cut(match: re.Match[str]) -> str:
        files.append((match.group(1).strip(), _decode_lines(match.group(2))))
        return ""

    return _BLOCK.sub(cut, text), files


def _decode_lines(block: str) -> bytes:
    """Decode uuencoded lines; a damaged line is decoded as far as its length byte says."""
    out = bytearray()
    for line in block.splitlines():
        if not line or line in ("`", " "):
            continue
        data = line.encode("latin-1", "replace")
        try:
            out += binascii.a2b_uu(data)
        except binascii.Error:
            # Some encoders drop trailing spaces; pad to the declared length.
            length = ((data[0] - 32) & 63) * 4 // 3 + 4
            try:
                out += binascii.a2b_uu(data.ljust(length + 1)[: length + 1])
            except binascii.Error:
                continue
    return bytes(out)
