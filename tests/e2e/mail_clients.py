"""Mail written the way people's clients write it, answering mail they really received.

A reply is built from the received message itself: `Re:` subject,
In-Reply-To/References continuing its thread, addressed to its Reply-To
(else From), with the received text quoted below the new text in the
client's own style:

- Gmail:        "On Mon, 23 Nov 2026 at 10:15, Name <addr> wrote:" + "> " lines
- Thunderbird:  "On 11/23/26 10:15 AM, Name wrote:" + "> " lines
- Apple Mail:   a German "Am 23.11.2026 um 10:15 schrieb Name <addr>:" + "> " lines
- Outlook:      a rule, then the unquoted From:/Sent:/To:/Subject: block and the original

Forwards are Outlook's inline forward ("-----Original Message-----" or the
rule, then From/Sent/To/Subject) or Gmail's "---------- Forwarded message ---------".
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import format_datetime, getaddresses, parseaddr

GERMAN_SIGNATURE = "Mit freundlichen Grüßen\nSam Schuster\nSubco Field Service\nTel. +49 30 1234567"
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


@dataclass(frozen=True)
class Person:
    name: str
    email: str

    @property
    def header(self) -> str:
        return f"{self.name} <{self.email}>"


@dataclass(frozen=True)
class File:
    filename: str
    content: bytes
    content_type: str = "application/octet-stream"


@dataclass
class Outgoing:
    """A mail about to be sent: the message plus its SMTP envelope recipients."""

    message: EmailMessage
    rcpt_tos: list[str] = field(default_factory=list)
    raw: bytes | None = None  # exact bytes to send, when the message was written by hand

    @property
    def message_id(self) -> str:
        return str(self.message["Message-ID"])

    def as_bytes(self) -> bytes:
        return self.raw if self.raw is not None else self.message.as_bytes()


def parse(raw: bytes) -> EmailMessage:
    return message_from_bytes(raw, policy=policy.default)  # type: ignore[return-value]


def body_text(message: EmailMessage) -> str:
    """The plain-text body a reader sees (first text/plain part)."""
    part = message.get_body(preferencelist=("plain",))
    return part.get_content() if part is not None else ""


def reply_target(message: EmailMessage) -> str:
    """Where a client sends a reply: Reply-To, else From."""
    return parseaddr(str(message.get("Reply-To") or message.get("From")))[1]


def _new(sender: Person, to: list[str], subject: str, cc: list[str] = (), date: datetime | None = None) -> EmailMessage:
    message = EmailMessage(policy=policy.SMTP)
    message["From"] = sender.header
    message["To"] = ", ".join(to)
    if cc:
        message["Cc"] = ", ".join(cc)
    message["Subject"] = subject
    message["Date"] = format_datetime(date or datetime.now(timezone.utc))
    message["Message-ID"] = f"<{uuid.uuid4().hex}@{sender.email.rpartition('@')[2]}>"
    return message


def _attach(message: EmailMessage, files: list[File]) -> None:
    for file in files:
        maintype, _, subtype = file.content_type.partition("/")
        message.add_attachment(file.content, maintype=maintype, subtype=subtype, filename=file.filename)


def new_mail(sender: Person, to: list[str], subject: str, text: str, *, cc: list[str] = (),
             files: list[File] = (), headers: dict[str, str] | None = None, bcc: list[str] = ()) -> Outgoing:
    """A fresh mail, not answering anything."""
    message = _new(sender, to, subject, list(cc))
    for name, value in (headers or {}).items():
        message[name] = value
    message.set_content(text)
    _attach(message, list(files))
    return Outgoing(message, [*to, *cc, *bcc])


def _sent_line(message: EmailMessage) -> datetime:
    try:
        return message["Date"].datetime.astimezone(timezone.utc)
    except (AttributeError, TypeError, ValueError):
        return datetime.now(timezone.utc)


def _from(message: EmailMessage) -> tuple[str, str]:
    name, email = parseaddr(str(message["From"]))
    return name or email, email


def quote(message: EmailMessage, client: str) -> str:
    """The answered mail as `client` puts it below a reply."""
    name, email = _from(message)
    sent = _sent_line(message)
    text = body_text(message).rstrip()
    quoted = "\n".join(f"> {line}" if line else ">" for line in text.splitlines())
    if client == "gmail":
        return f"On {sent:%a}, {sent.day} {sent:%b %Y} at {sent:%H:%M}, {name} <{email}> wrote:\n\n{quoted}"
    if client == "thunderbird":
        return f"On {sent:%m/%d/%y %I:%M %p}, {name} wrote:\n{quoted}"
    if client == "apple":
        return f"> Am {sent:%d.%m.%Y} um {sent:%H:%M} schrieb {name} <{email}>:\n> \n{quoted}"
    if client == "outlook":
        return "________________________________\n" + _outlook_block(message) + f"\n\n{text}"
    raise ValueError(f"unknown client style {client!r}")


def _outlook_block(message: EmailMessage) -> str:
    name, email = _from(message)
    to = ", ".join(f"{n or a} <{a}>" for n, a in getaddresses([str(message.get("To", ""))]))
    sent = _sent_line(message)
    return (
        f"From: {name} <{email}>\n"
        f"Sent: {sent:%A, %B} {sent.day}, {sent:%Y} {sent:%I:%M %p}\n"
        f"To: {to}\n"
        f"Subject: {message['Subject']}"
    )


def reply(received: EmailMessage, sender: Person, text: str, *, client: str = "gmail", signature: str | None = None,
          files: list[File] = (), cc: list[str] = (), to: list[str] | None = None) -> Outgoing:
    """Answer `received` as `client` does: Re: subject, thread headers, quote below the new text."""
    subject = str(received["Subject"] or "")
    if not subject.lower().startswith("re:"):
        subject = "Re: " + subject
    recipients = to or [reply_target(received)]
    message = _new(sender, recipients, subject, list(cc))
    answered = str(received["Message-ID"])
    references = str(received.get("References") or "").split()
    message["In-Reply-To"] = answered
    message["References"] = " ".join([*references, answered])
    signed = f"{text}\n\n{signature}" if signature else text
    message.set_content(f"{signed}\n\n{quote(received, client)}\n")
    _attach(message, list(files))
    return Outgoing(message, [*recipients, *cc])


def forward(received: EmailMessage, sender: Person, to: list[str], note: str, *, client: str = "outlook",
            cc: list[str] = (), bcc: list[str] = ()) -> Outgoing:
    """Forward `received` inline with a note above it, keeping its files (as clients do)."""
    subject = str(received["Subject"] or "")
    message = _new(sender, to, ("FW: " if client == "outlook" else "Fwd: ") + subject, list(cc))
    text = body_text(received).rstrip()
    if client == "outlook":
        block = "-----Original Message-----\n" + _outlook_block(received)
    elif client == "gmail":
        name, email = _from(received)
        sent = _sent_line(received)
        block = (
            "---------- Forwarded message ---------\n"
            f"From: {name} <{email}>\n"
            f"Date: {sent:%a}, {sent.day} {sent:%b %Y} at {sent:%H:%M}\n"
            f"Subject: {subject}\n"
            f"To: {received.get('To', '')}"
        )
    else:
        raise ValueError(f"unknown client style {client!r}")
    message.set_content(f"{note}\n\n{block}\n\n{text}\n")
    _attach(message, _files_of(received))
    return Outgoing(message, [*to, *cc, *bcc])


def _files_of(message: EmailMessage) -> list[File]:
    return [
        File(part.get_filename() or "attachment", part.get_content(), part.get_content_type())
        for part in message.iter_attachments()
    ]


def delivery_failure(bounced_from: str, original: EmailMessage, failed: str, status: str = "5.1.1",
                     diagnostic: str = "550 5.1.1 Recipient address rejected: User unknown",
                     mta: str = "mx.subco.example") -> Outgoing:
    """An RFC 3464 delivery-status notification, as Postfix writes it, to the bounced mail's return path."""
    boundary = uuid.uuid4().hex
    headers = "".join(f"{k}: {v}\r\n" for k, v in original.items())
    raw = (
        f"From: Mail Delivery System <MAILER-DAEMON@{mta}>\r\n"
        f"To: {bounced_from}\r\n"
        "Subject: Undelivered Mail Returned to Sender\r\n"
        f"Date: {format_datetime(datetime.now(timezone.utc))}\r\n"
        f"Message-ID: <{boundary}@{mta}>\r\n"
        "Auto-Submitted: auto-replied\r\n"
        "MIME-Version: 1.0\r\n"
        f'Content-Type: multipart/report; report-type=delivery-status; boundary="{boundary}"\r\n\r\n'
        f"--{boundary}\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n"
        f"This is the mail system at host {mta}.\r\n\r\nI'm sorry to have to inform you that your message could not\r\n"
        f"be delivered to one or more recipients.\r\n\r\n<{failed}>: {diagnostic}\r\n\r\n"
        f"--{boundary}\r\nContent-Type: message/delivery-status\r\n\r\n"
        f"Reporting-MTA: dns; {mta}\r\n\r\nFinal-Recipient: rfc822; {failed}\r\nOriginal-Recipient: rfc822;{failed}\r\n"
        f"Action: failed\r\nStatus: {status}\r\nDiagnostic-Code: smtp; {diagnostic}\r\n\r\n"
        f"--{boundary}\r\nContent-Type: text/rfc822-headers\r\n\r\n{headers}\r\n"
        f"--{boundary}--\r\n"
    ).encode()
    return Outgoing(parse(raw), [bounced_from], raw=raw)
