"""Mail the way clients write it: new mails, Outlook forwards, quoted replies.

Each builder returns raw RFC 5322 bytes, so tests go through the real parser
and pipeline exactly like mail arriving over SMTP.
"""

from __future__ import annotations

from datetime import datetime, timezone
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def _base(sender: str, to: list[str], subject: str, cc: list[str] = (), *, message_id: str | None = None,
          in_reply_to: str | None = None, references: list[str] = (), date: datetime | None = None) -> EmailMessage:
    mail = EmailMessage()
    mail["From"] = sender
    mail["To"] = ", ".join(to)
    if cc:
        mail["Cc"] = ", ".join(cc)
    mail["Subject"] = subject
    mail["Date"] = format_datetime(date or datetime.now(timezone.utc))
    mail["Message-ID"] = message_id or make_msgid(domain=sender.rpartition("@")[2].strip(">"))
    if in_reply_to:
        mail["In-Reply-To"] = in_reply_to
        mail["References"] = " ".join([*references, in_reply_to])
    return mail


def customer_mail(*, subject: str = "Printer jams on tray 2", text: str = "Hello,\n\nthe printer jams on tray 2 "
                  "every morning.\n\nAlice", message_id: str = "<c1@client.example>",
                  sender: str = "Alice Customer <alice@client.example>", to: str = "support@vendor.example",
                  with_pdf: bool = True) -> bytes:
    mail = _base(sender, [to], subject, message_id=message_id)
    mail.set_content(text)
    if with_pdf:
        mail.add_attachment(PDF, maintype="application", subtype="pdf", filename="error-log.pdf")
    return bytes(mail)


def outlook_forward(*, sender: str, to: list[str], cc: list[str] = (), note: str, original_from: str,
                    original_subject: str, original_text: str, original_date: str | None = None,
                    message_id: str | None = None, commands: str = "",
                    attachment: tuple[str, str, bytes] | None = None) -> bytes:
    """Outlook desktop's inline forward: note, separator, From/Sent/To/Subject block, original body."""
    mail = _base(sender, to, f"FW: {original_subject}", list(cc), message_id=message_id)
    sent = original_date or datetime.now(timezone.utc).strftime("%A, %B %d, %Y %I:%M %p")
    body = (
        f"{commands}{note}\n\n"
        "________________________________\n"
        f"From: {original_from}\n"
        f"Sent: {sent}\n"
        "To: support@vendor.example\n"
        f"Subject: {original_subject}\n\n"
        f"{original_text}\n"
    )
    mail.set_content(body)
    _attach(mail, attachment)
    return bytes(mail)


def reply(*, sender: str, to: list[str], subject: str, text: str, answered: str, answered_from: str,
          answered_text: str, cc: list[str] = (), references: list[str] = (), style: str = "thunderbird",
          signature: str = "", message_id: str | None = None,
          attachment: tuple[str, str, bytes] | None = None) -> bytes:
    """A reply with the answered mail quoted below, in the given client's style."""
    subject = subject if subject.lower().startswith("re:") else f"Re: {subject}"
    mail = _base(sender, to, subject, list(cc), message_id=message_id, in_reply_to=answered,
                 references=list(references))
    quoted = "\n".join(f"> {line}" for line in answered_text.splitlines())
    if style == "apple":
        intro = f"Am 22.11.2026 um 10:00 schrieb {answered_from}:"
    else:
        intro = f"On 11/22/26 10:00 AM, {answered_from} wrote:"
    sig = f"\n\n{signature}" if signature else ""
    mail.set_content(f"{text}{sig}\n\n{intro}\n{quoted}\n")
    _attach(mail, attachment)
    return bytes(mail)


def plain(*, sender: str, to: list[str], subject: str, text: str, cc: list[str] = (),
          in_reply_to: str | None = None, message_id: str | None = None) -> bytes:
    mail = _base(sender, to, subject, list(cc), in_reply_to=in_reply_to, message_id=message_id)
    mail.set_content(text)
    return bytes(mail)


def _attach(mail: EmailMessage, attachment: tuple[str, str, bytes] | None) -> None:
    if attachment:
        filename, content_type, data = attachment
        maintype, _, subtype = content_type.partition("/")
        mail.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
