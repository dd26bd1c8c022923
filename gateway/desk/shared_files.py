"""Files shared between tickets by reference: one blob, several attachment rows.

A handoff gives the child the parent's files and a mirrored message keeps
its files; the bytes stay where they are in the content-addressed blob
store, only rows pointing at the same sha256 are added.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session

from storage.models import Attachment, Message


def copy_attachments(session: Session, files: Sequence[Attachment], target: Message) -> list[Attachment]:
    """New attachment rows on `target` pointing at the same blobs: nothing is copied on disk."""
    rows = [
        Attachment(message=target, message_id=target.id, filename=f.filename, content_type=f.content_type, size=f.size,
                   sha256=f.sha256, inline=f.inline, content_id=f.content_id, stored=f.stored)
        for f in files
    ]
    session.add_all(rows)
    session.flush()
    return rows
