"""Scenario steps shared by S1–S4, the four-level chain and the isolation tests.

Each step sends what a person sends, waits for the gateway to finish, checks
the exact mail that had to come out of it, and returns what the next step
needs (the mail that person received, to answer or forward).
"""

from __future__ import annotations

from email.message import EmailMessage

from tests.e2e.harness import Installation, mails_to
from tests.e2e.mail_clients import PDF, File, Outgoing, forward, new_mail, parse
from tests.e2e.people import ALICE, DANA, PARTNER, PAUL, SAM, VENDOR

SUBJECT = "Printer jams on tray 2"
ALICE_TEXT = "Hello,\n\nour printer jams on tray 2 every morning.\n\nAlice"
DANA_NOTE = "Paul, please send a technician. -- Dana"


def only_mail_to(desk: Installation, address: str, since: int) -> EmailMessage:
    """The one mail `address` received since the sink's `since`-th mail (fails on none or several)."""
    got = mails_to(desk.sink.mails[since:], address)
    assert len(got) == 1, f"expected exactly one mail to {address}, got {len(got)}: {[parse(m.raw)['Subject'] for m in got]}"
    return parse(got[0].raw)


def no_mail_to(desk: Installation, address: str, since: int) -> None:
    got = mails_to(desk.sink.mails[since:], address)
    assert got == [], f"{address} must receive nothing here, got {[parse(m.raw)['Subject'] for m in got]}"


def alice_writes(desk: Installation) -> tuple[Outgoing, EmailMessage]:
    """S1.1: alice's mail with a PDF → VND-1; returns her mail and the acknowledgement."""
    mail = new_mail(ALICE, [VENDOR], SUBJECT, ALICE_TEXT, files=[File("jam-report.pdf", PDF, "application/pdf")])
    desk.send(mail)
    desk.settle()
    return mail, only_mail_to(desk, ALICE.email, 0)


HOSTED_DOMAINS = ("vendor.example", "partner.example", "regional.example")


def deliver_per_domain(desk: Installation, mail: Outgoing) -> None:
    """Deliver like the sender's MTA: one SMTP transaction per recipient domain that the gateway hosts."""
    by_domain: dict[str, list[str]] = {}
    for rcpt in mail.rcpt_tos:
        by_domain.setdefault(rcpt.rpartition("@")[2].lower(), []).append(rcpt)
    for domain, rcpts in by_domain.items():
        if domain in HOSTED_DOMAINS:
            desk.send(mail, rcpt_tos=rcpts)


def dana_hands_to_partner(desk: Installation, alices_mail: Outgoing) -> EmailMessage:
    """S2.2: dana forwards alice's mail Outlook-style to the partner, Cc support; returns paul's notice."""
    since = len(desk.sink.mails)
    deliver_per_domain(desk, forward(alices_mail.message, DANA, [PARTNER], DANA_NOTE, client="outlook", cc=[VENDOR]))
    desk.settle()
    no_mail_to(desk, ALICE.email, since)
    return only_mail_to(desk, "paul@partner.example", since)


def paul_hands_to_subco(desk: Installation, notice: EmailMessage) -> tuple[Outgoing, EmailMessage]:
    """S3.2: paul forwards PTN-1 to sam, Cc the partner's address; returns his forward and sam's notice."""
    since = len(desk.sink.mails)
    paul_forward = forward(notice, PAUL, [SAM.email], "Sam, can you take this one? Paul", client="outlook", cc=[PARTNER])
    deliver_per_domain(desk, paul_forward)  # sam's copy goes straight to subco's mail server, not to us
    desk.settle()
    return paul_forward, only_mail_to(desk, SAM.email, since)
