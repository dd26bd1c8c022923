"""Who wrote a message that a group or list re-sent under its own address.

Google Groups, Mailman and similar lists rewrite `From` to
"'Name' via Group <group@…>" so the mail passes the author's DMARC policy,
and keep the author in `X-Original-From` and `Reply-To`.  A ticket
gateway must file such mail under the author, not the group, so the
author becomes the sender; the group address is kept as a problem line.
Both headers must name the same author: either alone can be set by anyone,
and ordinary mail that merely has a `Reply-To` keeps its `From`.
"""

from __future__ import annotations

import re

from parsers.message import Address

# "'Name' via Group", "Name via Group": the display name of a rewritten From.
_VIA_GROUP = re.compile(r"\S\s+via\s+\S", re.IGNORECASE)


def group_author(sender: tuple[Address, ...], original_from: tuple[Address, ...],
                 reply_to: tuple[Address, ...], problems: list[str]) -> tuple[Address, ...]:
    """The author behind a group-rewritten From, else `sender` unchanged.

    The author is the Reply-To mailbox whose address X-Original-From
    confirms, when that is another address than the group's.
    """
    if len(sender) != 1 or not _VIA_GROUP.search(sender[0].name):
        return sender
    group = sender[0]
    confirmed = {a.email for a in original_from} - {"", group.email}
    author = next((a for a in reply_to if a.email in confirmed), None)
    if author is None:
        return sender
    problems.append(f"From rewritten by a group or list ({group.name} <{group.email}>); sender taken from the author")
    return (author,)
