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


def render(draft: Draft, read_blob: Callable[[str], bytes]) -> EmailMessage:
    """The complete message; `read_blob(sha256) -> bytes` supplies attachment bytes."""
    message = EmailMessage(policy=SMTP)
    message["Date"] = format_datetime(draft.date)
    message["Message-ID"] = draft.message_id
    message["From"] = _address(draft.from_name, draft.from_email)
    message["To"] = _address(draft.to_name, draft.to_email)
    message["Reply-To"] = _address(draft.from_name, draft.reply_to)
    message["Subject"] = _one_line(draft.subject)
    if draft.in_reply_to:
        message["In-Reply-To"] = draft.in_reply_to
    if draft.references:
        message["References"] = " ".join(draft.references)
    if draft.auto:
        message["Auto-Submitted"] = "auto-replied"
        message["X-Auto-Response-Suppress"] = "All"
    message["Thread-Topic"] = _one_line(draft.thread_topic)
    message["Thread-Index"] = draft.thread_index
    if draft.ref:  # mail about no single ticket (a sign-in link, a digest) names none
        message[TICKET_HEADER] = draft.ref
    message[HOPS_HEADER] = str(draft.hops)
    for name, value in draft.headers.items():
        message[name] = _one_line(value)
    message.set_content(_body(draft))
    for ref in draft.attachments:
        maintype, _, subtype = ref.content_type.partition("/")
        message.add_attachment(read_blob(ref.sha256), maintype=maintype or "application",
                               subtype=subtype or "octet-stream", filename=ref.filename)
    return message


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
