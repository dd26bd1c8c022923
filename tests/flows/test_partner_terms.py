"""Partner terms through the real pipeline and timer sweeper, with time moved by a ManualClock.

Vendor gives Partner 4 h to answer (reminder at half time), 1 day to
resolve, pauses while the child is `pending`, and FixIt as the backup.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from rich.console import Console
from sqlalchemy import select

from gateway.app.timers import on_start
from gateway.cli.timing_tables import print_chain
from gateway.core import clock
from gateway.core.config import Config
from gateway.core.runtime import Runtime
from gateway.desk import deadlines
from gateway.desk.chain import chain_line
from gateway.desk.timings import chain_timings
from storage.deadline_models import Deadline, Timer
from storage.models import Event, Link
from tests.at_once import run_at_once
from tests.flows import mails
from tests.flows.world import (
    PAUL,
    answer,
    body_of,
    customer_writes,
    dana_forwards_to_partner,
    deliver,
    link_of,
    new_mail_since,
    only,
    outbox,
    sent_mail,
    sweeper,
    ticket,
    vendor_config,
)

HOUR = 3600
TERMS = {"partner": "partner", "accept_within": "4h", "resolve_within": "1d", "remind_at": [0.5],
         "pause_while": ["pending"], "backup_partner": "fixit"}


def terms_config(tmp_path: Path, db_url: str | None = None, **changes: object) -> Config:
    return vendor_config(tmp_path, db_url,
                         partner_terms=[{**TERMS, **changes}, {"partner": "fixit", "accept_within": "1d"}])


@pytest.fixture
def world(db_url: str, tmp_path: Path, manual: clock.ManualClock) -> Iterator[Runtime]:
    with Runtime.open(terms_config(tmp_path, db_url)) as runtime:
        yield runtime


def states(runtime: Runtime) -> dict[str, tuple[str | None, str | None]]:
    with runtime.db.transaction() as session:
        tickets = chain_timings(session, "VND-1").to_json()["tickets"]
    return {t["ref"]: (t["link"]["deadline_state"], t["link"]["accept_due_at"]) for t in tickets if t["link"]}


def handed_over(runtime: Runtime) -> None:
    customer_writes(runtime)
    dana_forwards_to_partner(runtime)


def test_reminder_at_half_time_then_breach_moves_the_work_to_the_backup(world: Runtime,
                                                                        manual: clock.ManualClock) -> None:
    handed_over(world)
    assert states(world)["PTN-1"][0] == "on_track"
    before = len(outbox(world))
    manual.advance(2 * HOUR - 1)
    assert sweeper(world).sweep().fired == 0
    manual.advance(1)
    assert sweeper(world).sweep().fired == 1
    reminder = only(new_mail_since(world, before))
    assert (reminder.kind, reminder.recipient) == ("reminder", "paul@partner.example")
    assert "asks you to answer it by" in body_of(world, reminder)
    assert states(world)["PTN-1"][0] == "at_risk"

    before = len(outbox(world))
    manual.advance(2 * HOUR)
    result = sweeper(world).sweep()
    assert (result.fired, sweeper(world).sweep().fired) == (1, 0)  # once, however often it sweeps
    sent = {(o.kind, o.recipient) for o in new_mail_since(world, before)}
    assert sent == {("escalation", "dana@vendor.example"), ("notice", "paul@partner.example"),
                    ("handoff", "jobs@fixit.example")}
    escalation = only(new_mail_since(world, before, kind="escalation"))
    assert "recalled and the work handed to FixIt Repairs as FIX-1" in body_of(world, escalation)
    handoff = only(new_mail_since(world, before, kind="handoff"))
    assert "Paul, please send a technician." in body_of(world, handoff)
    fix = ticket(world, "FIX-1")
    assert {a.filename for m in fix.messages for a in m.attachments} == {"error-log.pdf"}
    assert link_of(world, "PTN-1").state == "recalled"
    assert ticket(world, "PTN-1").status == "cancelled"
    assert {ref: s for ref, (s, _) in states(world).items()} == {"PTN-1": "breached", "FIX-1": "on_track"}
    assert not new_mail_since(world, before, recipient="alice@client.example")
    console = Console(record=True, width=250)
    with world.db.transaction() as session:
        print_chain(chain_timings(session, "VND-1"), console)
    table = console.export_text()
    assert "breached" in table and "on track, due" in table


def test_an_answer_in_time_meets_the_accept_deadline_and_cancels_its_timers(world: Runtime,
                                                                            manual: clock.ManualClock) -> None:
    handed_over(world)
    manual.advance(HOUR)
    answer(world, only([o for o in outbox(world) if o.kind == "handoff"]), PAUL, "On my way tomorrow.")
    manual.advance(10 * HOUR)
    before = len(outbox(world))
    assert sweeper(world).sweep().fired == 0
    assert not new_mail_since(world, before)
    with world.db.transaction() as session:
        kinds = {d.kind: d.state for d in session.scalars(select(Deadline))}
    assert kinds == {"accept": "met", "resolve": "running"}
    assert states(world)["PTN-1"][0] == "on_track"


def test_the_clocks_stop_while_the_child_waits_on_its_customer(world: Runtime, manual: clock.ManualClock) -> None:
    handed_over(world)
    manual.advance(HOUR)
    notice = only([o for o in outbox(world) if o.kind == "handoff"])
    answer(world, notice, PAUL, "#status pending\nWaiting for the spare part.")
    manual.advance(30 * HOUR)  # far past the resolve deadline, but paused
    assert sweeper(world).sweep().fired == 0
    assert states(world)["PTN-1"][0] == "paused"
    answer(world, notice, PAUL, "#status open\nPart arrived.")
    with world.db.transaction() as session:
        resolve = session.scalar(select(Deadline).where(Deadline.kind == "resolve"))
        assert resolve.state == "running" and resolve.spent_seconds == pytest.approx(HOUR, abs=1)
        assert resolve.due_at == clock.now() + timedelta(seconds=resolve.allowed_seconds - resolve.spent_seconds)


def test_two_sweepers_at_once_fire_each_timer_once(world: Runtime, manual: clock.ManualClock) -> None:
    handed_over(world)
    manual.advance(5 * HOUR)  # the reminder and the breach are both due: the reminder is skipped
    results = run_at_once(lambda: sweeper(world).sweep(), [(), ()])
    assert sum(r.fired for r in results) == 1 and sum(r.skipped for r in results) == 1
    assert len([o for o in outbox(world) if o.kind == "escalation"]) == 1
    assert len([o for o in outbox(world) if o.kind == "handoff" and o.recipient == "jobs@fixit.example"]) == 1
    with world.db.transaction() as session:
        # the accept reminder was skipped (its breach was due too), the resolve timers went with the recall
        events = list(session.scalars(select(Event.type).where(Event.type.like("deadline_%"))))
        assert sorted(events) == ["deadline_breached", "deadline_breached"]  # on VND-1 and PTN-1, once
        assert session.scalars(select(Timer.kind).join(Deadline).where(Deadline.kind == "resolve")).all() == []


def test_changed_terms_re_time_open_deadlines(world: Runtime, manual: clock.ManualClock, tmp_path: Path) -> None:
    handed_over(world)
    manual.advance(HOUR)
    world.config = terms_config(tmp_path, world.config.storage.url, accept_within="2h", remind_at=[0.9])
    with world.db.transaction() as session:
        on_start(world, session, clock.now())
        accept = session.scalar(select(Deadline).where(Deadline.kind == "accept"))
        assert accept.terms["accept_within"] == "2h"
        assert accept.due_at == clock.now() + timedelta(hours=1)
        pending = session.scalars(select(Timer).where(Timer.deadline_id == accept.id, Timer.status == "pending"))
        assert sorted(t.kind for t in pending) == ["breach", "remind"]


def test_the_chain_line_marks_an_overdue_hop(world: Runtime, manual: clock.ManualClock) -> None:
    handed_over(world)
    manual.advance(5 * HOUR)
    with world.db.transaction() as session:
        link = session.scalar(select(Link))
        assert deadlines.link_state(deadlines.by_link(session, [link.id])[link.id], clock.now()) == "breached"
        assert "PTN-1 (Partner GmbH, new, overdue)" in chain_line(session, link.parent)


def test_reminder_and_escalation_reach_bound_team_chats(db_url: str, tmp_path: Path,
                                                        manual: clock.ManualClock) -> None:
    from gateway.core.config import TelegramConfig

    chats = TelegramConfig(token="123:test", team_chats={"partner": -100, "vendor": -200})
    config = terms_config(tmp_path, db_url, backup_partner=None).model_copy(update={"telegram": chats})
    with Runtime.open(config) as world:
        handed_over(world)
        before = len(outbox(world))
        manual.advance(2 * HOUR)
        sweeper(world).sweep()
        posts = [(o.channel, o.recipient) for o in new_mail_since(world, before) if o.channel != "email"]
        assert posts == [("telegram", "-100")]
        before = len(outbox(world))
        manual.advance(2 * HOUR)
        sweeper(world).sweep()
        sent = [(o.channel, o.kind, o.recipient) for o in new_mail_since(world, before)]
        assert sorted(sent) == [("email", "escalation", "dana@vendor.example"), ("telegram", "team_post", "-200")]
        assert link_of(world, "PTN-1").state == "handed_off"  # no backup: the work stays, Dana decides


def test_each_hop_runs_on_the_terms_of_the_account_handing_it_on(db_url: str, tmp_path: Path,
                                                                  manual: clock.ManualClock) -> None:
    """Vendor gives Partner 4 h to answer; Partner gives its subcontractor 2 h."""
    data = terms_config(tmp_path, db_url).model_dump()
    data["accounts"][1]["partner_terms"] = [{"partner": "subco", "accept_within": "2h"}]
    with Runtime.open(Config.model_validate(data)) as world:
        handed_over(world)
        notice = only([o for o in outbox(world) if o.kind == "handoff"])
        sent = sent_mail(world, notice)
        deliver(world, mails.outlook_forward(
            sender=PAUL, to=["sam@subco.example"], cc=["service@partner.example"], note="Sam, please.",
            original_from=str(sent["From"]), original_subject=str(sent["Subject"]),
            original_text=body_of(world, notice), message_id="<pfw@partner.example>",
        ), rcpt=["service@partner.example"])
        assert {ref: s for ref, (s, _) in states(world).items()} == {"PTN-1": "on_track", "SUB-1": "on_track"}
        manual.advance(3 * HOUR)
        assert {ref: s for ref, (s, _) in states(world).items()} == {"PTN-1": "at_risk", "SUB-1": "breached"}
        with world.db.transaction() as session:
            assert "SUB-1 (Subco Field Service, new, overdue)" in chain_line(session, ticket(world, "VND-1"))


def test_terms_taken_away_stop_the_open_deadlines(world: Runtime, manual: clock.ManualClock, tmp_path: Path) -> None:
    handed_over(world)
    manual.advance(HOUR)
    world.config = vendor_config(tmp_path, world.config.storage.url)  # no partner terms any more
    with world.db.transaction() as session:
        on_start(world, session, clock.now())
        assert sorted(session.scalars(select(Deadline.state))) == ["stopped", "stopped"]
        assert session.scalars(select(Timer).where(Timer.deadline_id.is_not(None))).all() == []
        assert session.scalar(select(Deadline.spent_seconds).where(Deadline.kind == "accept")) == HOUR
    assert states(world)["PTN-1"][0] is None
