"""Forward detection: the forwarder's note and the recovered original.

A forwarded message is found by what the forwarding client writes above it:
a "Forwarded message" separator or an Apple-style "Begin forwarded message:"
line (a forward whatever the subject says), or an Outlook
"-----Original Message-----" separator or bare From:/Sent:/To:/Subject:
block — which Outlook also writes for replies, so these count as a forward
only under a forward subject prefix (Fwd:, WG:, TR:, …).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from parsers.forward_dates import parse_date
from parsers.message import Address, Forward, ForwardedOriginal
from parsers.quotes import (
    FORWARD_INTRO,
    FORWARD_SUBJECT,
    SEPARATOR,
    field_role,
    is_reply_header,
    split_inline_fields,
)
from parsers.quotes.body import Body, as_body, read_body
from parsers.quotes.lines import BAR, MAX_MARKER_LINE, MAX_SCANNED_LINES, next_content, previous_content

_QUOTE_PREFIX = re.compile(r"^[ \t]*> ?")
_FORWARD_WORDS = re.compile(
    r"forward|weitergeleit|transf|reenviad|inoltrat|encaminhad|reencaminhad|doorgestuurd|przekazan|iletil|"
    r"пересыла|пересла|переслан|пересил|vidarebefordra|videresend|転送|转发|محولة|توجيه",
    re.IGNORECASE,
)
_EMAIL = re.compile(r"[\w.+'-]+@[\w-]+(?:\.[\w-]+)+")
_MESSAGE_ID = re.compile(r"<[^<>\s]+@[^<>\s]+>")
_MAX_FIELD_LINES = 12


@dataclass(frozen=True)
class _Embedded:
    """Where an embedded message starts and how sure we are that it is a forward."""

    note_end: int
    header_start: int
    explicit: bool


def detect_forward(subject: str, text: str | Body) -> Forward | None:
    """The forward in `text`, or None when the message is not a forward."""
    body = as_body(text)
    found = _find_embedded(body)
    if found is None:
        return None
    if not found.explicit and not FORWARD_SUBJECT.match(subject or ""):
        return None
    return _build(body.lines, found)


def extract_embedded(text: str) -> Forward | None:
    """Any message embedded under a separator or header block, forward or not.

    Outlook replies embed the previous message the same way forwards do;
    callers that need "is this a forward" use `detect_forward`.
    """
    body = read_body(text)
    found = _find_embedded(body)
    return _build(body.lines, found) if found else None


def _find_embedded(body: Body) -> _Embedded | None:
    """The first separator, forward intro or header block, quoted or not."""
    if not body.marker_lines and not body.has_colon:
        return None  # no separator or intro, and a header block needs field names with colons
    lines, stripped = body.lines, body.stripped
    budget = MAX_SCANNED_LINES
    for index, raw in enumerate(lines):
        if len(raw) > MAX_MARKER_LINE or not stripped[index]:
            continue
        budget -= 1
        if not budget:
            break
        if index in body.marker_lines:  # else the line is no separator or intro, only a header block can start here
            line = _QUOTE_PREFIX.sub("", raw, count=1)
            if FORWARD_INTRO.match(line) or SEPARATOR.match(line):
                explicit = bool(FORWARD_INTRO.match(line) or _FORWARD_WORDS.search(line))
                return _Embedded(index, next_content(stripped, index + 1), explicit)
        if body.starts_header_block(index):
            return _Embedded(_bar_above(body, index), index, False)
    return None


def _bar_above(body: Body, index: int) -> int:
    """Outlook's line of underscores above a header block belongs to the separator."""
    above = previous_content(body.stripped, index)
    return above if above >= 0 and BAR.match(body.lines[above]) else index


def _build(lines: Sequence[str], found: _Embedded) -> Forward:
    """Note above, header fields and body below the separator."""
    quoted = found.header_start < len(lines) and bool(_QUOTE_PREFIX.match(lines[found.header_start]))
    rest = [_unquote(line) if quoted else line for line in lines[found.header_start :]]
    fields, body_start = _read_fields(rest)
    if not fields and rest and is_reply_header(rest[0].strip()):
        fields, body_start = _attribution_fields(rest[0]), 1
    note = "\n".join(lines[: found.note_end]).strip()
    original = ForwardedOriginal(
        sender=_address(fields.get("from", "")),
        date=parse_date(fields.get("date", "")),
        subject=fields.get("subject", ""),
        message_id=_message_id(fields.get("message_id", "")),
        text="\n".join(rest[body_start:]).strip(),
        cc=_addresses(fields.get("cc", "")),
    )
    return Forward(note=note, original=original)


def _read_fields(lines: list[str]) -> tuple[dict[str, str], int]:
    """Header fields at the top of `lines` (wrapped values joined) and where the body starts."""
    fields: dict[str, str] = {}
    role = None
    index = 0
    while index < len(lines) and index < _MAX_FIELD_LINES * 2:
        line = lines[index]
        if not line.strip():
            if fields:
                break
            index += 1
            continue
        found = field_role(line)
        if found:
            role = found[0]
            fields.setdefault(role, found[1])
        elif role is not None:
            fields[role] = f"{fields[role]} {line.strip()}".strip()
        else:
            break
        index += 1
    if "from" in fields:
        fields["from"], flattened = split_inline_fields(fields["from"])
        for name, value in flattened.items():
            fields.setdefault(name, value)
    return fields, index


def _attribution_fields(line: str) -> dict[str, str]:
    """Sender and date from an attribution line (`04.03.2024, 10:15, "Name" <addr>:`)."""
    match = _EMAIL.search(line)
    if not match:
        return {}
    quoted_name = re.search(r'"([^"]{1,120})"', line)
    name = quoted_name.group(1) if quoted_name else ""
    cut = min(i for i in (line.find('"'), line.find("<"), match.start()) if i >= 0)
    return {"from": f"{name} <{match.group(0)}>", "date": line[:cut].strip(" ,")}


def _unquote(line: str) -> str:
    return _QUOTE_PREFIX.sub("", line, count=1)


def _address(value: str) -> Address | None:
    """"Name <addr>", "Name [mailto:addr]", "*Name* addr", or a bare address."""
    match = _EMAIL.search(value)
    if not match:
        return Address(name=_clean_name(value), email="") if value.strip() else None
    email = match.group(0).rstrip(".").lower()
    name = value[: match.start()]
    name = re.sub(r"(?:mailto:|[<\[(])+\s*$", "", name)
    return Address(name=_clean_name(name), email=email)


def _addresses(value: str) -> tuple[Address, ...]:
    """Every mailbox of a list field ("A <a@x>, b@x"): each address with the text before it as its name."""
    found: dict[str, Address] = {}
    start = 0
    for match in _EMAIL.finditer(value):
        address = _address(value[start : match.end()].lstrip(">]),; "))
        start = match.end()
        if address is not None:
            found.setdefault(address.email, address)
    return tuple(found.values())


def _clean_name(name: str) -> str:
    return name.strip().strip("*_\"' <[(").strip()


def _message_id(value: str) -> str | None:
    match = _MESSAGE_ID.search(value)
    return match.group(0) if match else None
