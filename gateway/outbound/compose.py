"""Outbound MIME composition: a `Draft` in, RFC 5322 bytes out.

Pure: no database and no network, so every header rule is testable on its
own.  `gateway.outbound.outbox` fills the draft from the ticket (threading headers,
Reply-To token, VERP) and stores the result; other modules decorate a draft
before it is rendered (the chain line, X-Relaydesk-Status/Chain) by adding
`headers` and `footer` lines.
"""

from __future__ import annotations

import base64
import re
import secrets
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.headerregistry import Address as HeaderAddress
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from storage.models import Attachment

_PREFIXES = re.compile(r"^\s*(?:(?:re|fwd?|aw|wg|sv|vs|tr|rv|antw|odp|ynt|res|ha|ответ|пересл)\s*(?:\[\d+\])?\s*:\s*)+", re.I)
_FILETIME_EPOCH = datetime(1601, 1, 1, tzinfo=timezone.utc)
HOPS_HEADER = "X-Relaydesk-Hops"
TICKET_HEADER = "X-Relaydesk-Ticket"


@dataclass(frozen=True)
class FileRef:
    """An attachment by reference to the blob store."""

    sha256: str
    filename: str
    content_type: str = "application/octet-stream"


@dataclass
class Draft:
    """One outbound mail to one participant, before rendering.

    Decorators may append to `headers` (name → value) and `footer` (lines
    shown below the text, above the body marker); nothing else should be
    changed after `gateway.outbound.outbox` built the draft.
    """

    ref: str
    kind: str
    from_name: str
    from_email: str
    to_name: str
    to_email: str
    reply_to: str
    subject: str
    text: str
    message_id: str
    marker: str
    thread_topic: str
    thread_index: str
    hops: int
    auto: bool = False
    in_reply_to: str | None = None
    references: list[str] = field(default_factory=list)
    attachments: list[FileRef] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)
    footer: list[str] = field(default_factory=list)
    date: datetime = field(default_factory=lambda: datetime.now(timezone.utc))


def new_message_id(domain: str) -> str:
    return f"<{secrets.token_hex(12)}@{domain}>"


def bare_subject(subject: str) -> str:
    """The subject without reply/forward prefixes and without `[PREFIX-N]` tags."""
    previous = None
    text = _one_line(subject)
    while previous != text:
        previous = text
        text = _PREFIXES.sub("", text)
        text = re.sub(r"^\s*\[[A-Z][A-Z0-9]{0,9}-\d+\]\s*", "", text)
    return text.strip()


def tagged_subject(ref: str, subject: str) -> str:
    """`[REF] subject`, never with a doubled tag or a pile of `Re:`."""
    bare = bare_subject(subject)
    return f"[{ref}] {bare}" if bare else f"[{ref}]"


def thread_index(root_key: str, root_time: datetime, now: datetime, reply: bool) -> str:
    """An Outlook Thread-Index: a 22-byte header shared by the conversation, plus a child block on replies.

    The header holds the conversation's start time (FILETIME) and a GUID
    derived from `root_key`, so every mail about one ticket gets the same
    header and Outlook groups them.
    """
    ticks = int((root_time - _FILETIME_EPOCH).total_seconds() * 10_000_000)
    header = b"\x01" + ticks.to_bytes(8, "big")[1:6] + uuid.uuid5(uuid.NAMESPACE_URL, root_key).bytes
    if not reply:
        return base64.b64encode(header).decode("ascii")
    delta = max(0, int((now - root_time).total_seconds() * 10_000_000)) >> 18
    child = (delta & 0x7FFFFFFF).to_bytes(4, "big") + secrets.token_bytes(1)
    return base64.b64encode(header + child).decode("ascii")


def render_bytes(draft: Draft, read_blob: Callable[[str], bytes]) -> bytes:
    """The complete message as sent (CRLF); `read_blob(sha256) -> bytes` supplies attachment bytes.

    Bytes rather than an `EmailMessage`: setting a header on one parses its
    value through the header registry, which cost most of the render.  The
    header block is written here (`_field`) and only the content (type,
    transfer encoding, body, attachments) is built by `EmailMessage`.
    """
    head = "".join(_field(name, value) for name, value in _header_fields(draft))
    body = _body(draft)
    plain = None if draft.attachments else seven_bit_text(body)
    return head.encode("ascii") + (plain if plain is not None else _content(body, draft, read_blob).as_bytes())


