"""The IMAP channel's state per folder: cursor, first connection, first sync; and what of a mailbox waits.

Kept apart from `repositories` (the desk's and pipeline's queries): only the
IMAP poller and the pipeline's Sent-folder rule read these.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from storage.channel_models import ImapFolder
from storage.models import InboxItem, utcnow


def imap_cursor(session: Session, mailbox: str, folder: str, uidvalidity: int, now: datetime) -> ImapFolder:
    """The folder's cursor row, made at its first connection (`connected_at` = `now`).

    A new UIDVALIDITY starts the UIDs over (last_uid 0); the folder keeps
    its first connection time, so what was history stays history.
    """
    row = session.scalar(select(ImapFolder).where(ImapFolder.mailbox == mailbox, ImapFolder.folder == folder))
    if row is None:
        row = ImapFolder(mailbox=mailbox, folder=folder, uidvalidity=uidvalidity, last_uid=0, connected_at=now,
                         checked_at=utcnow())
        session.add(row)
        session.flush()
        return row
    row.checked_at = utcnow()  # the folder answered: health tells a silent folder from a quiet one
    if row.uidvalidity != uidvalidity:
        row.uidvalidity, row.last_uid = uidvalidity, 0
    return row


def imap_first_sync_pending(session: Session, mailbox: str, folders: Sequence[str]) -> bool:
    """Has one of `folders` of `mailbox` not finished (or not begun) its first sync?

    A folder connected before first syncs were recorded counts as synced.
    """
    rows = {row.folder: row for row in session.scalars(
        select(ImapFolder).where(ImapFolder.mailbox == mailbox, ImapFolder.folder.in_(list(folders))))}
    return any(folder not in rows or (rows[folder].connected_at is not None and rows[folder].synced_at is None)
               for folder in folders)


def imap_items_waiting(session: Session, mailbox: str, folders: Sequence[str], except_id: int) -> bool:
    """Is mail of `folders` of `mailbox` stored but not yet applied (other than item `except_id`)?"""
    prefixes = [f"{mailbox}/{folder}/" for folder in folders]
    found = session.scalar(
        select(InboxItem.id).where(
            InboxItem.channel == "imap", InboxItem.status == "pending", InboxItem.id != except_id,
            or_(*(InboxItem.dedupe_key.startswith(prefix, autoescape=True) for prefix in prefixes)),
        ).limit(1)
    )
    return found is not None


def mark_imap_synced(session: Session, mailbox: str, folder: str, now: datetime) -> bool:
    """Record the end of the folder's first sync; True the first time."""
    row = session.scalar(select(ImapFolder).where(ImapFolder.mailbox == mailbox, ImapFolder.folder == folder))
    if row is None or row.synced_at is not None:
        return False
    row.synced_at = now
    return True


def advance_imap_cursor(session: Session, mailbox: str, folder: str, uid: int) -> None:
    """Record `uid` as imported (never moves the cursor back)."""
    row = session.scalar(select(ImapFolder).where(ImapFolder.mailbox == mailbox, ImapFolder.folder == folder))
    if row is not None and uid > row.last_uid:
        row.last_uid = uid
