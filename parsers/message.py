"""The typed result of parsing one raw message.

Everything downstream of `parsers/` (threading, handoff, commands, storage)
reads these dataclasses only, never the raw `email.message.Message`, so the
parsing rules can change without touching the pipeline.  `to_json()` gives
the stable shape of `relaydesk parse --json` (SPEC §10).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Literal, TypeVar

Kind = Literal["normal", "auto_reply", "bounce", "list", "loop"]
_Frozen = TypeVar("_Frozen")


@dataclass(frozen=True)
class Address:
    """A mailbox: display name and a normalised address (lower-case, IDNA domain)."""

    name: str
    email: str

    def to_json(self) -> dict[str, str]:
        return {"name": self.name, "email": self.email}


@dataclass(frozen=True)
class Attachment:
    """One attachment or inline part.

    `content` holds the decoded bytes when the part is within the size limit;
    a part over the limit keeps `content=None`, `truncated=True` and only its
    size and sha256 (computed while streaming), so a huge part never has to
    live in memory twice.
    """

    filename: str
    content_type: str
    size: int
    sha256: str
    inline: bool = False
    content_id: str | None = None
    content: bytes | None = field(default=None, repr=False, compare=False)
    truncated: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "filename": self.filename,
            "content_type": self.content_type,
            "size": self.size,
            "sha256": self.sha256,
            "inline": self.inline,
            "content_id": self.content_id,
        }


@dataclass(frozen=True)
class ForwardedOriginal:
    """The message recovered from inside a forward."""

    sender: Address | None
    date: datetime | None
    subject: str
    message_id: str | None
    text: str
    # Who the original was copied to: people a gateway may add to the ticket.
    cc: tuple[Address, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "from": self.sender.to_json() if self.sender else None,
            "date": iso_utc(self.date),
            "subject": self.subject,
            "message_id": self.message_id,
            "text": self.text,
            "cc": [a.to_json() for a in self.cc],
        }


@dataclass(frozen=True)
class Forward:
    """A detected forward: the forwarder's note above it and the original."""

    note: str
    original: ForwardedOriginal

    def to_json(self) -> dict[str, Any]:
        return {"note": self.note, "original": self.original.to_json()}


@dataclass(frozen=True)
class Bounce:
    """What a delivery-status notification says failed."""

    recipient: str | None
    status: str | None
    diagnostic: str | None
    original_message_id: str | None

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class Command:
    """One `#name args…` line from the top of the new text."""

    name: str
    args: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "args": list(self.args)}


@dataclass(frozen=True)
class ParsedMessage:
    """A raw RFC 5322 message reduced to what the gateway decides on.

    Message-IDs (`message_id`, `in_reply_to`, `references`) are kept with
    their angle brackets, as they appear on the wire.  `headers` holds every
    header decoded to text, names lower-cased, values in order of appearance,
    for the rules that need one header (Auto-Submitted, X-Relaydesk-*,
    partner fingerprints).
    """

    message_id: str | None
    subject: str
    sender: Address | None
    to: tuple[Address, ...]
    cc: tuple[Address, ...]
    reply_to: tuple[Address, ...]
    date: datetime | None
    in_reply_to: str | None
    references: tuple[str, ...]
    text: str
    elided: str
    signature: str | None
    html: str | None
    kind: Kind
    forward: Forward | None
    bounce: Bounce | None
    commands: tuple[Command, ...]
    attachments: tuple[Attachment, ...]
    headers: dict[str, list[str]]
    problems: tuple[str, ...]

    def header(self, name: str) -> str | None:
        """First value of a header, case-insensitive, or None."""
        values = self.headers.get(name.lower())
        return values[0] if values else None

    def to_json(self) -> dict[str, Any]:
        return {
            "message_id": self.message_id,
            "subject": self.subject,
            "from": self.sender.to_json() if self.sender else None,
            "to": [a.email for a in self.to],
            "cc": [a.email for a in self.cc],
            "date": iso_utc(self.date),
            "text": self.text,
            "elided": self.elided,
            "signature": self.signature,
            "kind": self.kind,
            "forward": self.forward.to_json() if self.forward else None,
            "bounce": self.bounce.to_json() if self.bounce else None,
            "commands": [c.to_json() for c in self.commands],
            "attachments": [a.to_json() for a in self.attachments],
            "problems": list(self.problems),
        }


def frozen_instance(cls: type[_Frozen], **values: Any) -> _Frozen:
    """An instance of a frozen dataclass given every field, filled in one step.

    The generated __init__ sets each field through object.__setattr__, which
    for ParsedMessage's twenty fields costs more than the rest of parsing a
    bare body.  Only for classes without __post_init__ or defaults to apply.
    """
    instance = object.__new__(cls)
    vars(instance).update(values)
    return instance


def iso_utc(value: datetime | None) -> str | None:
    """UTC ISO 8601 with a `Z`, the one time format of every JSON output."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


@dataclass(frozen=True)
class ParseOptions:
    """What the parser needs to know about this installation.

    `own_domains` are the Message-ID domains of our own outbound mail: a
    message carrying one of them as its own Message-ID came back to us
    (kind `loop`).  `hops_header` counts relaydesk hops across installations;
    at `max_hops` or more the message is a `loop`.
    """

    max_part_bytes: int = 25 * 1024 * 1024
    own_domains: tuple[str, ...] = ()
    hops_header: str = "X-Relaydesk-Hops"
    max_hops: int = 8
