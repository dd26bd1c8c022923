"""One process at a time polls a mailbox or runs a bot's update loop: a lease in the database.

Every `relaydesk serve` may be configured with the same IMAP mailboxes and
bot, and at scale several run at once.  Two pollers of one mailbox would
fetch every mail twice and fight over moves; two Telegram loops make each
other fail.  So each poller holds a lease (storage: `leases`), renews it
while it works, gives it back when it stops, and another process takes
over once it lapses (a killed holder's lease runs out by itself; one that
died on this host, as in a crash and restart, is replaced at once).
"""

from __future__ import annotations

import logging
import os
import socket
import time
import uuid
from datetime import timedelta

from sqlalchemy import update
from sqlalchemy.exc import SQLAlchemyError

from gateway.channels.channel_thread import in_thread
from gateway.core.runtime import Runtime
from storage.availability import is_unavailable
from storage.channel_models import Lease
from storage.models import utcnow
from storage.claims import take_lease

log = logging.getLogger(__name__)

HOST = socket.gethostname()
HOLDER = f"{HOST}:{os.getpid()}:{uuid.uuid4().hex[:8]}"  # this process
DEFAULT_SECONDS = 120.0


class PollerLease:
    """`await hold()` before and during the work; `await release()` when done."""

    def __init__(self, runtime: Runtime, name: str, seconds: float = DEFAULT_SECONDS, holder: str = HOLDER) -> None:
        self.runtime, self.name, self.seconds, self.holder = runtime, name, seconds, holder
        self._renewed_at: float | None = None
        self._waiting_logged = False

    async def hold(self) -> bool:
        """True while this process holds the lease (renewed when a third of it has passed)."""
        if self._renewed_at is not None and time.monotonic() - self._renewed_at < self.seconds / 3:
            return True
        try:
            held = await in_thread(self._take)
        except SQLAlchemyError as exc:  # a database outage, or another process creating the lease this instant
            if not is_unavailable(exc):  # an outage is logged once, by the database
                log.warning("lease %s: %s", self.name, str(exc).splitlines()[0])
            self._renewed_at = None
            return False
        self._renewed_at = time.monotonic() if held else None
        if not held and not self._waiting_logged:
            log.info("%s: another relaydesk process is on it; this one waits", self.name)
        self._waiting_logged = not held
        return held

    async def release(self) -> None:
        """Let another process take over at once (only if it is still ours)."""
        if self._renewed_at is None:
            return
        self._renewed_at = None
        try:
            await in_thread(self._expire)
        except SQLAlchemyError:  # it runs out by itself
            pass

    def _take(self) -> bool:
        now = utcnow()
        with self.runtime.db.transaction() as session:
            current = session.get(Lease, self.name, with_for_update=True)
            if current is not None and current.holder != self.holder and _died_here(current.holder):
                current.expires_at = now  # a restart after a crash need not wait for the lease to lapse
            return take_lease(session, self.name, self.holder, now + timedelta(seconds=self.seconds), now)

    def _expire(self) -> None:
        with self.runtime.db.transaction() as session:
            session.execute(update(Lease).where(Lease.name == self.name, Lease.holder == self.holder)
                            .values(expires_at=utcnow()))


def _died_here(holder: str) -> bool:
    """The holder was a process on this host that no longer exists (killed, crashed)."""
    host, _, rest = holder.partition(":")
    pid = rest.partition(":")[0]
    if host != HOST or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, another user's
        return False
    return False
