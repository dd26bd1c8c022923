"""A per-process copy of the settings-derived rows: accounts, their addresses, agents (and who has webhooks).

Every mail asks several times who an address belongs to (is the sender an
agent, which account hosts this recipient, is this one of our own
addresses), and nearly always gets the same answer: these rows come from
config and change when config is loaded, or when an external partner is
added on the fly.  Asking the database each time cost about a third of the
statements a new ticket needed.

The copy is checked once per transaction with one statement (the highest
id of each table, `stamp`): a row another process inserted (an ad-hoc
partner) makes it reload.  A statement the transaction runs first anyway
may carry the stamp's columns (`STAMP_COLUMNS`) and hand the values to
`note_stamp`, saving that round trip (the pipeline's take of an inbox row).  A session that itself flushed changes to these
tables asks the database directly until it ends, since the copy holds only
committed rows; its commit marks the copy stale.  Columns that change at
run time (`last_number`, `telegram_id`) are never copied: objects handed
out load them from the database when read.  Of webhooks only the accounts
that have any are copied: an account with none (nearly all) is answered
from memory, and a new webhook raises the stamp; the others' are read.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from sqlalchemy import event, func, select
from sqlalchemy import inspect
from sqlalchemy.orm import Session, make_transient_to_detached, sessionmaker
from sqlalchemy.orm.attributes import set_committed_value

from storage.api_models import Webhook
from storage.models import Account, AccountAddress, Agent

_CHECKED = "directory checked"  # session.info key: the stamp was compared in this transaction
_BYPASS = "directory bypassed"  # session.info key: this transaction changed the rows; ask the database
_TABLES = (Account, AccountAddress, Agent, Webhook)
STAMP_COLUMNS = tuple(select(func.max(table.id)).scalar_subquery() for table in _TABLES)
_STAMP = select(*STAMP_COLUMNS)


@dataclass
class Snapshot:
    """The rows as plain values, and the indexes the lookups need."""

    stamp: tuple
    accounts: dict[int, tuple] = field(default_factory=dict)  # id -> (slug, name, prefix, kind)
    addresses: dict[str, tuple] = field(default_factory=dict)  # address -> (id, account_id, inbound)
    agents: dict[tuple[int, str], tuple] = field(default_factory=dict)  # (account_id, email) -> (id, name)
    agent_by_email: dict[str, tuple] = field(default_factory=dict)  # email -> (id, account_id, name), lowest id
    slugs: dict[str, int] = field(default_factory=dict)
    first_inbound: dict[int, str] = field(default_factory=dict)  # account_id -> its first inbound address
    with_webhooks: frozenset[int] = frozenset()  # accounts that have webhook rows (active or not)


class Directory:
    """Answers "whose is this address?" from memory; see the module docstring for when it asks the database."""

    def __init__(self) -> None:
        self._snapshot: Snapshot | None = None
        self._lock = threading.Lock()

    def watch(self, sessions: sessionmaker) -> None:
        """Notice the sessions of `sessions` that change accounts, addresses or agents."""
        event.listen(sessions, "after_flush", self._after_flush)
        event.listen(sessions, "after_commit", self._after_end)
        event.listen(sessions, "after_rollback", self._after_end)

    def invalidate(self) -> None:
        """Forget the copy (config was loaded and synced); the next lookup reloads it."""
        self._snapshot = None

    def snapshot(self, session: Session) -> Snapshot | None:
        """The current copy for this transaction, or None when the session must ask the database itself."""
        if session.info.get(_BYPASS):
            return None
        current = self._snapshot
        if current is not None and session.info.get(_CHECKED) is current:
            return current
        return self.check(session, tuple(session.execute(_STAMP).one()))

    def check(self, session: Session, stamp: tuple) -> Snapshot:
        """The copy for `stamp` (read in this transaction), reloaded when the rows moved on."""
        current = self._snapshot
        if current is None or current.stamp != stamp:
            with self._lock:
                current = self._snapshot = _load(session, stamp)
        session.info[_CHECKED] = current
        return current

    def account(self, session: Session, snapshot: Snapshot, account_id: int) -> Account | None:
        row = snapshot.accounts.get(account_id)
        if row is None:
            return None
        slug, name, prefix, kind = row
        return _attached(session, Account, account_id, slug=slug, name=name, prefix=prefix, kind=kind)

    def address(self, session: Session, snapshot: Snapshot, address: str) -> AccountAddress | None:
        row = snapshot.addresses.get(address)
        if row is None:
            return None
        address_id, account_id, inbound = row
        found = _attached(session, AccountAddress, address_id, account_id=account_id, address=address, inbound=inbound)
        _set_committed(found, "account", self.account(session, snapshot, account_id))
        return found

    def agent(self, session: Session, snapshot: Snapshot, agent_id: int, account_id: int, name: str,
              email: str) -> Agent:
        found = _attached(session, Agent, agent_id, account_id=account_id, name=name, email=email)
        _set_committed(found, "account", self.account(session, snapshot, account_id))
        return found

    def _after_flush(self, session: Session, _context: object) -> None:
        if any(isinstance(obj, _TABLES) for obj in (*session.new, *session.dirty, *session.deleted)):
            session.info[_BYPASS] = True

    def _after_end(self, session: Session, *_args: object) -> None:
        if session.info.pop(_BYPASS, False):
            self._snapshot = None
        session.info.pop(_CHECKED, None)


def _load(session: Session, stamp: tuple) -> Snapshot:
    snapshot = Snapshot(stamp)
    for id_, slug, name, prefix, kind in session.execute(
            select(Account.id, Account.slug, Account.name, Account.prefix, Account.kind)):
        snapshot.accounts[id_] = (slug, name, prefix, kind)
        snapshot.slugs[slug] = id_
    for id_, account_id, address, inbound in session.execute(
            select(AccountAddress.id, AccountAddress.account_id, AccountAddress.address, AccountAddress.inbound)
            .order_by(AccountAddress.id)):
        snapshot.addresses[address] = (id_, account_id, bool(inbound))
        if inbound:
            snapshot.first_inbound.setdefault(account_id, address)
    for id_, account_id, name, email in session.execute(
            select(Agent.id, Agent.account_id, Agent.name, Agent.email).order_by(Agent.id)):
        if email:
            snapshot.agents[(account_id, email)] = (id_, name)
            snapshot.agent_by_email.setdefault(email, (id_, account_id, name))
    snapshot.with_webhooks = frozenset(session.scalars(select(Webhook.account_id).distinct()))
    return snapshot


def _attached(session: Session, model: type, id_: int, **values: object):  # type: ignore[no-untyped-def]
    """The row as an object of `session`: the one it holds already, else the copy, without a query."""
    existing = session.identity_map.get(session.identity_key(model, id_))
    if existing is not None:
        return existing
    obj = model(id=id_, **values)
    make_transient_to_detached(obj)
    session.add(obj)
    return obj


def _set_committed(obj: object, key: str, value: object) -> None:
    """Fill a relationship the object does not hold yet, as if loaded (no change to flush)."""
    if key not in inspect(obj).dict:
        set_committed_value(obj, key, value)


def cached(session: Session) -> tuple[Directory, Snapshot] | tuple[None, None]:
    """The directory of `session`'s database and its copy for this transaction; (None, None) when the
    session must ask the database (it changed these rows, or was not made by `storage.db.Database`)."""
    directory = session.info.get("directory")
    snapshot = directory.snapshot(session) if directory is not None else None
    return (directory, snapshot) if snapshot is not None else (None, None)


def note_stamp(session: Session, stamp: tuple) -> None:
    """Take the values of `STAMP_COLUMNS` that a statement of this transaction read; no check is needed then."""
    directory = session.info.get("directory")
    if directory is not None and not session.info.get(_BYPASS):
        directory.check(session, stamp)
