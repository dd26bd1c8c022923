"""Wording of the mail the linked-ticket flow writes: handoffs, relayed updates, ratings.

Only text lives here; who receives which notice is decided in handoff,
mirroring and mail_commands.  Each function returns (subject, text); the
composer tags the subject with `[REF]` and appends the chain line.
"""

from __future__ import annotations

from storage.models import Link, Ticket


def handoff_notice(child: Ticket, parent: Ticket, from_name: str, note: str, description: str,
                   contact: str | None) -> tuple[str, str]:
    """To the partner: a new request handed over, with everything needed to act on it."""
    lines = [f"{from_name} ({parent.account.name}) has handed over request {parent.ref} to you as {child.ref}.", ""]
    if note:
        lines += [note, ""]
    if description:
        lines += ["Request:", description, ""]
    if contact:
        lines += [f"Customer contact: {contact}", ""]
    if child.asset:
        lines += [f"Asset: {child.asset}", ""]
    lines.append(f"Reply to this mail to answer {parent.account.name}; keep {child.ref} in the subject.")
    return child.subject, "\n".join(lines)


def relayed_update(text: str, via: str | None) -> str:
    """A partner's message passed on up the chain, attributed when the account wants that."""
    return f"{text}\n\n(via {via})" if via else text


def rating_request(link: Link, last_word: str = "") -> tuple[str, str]:
    """To the parent's agents once the partner resolved the child, with the partner's closing words."""
    partner = link.child.account.name
    said = f"{partner} wrote:\n\n{last_word.strip()}\n\n" if last_word.strip() else ""
    text = (
        f"{partner} has resolved {link.child.ref}, which was handed over from {link.parent.ref}.\n\n"
        f"{said}"
        f"How well did {partner} do? Reply to this mail with a line like\n\n"
        f"#rate 4 quick, but no call ahead\n\n"
        f"(1 = poor … 5 = excellent, the comment is optional). {link.parent.ref} stays with you until you close it."
    )
    return link.parent.subject, text


def recalled_notice(link: Link, by: str) -> tuple[str, str]:
    """To the partner: the request was taken back."""
    return link.child.subject, (
        f"{by} ({link.parent.account.name}) has recalled this request; {link.child.ref} is cancelled.\n"
        f"No further work is needed on it."
    )


def declined_notice(link: Link, by: str) -> tuple[str, str]:
    """To the parent's agents: the partner refused or gave up the request."""
    return link.parent.subject, (
        f"{by} ({link.child.account.name}) has declined {link.child.ref}; "
        f"{link.parent.ref} is back with you and needs another partner or your own action."
    )


def parent_closed_notice(link: Link) -> tuple[str, str]:
    """To the partner: the request above was closed, so this one is closed too."""
    return link.child.subject, (
        f"{link.parent.ref} at {link.parent.account.name} is {link.parent.status}, "
        f"so {link.child.ref} has been closed as well. No further work is needed."
    )

