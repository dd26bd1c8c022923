"""Is this mail a handoff, and to whom?  A pure decision over config and the parsed mail.

A dispatcher hands a ticket over the way they always did: by forwarding the
customer's mail to a partner (with the gateway in Cc or Bcc, or seen in the
Sent folder), or by writing `#handoff <partner> [note]`.  The caller has
already established that the sender is an agent of the owning account and
which ticket the mail threads to; this module only answers "which partner,
at which address, with which note".
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from gateway.core.accounts import account_matches
from gateway.core.config import AccountConfig, Config
from gateway.desk.adhoc_partners import (
    PUBLIC_MAILBOX_DOMAINS,
    adhoc_settings,
    is_outside,
)
from gateway.flows.rejections import UnknownPartner
from parsers.message import Command, ParsedMessage

HANDOFF_COMMAND = "handoff"


@dataclass(frozen=True)
class HandoffIntent:
    """A detected handoff: the partner account, the address the dispatcher used, the note.

    `adhoc` marks a partner nobody configured, whose account the handoff makes.
    """

    partner: AccountConfig
    address: str
    note: str
    by_command: bool
    adhoc: bool = False


def recipients(parsed: ParsedMessage, envelope_rcpts: Iterable[str] = ()) -> list[str]:
    """To, Cc and the envelope recipients (a Bcc shows only there), lower-case, once each."""
    found = [a.email for a in (*parsed.to, *parsed.cc)] + [r.strip().lower() for r in envelope_rcpts]
    return list(dict.fromkeys(e for e in found if e))


def detect_handoff(
    parsed: ParsedMessage,
    owner: AccountConfig,
    config: Config,
    envelope_rcpts: Sequence[str] = (),
    participants: Iterable[str] = (),
) -> HandoffIntent | None:
    """The handoff `parsed` asks for, or None when it is not one.

    `owner` is the account of the ticket the mail threads to (its sender is
    one of owner's agents).  Raises UnknownPartner when `#handoff` names an
    account that is not one of owner's partners.
    """
    command = _handoff_command(parsed.commands)
    addressed = recipients(parsed, envelope_rcpts)
    if command is not None:
        return _by_command(parsed, command, owner, config, addressed)
    if parsed.forward is None:
        return None
    for partner in _partners(owner, config):
        address = _first_match(partner, addressed)
        if address is not None:
            return HandoffIntent(partner, address, parsed.forward.note.strip(), by_command=False)
    if owner.allow_external_handoff:
        return _external(parsed, owner, config, addressed, set(participants))
    return None


def _by_command(parsed: ParsedMessage, command: Command, owner: AccountConfig, config: Config,
                addressed: list[str]) -> HandoffIntent:
    slug = command.args[0].lower() if command.args else ""
    parts = [command.args[1] if len(command.args) > 1 else "", parsed.forward.note if parsed.forward else parsed.text]
    note = "\n\n".join(part.strip() for part in parts if part and part.strip())
    if "@" in slug and owner.allow_external_handoff:
        return _to_address(slug, owner, config, note)
    if slug not in owner.partners:
        raise UnknownPartner(slug or "(no partner named)")
    partner = config.account(slug)
    address = _first_match(partner, addressed) or default_address(partner)
    return HandoffIntent(partner, address, note, by_command=True)


def _to_address(address: str, owner: AccountConfig, config: Config, note: str) -> HandoffIntent:
    """`#handoff someone@example.com`: a configured external account's address, or an outside one."""
    account = _configured_external(config, owner, address)
    if account is not None:
        return HandoffIntent(account, address, note, by_command=True)
    if not is_outside(config, address):
        raise UnknownPartner(f"{address} (an address of this installation)")
    return HandoffIntent(adhoc_settings(address), address, note, by_command=True, adhoc=True)


def _external(parsed: ParsedMessage, owner: AccountConfig, config: Config, addressed: list[str],
              participants: set[str]) -> HandoffIntent | None:
    """With allow_external_handoff: a configured external account addressed by the forward, else any outside address.

    Addresses of hosted accounts (and anyone at their domains), of the owner
    itself and of the ticket's participants never count — forwarding to a
    colleague or back to the customer is not a handoff.  Nor does, for a
    partner nobody configured, anyone at a participant's own company domain.
    """
    candidates = [a for a in addressed if a not in participants]
    note = parsed.forward.note.strip() if parsed.forward else ""
    for address in candidates:
        account = _configured_external(config, owner, address)
        if account is not None:
            return HandoffIntent(account, address, note, by_command=False)
    outside = next((a for a in candidates if is_outside(config, a) and not _colleague(a, participants)), None)
    if outside is None:
        return None
    name = next((a.name for a in (*parsed.to, *parsed.cc) if a.email == outside), "")
    return HandoffIntent(adhoc_settings(outside, name), outside, note, by_command=False, adhoc=True)


def _configured_external(config: Config, owner: AccountConfig, address: str) -> AccountConfig | None:
    """The configured external account (other than the owner) that `address` belongs to."""
    return next((a for a in config.accounts
                 if a.kind == "external" and a.slug != owner.slug and account_matches(a, address)), None)


def _colleague(address: str, participants: set[str]) -> bool:
    """`address` shares a company domain (not a public mailbox provider) with a participant."""
    domain = address.rpartition("@")[2]
    return domain not in PUBLIC_MAILBOX_DOMAINS and any(p.rpartition("@")[2] == domain for p in participants)


def _partners(owner: AccountConfig, config: Config) -> list[AccountConfig]:
    return [config.account(slug) for slug in owner.partners]


def _first_match(account: AccountConfig, addressed: Iterable[str]) -> str | None:
    return next((a for a in addressed if account_matches(account, a)), None)


def default_address(account: AccountConfig) -> str:
    """Where a `#handoff` sent to the gateway alone goes: the partner's first address or agent."""
    if account.addresses:
        return account.addresses[0]
    emails = [agent.email for agent in account.agents if agent.email]
    if emails:
        return emails[0]
    raise UnknownPartner(f"{account.slug} (no address to reach it)")


def _handoff_command(commands: Sequence[Command]) -> Command | None:
    return next((c for c in commands if c.name == HANDOFF_COMMAND), None)
