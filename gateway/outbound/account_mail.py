"""Mail from an account to one person about no single ticket (a sign-in link, a digest), through the outbox.

It leaves like every other mail: rendered now, Message-ID recorded, a
VERP return path, delivered by the delivery actor; only the ticket's
threading, reply token and chain line have nothing to say here.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from gateway.outbound.compose import Draft, new_message_id, render_bytes, thread_index
from gateway.outbound.outbox import bounce_mailbox, keep_rendered
from gateway.core.runtime import Runtime
from storage.models import Account, OutboxItem, utcnow
from storage.repositories import first_inbound_address


def queue_account_mail(session: Session, runtime: Runtime, account: Account, to_name: str, to_email: str, *,
                       kind: str, subject: str, text: str) -> OutboxItem:
    """Render and queue one automatic mail from `account`'s first address; returns the flushed row."""
    config = runtime.config
    from_email = first_inbound_address(session, account.id)
    if from_email is None:
        raise ValueError(f"account {account.slug} has no inbound address to send from")
    now = utcnow()
    draft = Draft(
        ref="", kind=kind, from_name=account.name, from_email=from_email, to_name=to_name, to_email=to_email,
        reply_to=from_email, subject=subject, text=text, message_id=new_message_id(config.message_id_domain),
        marker="", thread_topic=subject, thread_index=thread_index(f"relaydesk:{kind}:{to_email}", now, now, False),
        hops=1, auto=True, date=now,
    )
    item = OutboxItem(
        kind=kind, channel="email", recipient=to_email.lower(), envelope_from=bounce_mailbox(runtime, from_email),
        rfc_message_id=draft.message_id, payload={"subject": subject},
    )
    keep_rendered(runtime.blobs, item, render_bytes(draft, runtime.blobs.get))
    session.add(item)
    session.flush()
    return item