_SEVEN_BIT_HEAD = (b'Content-Type: text/plain; charset="utf-8"\r\nContent-Transfer-Encoding: 7bit\r\n'
                   b"MIME-Version: 1.0\r\n\r\n")


def seven_bit_text(text: str) -> bytes | None:
    """The text part exactly as `EmailMessage.set_content` writes ASCII text of short lines; None otherwise.

    Most mail we send (acknowledgements, status notes, relayed replies in
    English) is such text, and the content manager spent half the render
    choosing an encoding it would leave as it is.  Anything else (non-ASCII,
    a line over 78 bytes) still goes through `set_content`.
    """
    if not text.isascii():
        return None
    lines = text.encode("ascii").splitlines()
    if any(len(line) > SMTP.max_line_length for line in lines):
        return None
    return _SEVEN_BIT_HEAD + b"\r\n".join(lines) + b"\r\n"


def _header_fields(draft: Draft) -> list[tuple[str, str | HeaderAddress]]:
    """Every header above the content headers, in order."""
    fields: list[tuple[str, str | HeaderAddress]] = [
        ("Date", format_datetime(draft.date)),
        ("Message-ID", draft.message_id),
        ("From", _address(draft.from_name, draft.from_email)),
        ("To", _address(draft.to_name, draft.to_email)),
        ("Reply-To", _address(draft.from_name, draft.reply_to)),
        ("Subject", draft.subject),
    ]
    if draft.in_reply_to:
        fields.append(("In-Reply-To", draft.in_reply_to))
    if draft.references:
        fields.append(("References", " ".join(draft.references)))
    if draft.auto:
        fields += [("Auto-Submitted", "auto-replied"), ("X-Auto-Response-Suppress", "All")]
    fields += [("Thread-Topic", draft.thread_topic), ("Thread-Index", draft.thread_index)]
    if draft.ref:  # mail about no single ticket (a sign-in link, a digest) names none
        fields.append((TICKET_HEADER, draft.ref))
    fields.append((HOPS_HEADER, str(draft.hops)))
    fields.extend(draft.headers.items())
    return fields


def _field(name: str, value: str | HeaderAddress) -> str:
    """One header line, folded and RFC 2047-encoded by the SMTP policy where that is needed.

    Text is flattened to one line first, so no value can start a header of
    its own.  A value that is printable ASCII and fits on one line comes out
    of the policy unchanged, so it is written as is; anything else
    (non-ASCII, too long, empty) goes through the header registry as
    `EmailMessage` would.
    """
    if isinstance(value, str):
        value = _one_line(value)
    text = str(value)
    if text and text.isascii() and text.isprintable() and len(name) + 2 + len(text) <= SMTP.max_line_length:
        return f"{name}: {text}\r\n"
    return SMTP.fold(*SMTP.header_store_parse(name, value))


def _content(body: str, draft: Draft, read_blob: Callable[[str], bytes]) -> EmailMessage:
    """The MIME part under the headers: the text, and the attachments beside it in multipart/mixed."""
    content = EmailMessage(policy=SMTP)
    content.set_content(body)
    for ref in draft.attachments:
        maintype, _, subtype = ref.content_type.partition("/")
        content.add_attachment(read_blob(ref.sha256), maintype=maintype or "application",
                               subtype=subtype or "octet-stream", filename=ref.filename)
    return content


def _body(draft: Draft) -> str:
    parts = [draft.text.rstrip()]
    if draft.footer:
        parts.append("\n".join(draft.footer))
    parts.append(draft.marker)
    return "\n\n".join(p for p in parts if p) + "\n"


def _address(name: str, email: str) -> HeaderAddress:
    local, _, domain = email.rpartition("@")
    return HeaderAddress(display_name=_one_line(name), username=local, domain=domain)


def _one_line(value: str) -> str:
    """Header values never carry line breaks (header injection)."""
    return " ".join((value or "").split())


def file_refs(files: Sequence[Attachment]) -> list[FileRef]:
    """The stored files as references the composer attaches from the blob store."""
    return [FileRef(f.sha256, f.filename, f.content_type) for f in files if f.stored]
