"""Delivery failures: is this a bounce, and what failed?

Standard reports (RFC 3464 multipart/report) are read field by field.  Many
servers still send plain-text bounces (qmail, Exim, Postfix without DSN,
Exchange, Gmail); for those the recipient, the status code and the
diagnostic line are recovered from the wording the servers are known to use.
"""

from __future__ import annotations

import re

from parsers.message import Address, Bounce

_BOUNCE_SUBJECTS = re.compile(
    r"^\s*(undeliverable|undelivered mail|undeliverable mail|delivery status notification \((failure|delay)\)"
    r"|mail delivery failed|returned mail|failure notice|delivery failure|delivery failed|mail system error"
    r"|nicht zustellbar|unzustellbar|non remis|non distribuable|onbestelbaar|no se puede entregar"
    r"|non recapitabile|não entregue|niedostarczalne|не доставлено|недоставленное сообщение"
    r"|message not delivered|could not send message)",
    re.IGNORECASE,
)
# Fixed phrases, lower-cased: plain substring tests on the top of the body
# cost next to nothing on the vast majority of mail that is no bounce.
_BOUNCE_PHRASES = (
    "hi. this is the qmail-send program",
    "this message was created automatically by mail delivery software",
    "this is the mail system at host",
    "i'm sorry to have to inform you that your message could not",
    "delivery has failed to these recipients or groups",
    "couldn't be delivered",
    "wasn't delivered to",
    "delivery to the following recipient failed",
    "delivery to the following recipients failed",
    "was undeliverable",
    "the following addresses had permanent fatal errors",
)
_BODY_WINDOW = 4000
_DAEMONS = ("mailer-daemon", "postmaster", "mail-daemon", "mailerdaemon", "mail.delivery.subsystem")

_FIELD = re.compile(r"^([A-Za-z-]+):[ \t]*(.*)$", re.MULTILINE)
_STATUS = re.compile(r"(?<![\d.])([245]\.\d{1,3}\.\d{1,3})(?![\d.])")
_ADDRESS = r"[^\s<>\"'(),;:@]+@[A-Za-z0-9.-]+\.[A-Za-z0-9-]+"
_ANGLED_RECIPIENT = re.compile(rf"^<({_ADDRESS})>:", re.MULTILINE)
_AFTER_FAILURE = re.compile(
    rf"(?:failed:|failed permanently:|recipients or groups:|following recipients?:|undeliverable to|"
    rf"delivered to|delivery to|your message to)[\s:]*(?:<)?({_ADDRESS})",
    re.IGNORECASE,
)
_SMTP_LINE = re.compile(r"^.*\b[45]\d\d[ -](?:[245]\.\d{1,3}\.\d{1,3})?.*$", re.MULTILINE)
_MESSAGE_ID = re.compile(r"^Message-ID:[ \t]*(<[^<>\s]+>)", re.IGNORECASE | re.MULTILINE)


def looks_like_bounce(content_type: str, report_type: str, has_report: bool, sender: Address | None,
                      subject: str, body: str) -> bool:
    """True for a delivery report, standard or not."""
    if has_report or (content_type == "multipart/report" and report_type == "delivery-status"):
        return True
    # Senders of bounces; postmaster too: it is not a person who opens tickets.
    local = _mailbox_name(sender)
    if local in _DAEMONS or _BOUNCE_SUBJECTS.match(subject):
        return True
    top = body[:_BODY_WINDOW].lower()
    return any(phrase in top for phrase in _BOUNCE_PHRASES)


def _mailbox_name(sender: Address | None) -> str:
    """The local part of the sender's address; for a domain-less From ("MAILER-DAEMON (Mail Delivery
    System)") the first word of the name, where the sender module keeps it."""
    if sender is None:
        return ""
    if sender.email:
        return sender.email.split("@", 1)[0]
    return (sender.name.split() or [""])[0].lower()


def bounce_details(delivery_status: str | None, returned: list[str], body: str) -> Bounce:
    """What failed, from the DSN fields when there are any, else from the text."""
    if delivery_status:
        recipient, status, diagnostic = _from_report(delivery_status)
    else:
        recipient, status, diagnostic = None, None, None
    text = body[:50000]
    recipient = recipient or _recipient_from_text(text)
    if status is None:
        found = _STATUS.search(text)
        status = found.group(1) if found else None
    if diagnostic is None:
        line = _SMTP_LINE.search(text)
        diagnostic = line.group(0).strip() if line else None
    original = None
    for source in [*returned, text]:
        found = _MESSAGE_ID.search(source or "")
        if found:
            original = found.group(1)
            break
    return Bounce(recipient, status, diagnostic, original)


def _from_report(report: str) -> tuple[str | None, str | None, str | None]:
    """Recipient, status and diagnostic of the first failed recipient block."""
    blocks = [dict((k.lower(), v.strip()) for k, v in _FIELD.findall(block)) for block in re.split(r"\n\s*\n", report)]
    recipients = [b for b in blocks if "final-recipient" in b or "original-recipient" in b]
    if not recipients:
        return None, None, None
    failed = [b for b in recipients if b.get("action", "").lower() == "failed"]
    chosen = (failed or recipients)[0]
    address = chosen.get("final-recipient") or chosen.get("original-recipient") or ""
    address = address.split(";", 1)[-1].strip().strip("<>").lower() or None
    status = _STATUS.search(chosen.get("status", ""))
    diagnostic = chosen.get("diagnostic-code", "").split(";", 1)[-1].strip() or None
    return address, status.group(1) if status else None, diagnostic


def _recipient_from_text(text: str) -> str | None:
    for pattern in (_ANGLED_RECIPIENT, _AFTER_FAILURE):
        found = pattern.search(text)
        if found:
            return found.group(1).lower()
    return None
