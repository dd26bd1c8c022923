"""Who sent a message: a From field read leniently, and the author behind a group's rewrite.

Malformed From fields are common in machine mail and old clients: a bare
`MAILER-DAEMON`, an unquoted comma or colon in the display name, an
unbalanced quote or angle bracket, a trailing dot, several addresses.  The
standard address parser then drops the name, splits one mailbox into two or
returns none at all; whatever sender the text still shows is kept instead,
and never nothing where the field has text.

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

from parsers.charset_recovery import MessageCharsets
from parsers.headers import decode_value, normalise_email
from parsers.message import Address

# "'Name' via Group", "Name via Group": the display name of a rewritten From.
_VIA_GROUP = re.compile(r"\S\s+via\s+\S", re.IGNORECASE)
_ADDRESS = re.compile(r"[^\s<>\"'(),;:\[\]]+@[\w-]+(?:\.[\w-]+)*\.?")
_NOT_IN_ADDRESS = re.compile(r"[\s<>\"(),;:\[\]\\]")
_QUOTED = re.compile(r'"[^"]*"|=\?[^?\s]+\?[bBqQ]\?[^?\s]*\?=')
_NAME_NOISE = re.compile(r"mailto:|[<>\"()\[\]]")
_SPACES = re.compile(r"\s+")


def from_mailboxes(values: list[object], parsed: tuple[Address, ...], parse_problems: list[str],
                   charsets: MessageCharsets | None, problems: list[str]) -> tuple[Address, ...]:
    """The From mailboxes: the standard reading when it kept the sender whole, else a lenient one."""
    first = values[0] if values else None
    if len(parsed) == 1 and not parse_problems and isinstance(first, str) and ":" not in first \
            and not _NOT_IN_ADDRESS.search(parsed[0].email):
        return parsed  # one clean mailbox and no colon to have been read as a group: most mail
    text, _ = decode_value(first, charsets) if first is not None else ("", [])
    if not text or (len(parsed) >= 1 and not _lost_something(text, parsed, parse_problems)):
        problems.extend(parse_problems)
        if len(parsed) > 1:
            problems.append(f"{len(parsed)} addresses in From; the first is taken as the sender")
        return parsed
    recovered = _lenient_mailbox(text)
    problems.append(f"malformed From {text[:80]!r}; sender read as {recovered.name!r} <{recovered.email}>")
    return (recovered,)


def _lost_something(text: str, parsed: tuple[Address, ...], parse_problems: list[str]) -> bool:
    """Whether the standard reading dropped part of a From: a piece without domain, a name cut at
    a colon (read as a group), an address holding what no address can."""
    if any(problem.startswith("address without domain") for problem in parse_problems):
        return True
    if any(_NOT_IN_ADDRESS.search(address.email) for address in parsed):
        return True
    unquoted = _QUOTED.sub("", text)
    return ":" in unquoted.split("@", 1)[0]


def _lenient_mailbox(text: str) -> Address:
    """The first mailbox a From text shows, however it is written; its name is the rest of the text."""
    found = _ADDRESS.search(text)
    if found is None:
        # No address to answer (MAILER-DAEMON, a scanner's name): the text is kept as the name.
        return Address(_SPACES.sub(" ", text.replace("<", " ").replace(">", " ")).strip(" ,;:."), "")
    email = normalise_email(found.group(0).rstrip("."))
    several = _ADDRESS.search(text, found.end()) is not None
    name = text[:found.start()] if several else text[:found.start()] + " " + text[found.end():]
    name = _clean_name(name)
    return Address("" if name.lower() == email else name, email)


def _clean_name(name: str) -> str:
    """A display name without brackets, quotes and the separators left around it."""
    return _SPACES.sub(" ", _NAME_NOISE.sub(" ", name)).strip(" ,;:.")


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
