"""Who may hand mail to the SMTP listener: the decisions, without the protocol.

The listener is never an open relay: a recipient is accepted only when it is
an inbound address of a hosted account, its plus form (`support+TOKEN@…`,
which carries reply tokens), or the operator's bounce mailbox and its VERP
forms (`bounces+<outbox id>-<sig>@…`, where delivery failures come back;
a correctly signed VERP address is ours whatever its mailbox, since the
outbox builds it on `bounces@<sending domain>` when no bounce mailbox is set).
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict, deque

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


class SenderRateLimiter:
    """At most `per_hour` accepted messages per envelope sender, in a sliding hour.

    Kept in memory per ingress process: it protects the pipeline from one
    runaway sender or a mail loop, not a billing quota, so an approximate
    count after a restart is fine.
    """

    WINDOW_SECONDS = 3600.0

    def __init__(self, per_hour: int) -> None:
        self.per_hour = per_hour
        self._accepted: defaultdict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def allows(self, sender: str) -> bool:
        key = sender.lower()
        with self._lock:
            stamps = self._accepted.get(key)
            if stamps is None:
                return True
            horizon = time.monotonic() - self.WINDOW_SECONDS
            while stamps and stamps[0] < horizon:
                stamps.popleft()
            if not stamps:
                del self._accepted[key]  # idle senders do not accumulate
            return len(stamps) < self.per_hour

    def record(self, sender: str) -> None:
        with self._lock:
            self._accepted[sender.lower()].append(time.monotonic())
