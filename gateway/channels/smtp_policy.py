"""Who may hand mail to the SMTP listener: the decisions, without the protocol.

The listener is never an open relay: a recipient is accepted only when it is
an inbound address of a hosted account, its plus form (`support+TOKEN@…`,
which carries reply tokens), or the operator's bounce mailbox and its VERP
forms (`bounces+<outbox id>-<sig>@…`, where delivery failures come back;
a correctly signed VERP address is ours whatever its mailbox, since the
outbox builds it on `bounces@<sending domain>` when no bounce mailbox is set).
"""

from __future__ import annotations

from gateway.core.config import Config
from gateway.core.tokens import read_verp_address, split_plus


class RecipientPolicy:
    """Answers "is this an address we receive for?" from the configured accounts."""

    def __init__(self, config: Config) -> None:
        self._mailboxes = frozenset(config.hosted_addresses)
        bounce = config.outbound.bounce_address
        self._bounce = _base(bounce) if bounce else None
        self._secret = config.security.secret

    def accepts(self, address: str) -> bool:
        base = _base(address)
        if base in self._mailboxes or (self._bounce is not None and base == self._bounce):
            return True
        return read_verp_address(self._secret, address) is not None


def _base(address: str) -> str:
    """`Local+tag@Domain` → `local@domain`."""
    local, _, domain = split_plus(address)
    return f"{local}@{domain}"
