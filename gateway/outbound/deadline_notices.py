"""Wording of the mail partner terms cause: reminders to the partner, escalations to the handing account.

Only text lives here; who gets it and when is decided in
gateway/flows/deadline_alerts.py.  Times are shown in the terms' own zone,
the one the partner's business hours are written in.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from storage.deadline_models import Deadline
from storage.models import Link, Ticket

_WHAT = {"accept": "answer", "resolve": "resolve"}
_DONE = {"accept": "answered", "resolve": "resolved"}


def local_time(instant: datetime | None, zone: str) -> str:
    """`Mon 2026-03-02 13:00 CET` in the terms' zone."""
    if instant is None:
        return "(paused)"
    return instant.astimezone(ZoneInfo(zone)).strftime("%a %Y-%m-%d %H:%M %Z")


def reminder(link: Link, deadline: Deadline, zone: str) -> tuple[str, str]:
    """To the partner's side: the time to answer or resolve is running out."""
    what = _WHAT[deadline.kind]
    text = (
        f"Reminder: {link.parent.account.name} handed over {link.child.ref} on "
        f"{local_time(link.created_at, zone)} and asks you to {what} it by {local_time(deadline.due_at, zone)} "
        f"(its terms: {deadline.terms.get(f'{deadline.kind}_within')}).\n\n"
        f"Reply to this mail to answer {link.parent.account.name}; keep {link.child.ref} in the subject."
    )
    return link.child.subject, text


def escalation(link: Link, deadline: Deadline, zone: str, moved_to: Ticket | None) -> tuple[str, str]:
    """To the handing account's agents: a partner missed a deadline (and where the work went, if moved)."""
    partner = link.child.account.name
    text = (
        f"{partner} has not {_DONE[deadline.kind]} {link.child.ref} within its terms "
        f"({deadline.terms.get(f'{deadline.kind}_within')}, due {local_time(deadline.due_at, zone)}); "
        f"it was handed over from {link.parent.ref} on {local_time(link.created_at, zone)}."
    )
    if moved_to is not None:
        text += (
            f"\n\n{link.child.ref} has been recalled and the work handed to {moved_to.account.name} as "
            f"{moved_to.ref}, with the same note and files. Both partners have been told; "
            f"the customer of {link.parent.ref} has not been written to."
        )
    else:
        text += f"\n\n{link.parent.ref} is waiting on {partner}: chase them, or recall the work with #recall."
    return link.parent.subject, text
