"""Walk the chain a ticket belongs to and render it for people and for headers.

A chain is a tree of links from one root ticket.  `chain_entries` lists the
whole tree depth first (the `chain` of `relaydesk show --json`); the
one-line rendering used in mail shows every root-to-leaf path that passes
through the ticket, so a dispatcher reading a partner's update sees exactly
the hops that matter to it.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from gateway.core import clock
from gateway.desk import deadlines
from storage import repositories
from storage.models import Link, Ticket

ARROW = " → "
# A chain longer than this is a data error (a cycle cannot be created through
# handoffs, but a hand-edited database could hold one); stop instead of looping.
MAX_DEPTH = 64


@dataclass(frozen=True)
class ChainEntry:
    """One ticket of a chain, as shown to people and in JSON."""

    ref: str
    account: str
    account_name: str
    status: str
    depth: int
    parent_ref: str | None
    overdue: bool = False  # its link missed a deadline and the partner still holds the work

    def to_json(self) -> dict[str, object]:
        return {"ref": self.ref, "account": self.account, "status": self.status, "depth": self.depth}

    def label(self) -> str:
        overdue = ", overdue" if self.overdue else ""
        return f"{self.ref} ({self.account_name}, {self.status}{overdue})"


def root_of(session: Session, ticket: Ticket) -> Ticket:
    """The topmost ticket of `ticket`'s chain (itself when it has no parent)."""
    current = ticket
    for _ in range(MAX_DEPTH):
        link = repositories.parent_link(session, current.id)
        if link is None:
            return current
        current = link.parent
    return current


def chain_entries(session: Session, ticket: Ticket) -> list[ChainEntry]:
    """The whole chain `ticket` belongs to, from its root, depth first."""
    root = root_of(session, ticket)
    found: list[tuple[Ticket, int, Link | None]] = []
    stack: list[tuple[Ticket, int, Link | None]] = [(root, 0, None)]
    seen: set[int] = set()
    while stack:
        current, depth, link = stack.pop()
        if current.id in seen or depth > MAX_DEPTH:
            continue
        seen.add(current.id)
        found.append((current, depth, link))
        stack.extend((child.child, depth + 1, child)
                     for child in reversed(repositories.child_links(session, current.id)))
    overdue = _overdue_links(session, [link for _, _, link in found if link is not None])
    return [_entry(current, depth, link, link is not None and link.id in overdue) for current, depth, link in found]


def _overdue_links(session: Session, links: list[Link]) -> set[int]:
    """Links whose partner still holds work past a deadline (one query for the whole chain)."""
    active = [link.id for link in links if link.state in ("handed_off", "accepted")]
    found = deadlines.by_link(session, active)
    now = clock.now()
    return {link_id for link_id, ds in found.items() if deadlines.is_overdue(ds, now)}


def paths_through(entries: list[ChainEntry], ref: str) -> list[list[ChainEntry]]:
    """Every root-to-leaf path of the chain that contains `ref`."""
    by_ref = {e.ref: e for e in entries}
    has_children = {e.parent_ref for e in entries if e.parent_ref}
    paths: list[list[ChainEntry]] = []
    for leaf in (e for e in entries if e.ref not in has_children):
        path = [leaf]
        while path[-1].parent_ref is not None and path[-1].parent_ref in by_ref:
            path.append(by_ref[path[-1].parent_ref])
        path.reverse()
        if any(e.ref == ref for e in path):
            paths.append(path)
    return paths


def chain_line(session: Session, ticket: Ticket) -> str:
    """`VND-1 (Vendor Ltd, open) → PTN-1 (Partner GmbH, resolved)`; branches joined by `; `."""
    return line_through(chain_entries(session, ticket), ticket.ref)


def line_through(entries: list[ChainEntry], ref: str) -> str:
    """The chain line of the ticket `ref` from the chain's entries."""
    return "; ".join(ARROW.join(e.label() for e in path) for path in paths_through(entries, ref))


def chain_headers(ticket: Ticket, entries: list[ChainEntry]) -> dict[str, str]:
    """The X-Relaydesk-* headers every mail about `ticket` carries (the composer adds the ticket's).

    `X-Relaydesk-Chain` is machine-readable, `VND-1=open, PTN-1=resolved`:
    ASCII only (refs and statuses are), depth first from the root, so another
    installation can read every ticket's status without decoding anything.
    """
    return {
        "X-Relaydesk-Status": ticket.status,
        "X-Relaydesk-Chain": ", ".join(f"{e.ref}={e.status}" for e in entries),
    }


def _entry(ticket: Ticket, depth: int, link: Link | None, overdue: bool) -> ChainEntry:
    return ChainEntry(
        ref=ticket.ref,
        account=ticket.account.slug,
        account_name=ticket.account.name,
        status=ticket.status,
        depth=depth,
        parent_ref=link.parent.ref if link is not None else None,
        overdue=overdue,
    )
