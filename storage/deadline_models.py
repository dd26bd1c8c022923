"""Models of partner terms: a deadline per link and the durable timers that act on it.

Apart from storage/models.py only to keep modules small; they share its
`Base`, so the schema (and Alembic's view of it) is one.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from storage.models import Base, Link, utcnow


class Deadline(Base):
    """One clock on one link — `accept` (until the partner's first answer) or `resolve` — in business time.

    The business time used so far is `spent_seconds` plus, while running,
    what passed since `running_since`; `due_at` is when `allowed_seconds`
    run out (None while paused).  `terms` keeps the terms it runs under, so
    a change of terms is noticed and the deadline re-timed.
    """

    __tablename__ = "deadlines"
    __table_args__ = (UniqueConstraint("link_id", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    link_id: Mapped[int] = mapped_column(ForeignKey("links.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(10))  # accept | resolve
    state: Mapped[str] = mapped_column(String(10), default="running")  # running | paused | met | breached | stopped
    allowed_seconds: Mapped[float] = mapped_column(Float)
    spent_seconds: Mapped[float] = mapped_column(Float, default=0.0)
    running_since: Mapped[datetime | None] = mapped_column()
    due_at: Mapped[datetime | None] = mapped_column()
    terms: Mapped[dict[str, Any]] = mapped_column(default=dict)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    met_at: Mapped[datetime | None] = mapped_column()
    breached_at: Mapped[datetime | None] = mapped_column()
    stopped_at: Mapped[datetime | None] = mapped_column()

    link: Mapped[Link] = relationship()


class Timer(Base):
    """Something to do at a time: a reminder or breach of a deadline, an agent's digest.

    Durable so that nothing depends on a process being up at the due time;
    fired exactly once because the worker that fires it holds its row lock
    and deletes it in the same transaction as the work it caused (the work
    leaves events; a cancelled timer is deleted too).  Only a timer whose
    handler kept failing stays, `failed`, with its error.
    """

    __tablename__ = "timers"
    __table_args__ = (Index("ix_timers_status_due", "status", "due_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # remind | breach | digest
    deadline_id: Mapped[int | None] = mapped_column(ForeignKey("deadlines.id", ondelete="CASCADE"), index=True)
    fraction: Mapped[float | None] = mapped_column(Float)  # of the time allowed, for reminders
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id", ondelete="CASCADE"), index=True)
    due_at: Mapped[datetime] = mapped_column()
    status: Mapped[str] = mapped_column(String(10), default="pending")  # pending | failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
