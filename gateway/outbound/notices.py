"""Texts of the mail the gateway writes on its own.

Only wording lives here; who gets a notice and when is decided by the
module that sends it.  Each function returns (subject, text); the subject
is tagged `[REF]` by composition.
"""

from __future__ import annotations

from storage.models import Account, Message, Ticket


def acknowledgement(ticket: Ticket, account: Account) -> tuple[str, str]:
    """Sent once to the requester of a new ticket."""
    text = (
        f"Hello,\n\n"
        f"thank you for your message. We have received it and opened request {ticket.ref}.\n"
        f"To add anything, simply reply to this mail and keep {ticket.ref} in the subject.\n\n"
        f"{account.name}"
    )
    return ticket.subject, text


def chat_message_notice(ticket: Ticket, author: str, text: str, files: int) -> tuple[str, str]:
    """To the account's agents: a customer wrote in the Telegram chat; replying by mail answers there."""
    attached = f"\n\n({files} file(s) attached)" if files else ""
    return ticket.subject, (
        f"{author or 'The customer'} wrote on Telegram about {ticket.ref}:\n\n{text or '(no text)'}{attached}\n\n"
        f"Reply to this mail to answer in the chat."
    )


def chat_reply(ticket: Ticket, message: Message) -> str:
    """An agent's answer as the customer sees it in the chat (its files follow as documents)."""
    return f"{ticket.ref} · {message.from_name or 'Support'}:\n{message.text}"


def chat_update(ticket: Ticket, text: str) -> str:
    """An update along the chain (a partner's answer) as a customer sees it in the chat."""
    return f"{ticket.ref}:\n{text}"
