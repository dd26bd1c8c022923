"""Which ticket does an inbound message belong to? (SPEC §4)

The rules run in order and the first that matches wins:

1. a verified reply token in any recipient address (`support+TOKEN@…`);
2. In-Reply-To / References matching a Message-ID we stored or sent;
   2b. another relaydesk's `X-Relaydesk-Ticket` that our ticket learnt (gateway.pipeline.federation);
3. a subject tag `[PREFIX-N]` of a ticket the receiving account hosts;
   3b. a signed body marker `[ref:PREFIX-N:sig]` from our own outbound mail;
   3c. a partner fingerprint (ServiceNow, Jira, configured profiles);
4. for a forward, the recovered original (see `RULES`, provided by the
   forward-matching module);
5. otherwise: a new ticket in the receiving account.

Every lookup is scoped to the receiving account: a token, Message-ID or tag
of another account is simply not found.  "Hosts" covers the account's own
tickets and those of external partners it keeps (`hosting_account`).  Whether the sender may *act* on the
matched ticket (participant or not) is decided by the pipeline, not here.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from gateway.core.tokens import find_body_marker, find_reply_tokens
from gateway.desk.tickets import hosting_account
from gateway.pipeline.federation import ticket_for_remote
from gateway.pipeline.fingerprints import Fingerprint, external_id
from gateway.pipeline.forward_match import ticket_of_forwarded_original
from parsers.message import ParsedMessage
from storage.models import Account, Participant, Ticket
from storage.repositories import (
    ticket_by_external_id,
    ticket_by_message_ids,
    ticket_by_ref,
)

# Clients append to References forever; the oldest ids (the thread's root) and
# the newest (what is being answered) are the ones worth trusting.
TRUSTED_REFERENCES_HEAD = 5
TRUSTED_REFERENCES_TAIL = 5
_SUBJECT_TAG = re.compile(r"\[([A-Z][A-Z0-9]{0,9})-(\d+)\]")


@dataclass(frozen=True)
class ThreadQuery:
    """Everything threading reads; built once per inbound message."""

    session: Session
    secret: str
    account: Account
    parsed: ParsedMessage
    recipients: tuple[str, ...]
    fingerprints: tuple[Fingerprint, ...]


@dataclass(frozen=True)
class ThreadMatch:
    """The outcome: an existing ticket (or None for a new one) and the rule that decided.

    `participant` is set by rule 1 (the token names who was written to);
    `external_id` whenever a partner fingerprint was recognised, so a new
    ticket carries it and an existing one learns it.
    """

    ticket: Ticket | None
    rule: str
    participant: Participant | None = None
    external_id: str | None = None


Rule = Callable[[ThreadQuery], ThreadMatch | None]


def _hosted_here(query: ThreadQuery, ticket: Ticket | None) -> Ticket | None:
    """The ticket if the receiving account hosts it (its own, or an external account's it keeps)."""
    if ticket is None or hosting_account(query.session, ticket).id != query.account.id:
        return None
    return ticket


def by_reply_token(query: ThreadQuery) -> ThreadMatch | None:
    for _, token in find_reply_tokens(query.secret, query.recipients):
        ticket = _hosted_here(query, query.session.get(Ticket, token.ticket_id))
        participant = query.session.get(Participant, token.participant_id)
        if ticket is not None and participant is not None and participant.ticket_id == ticket.id:
            return ThreadMatch(ticket, "token", participant=participant)
    return None


def trusted_references(parsed: ParsedMessage) -> list[str]:
    """In-Reply-To, then the newest and the oldest References, without repeats."""
    refs = list(parsed.references)
    candidates = ([parsed.in_reply_to] if parsed.in_reply_to else []) + refs[::-1][:TRUSTED_REFERENCES_TAIL]
    candidates += refs[:TRUSTED_REFERENCES_HEAD]
    return list(dict.fromkeys(candidates))


def by_references(query: ThreadQuery) -> ThreadMatch | None:
    ticket = ticket_by_message_ids(query.session, query.account.id, trusted_references(query.parsed))
    return ThreadMatch(ticket, "references") if ticket is not None else None


def subject_refs(subject: str) -> list[str]:
    """Refs `PREFIX-N` tagged in the subject, in order."""
    return [f"{p}-{n}" for p, n in _SUBJECT_TAG.findall(subject or "")]


def by_subject_tag(query: ThreadQuery) -> ThreadMatch | None:
    for ref in subject_refs(query.parsed.subject):
        ticket = _hosted_here(query, ticket_by_ref(query.session, ref))
        if ticket is not None:
            return ThreadMatch(ticket, "subject")
    return None


def by_body_marker(query: ThreadQuery) -> ThreadMatch | None:
    ref = find_body_marker(query.secret, (query.parsed.text, query.parsed.elided))
    ticket = _hosted_here(query, ticket_by_ref(query.session, ref)) if ref else None
    return ThreadMatch(ticket, "marker") if ticket is not None else None


def by_fingerprint(query: ThreadQuery) -> ThreadMatch | None:
    found = external_id(query.parsed, query.fingerprints)
    ticket = ticket_by_external_id(query.session, query.account.id, found) if found else None
    return ThreadMatch(ticket, "fingerprint", external_id=found) if ticket is not None else None


def by_remote_ref(query: ThreadQuery) -> ThreadMatch | None:
    ticket = ticket_for_remote(query.session, query.account, query.parsed)
    return ThreadMatch(ticket, "relaydesk_ref") if ticket is not None else None


def by_forwarded_original(query: ThreadQuery) -> ThreadMatch | None:
    ticket = ticket_of_forwarded_original(query.session, query.account, query.parsed)
    return ThreadMatch(ticket, "forward") if ticket is not None else None


# The rules in order.
RULES: list[Rule] = [
    by_reply_token, by_references, by_remote_ref, by_subject_tag, by_body_marker, by_fingerprint,
    by_forwarded_original,
]


def find_thread(query: ThreadQuery, rules: Sequence[Rule] = RULES) -> ThreadMatch:
    """The first rule's match, else "new"; a partner fingerprint is kept on either, so a
    new ticket carries the external id and an existing one learns it."""
    for rule in rules:
        match = rule(query)
        if match is not None:
            return _with_external_id(query, match)
    return _with_external_id(query, ThreadMatch(None, "new"))


def _with_external_id(query: ThreadQuery, match: ThreadMatch) -> ThreadMatch:
    if match.external_id is not None or not query.fingerprints:
        return match
    found = external_id(query.parsed, query.fingerprints)
    if found is None:
        return match
    return ThreadMatch(match.ticket, match.rule, match.participant, found)
