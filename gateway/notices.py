"""Texts of the mail the gateway writes on its own.

Only wording lives here; who gets a notice and when is decided by the
module that sends it.  Each function returns (subject, text); the subject
is tagged `[REF]` by composition.
"""

from __future__ import annotations

from storage.models import Account, Ticket


def acknowledgement(ticket: Ticket, account: Account) -> tuple[str, str]:
    """Sent once to the requester of a new ticket."""
    text = (
        f"Hello,\n\n"
        f"thank you for your message. We have received it and opened request {ticket.ref}.\n"
        f"To add anything, simply reply to this mail and keep {ticket.ref} in the subject.\n\n"
        f"{account.name}"
    )
    return ticket.subject, text
