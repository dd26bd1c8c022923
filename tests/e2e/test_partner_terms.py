"""Partner terms over real sockets, in real (second-scale) time.

Vendor gives Partner 20 s to answer, with a reminder at half time and FixIt
as the backup.  Paul never answers: he gets one reminder, Dana one
escalation, the work moves to FixIt once, and `chain --json` shows the old
link `breached` and the new one `on_track`.  Then the same on PostgreSQL
with `serve --no-worker` and two `relaydesk worker` processes, one of them
SIGKILLed when the reminder falls due and the other when the breach does:
each reminder and escalation still leaves exactly once (one Message-ID).
"""

from __future__ import annotations

import json
import time
from collections import defaultdict
from contextlib import ExitStack
from datetime import datetime, timezone
from pathlib import Path

import pytest

from tests.e2e.harness import Installation, wait_until
from tests.e2e.mail_clients import body_text, parse
from tests.e2e.processes import GatewayProcess, free_port, write_config
from tests.e2e.steps import alice_writes, dana_hands_to_partner
from tests.services import fresh_postgres_database, redis_namespace
from tests.smtp_sink import SmtpSink, SunkMail

TERMS = """
[[accounts.partner_terms]]
partner = "partner"
accept_within = "20s"
remind_at = [0.5]
backup_partner = "fixit"

[[accounts.partner_terms]]
partner = "fixit"
accept_within = "1h"
"""
FAST_TIMERS = 'broker = "embedded"\ntimer_interval_seconds = 0.5'
WAIT = 60.0


def with_terms(config_text: str) -> str:
    """The demo world with Vendor's terms (inserted after Vendor's own keys) and timers swept twice a second."""
    vendor_ends = config_text.index("[[accounts]]", config_text.index('slug = "vendor"'))
    text = config_text[:vendor_ends] + TERMS.lstrip() + "\n" + config_text[vendor_ends:]
    return text.replace('broker = "embedded"', FAST_TIMERS, 1)


def what(mail: SunkMail) -> str:
    """Which of the terms' mails this is, by its wording."""
    body = body_text(parse(mail.raw))
    for marker, kind in (("Reminder:", "reminder"), ("within its terms", "escalation"),
                         ("has recalled this request", "recall"), ("has handed over", "handoff")):
        if marker in body:
            return kind
    return "other"


def message_ids(mails: list[SunkMail]) -> dict[tuple[str, str], set[str]]:
    """(kind, recipient) → the distinct Message-IDs the sink received (a re-sent copy counts once)."""
    found: dict[tuple[str, str], set[str]] = defaultdict(set)
    for mail in mails:
        for rcpt in mail.rcpt_tos:
            found[(what(mail), rcpt.lower())].add(str(parse(mail.raw)["Message-ID"]))
    return found


def expected_terms_mail(ids: dict[tuple[str, str], set[str]]) -> None:
    assert len(ids[("reminder", "paul@partner.example")]) == 1, ids
    assert len(ids[("escalation", "dana@vendor.example")]) == 1, ids
    assert len(ids[("recall", "paul@partner.example")]) == 1, ids
    assert len(ids[("handoff", "jobs@fixit.example")]) == 1, ids
    assert not any(rcpt == "alice@client.example" for (kind, rcpt) in ids if kind != "other"), ids


def link_states(chain: dict) -> dict[str, str | None]:
    return {t["ref"]: t["link"]["deadline_state"] for t in chain["tickets"] if t["link"]}


def test_reminder_escalation_and_backup_over_serve(tmp_path: Path) -> None:
    config = with_terms((Path(__file__).parents[2].parent / "shared" / "scenarios" / "demo.toml").read_text())
    with Installation(tmp_path / "desk", config) as desk:
        alices_mail, _ = alice_writes(desk)
        dana_hands_to_partner(desk, alices_mail)
        assert link_states(desk.chain("VND-1")) == {"PTN-1": "on_track"}
        since = len(desk.sink.mails)
        wait_until(lambda: any(what(m) == "reminder" for m in desk.sink.mails[since:]), WAIT, "the reminder")
        assert link_states(desk.chain("VND-1")) == {"PTN-1": "at_risk"}
        wait_until(lambda: any(what(m) == "handoff" for m in desk.sink.mails[since:]), WAIT, "the backup handoff")
        desk.settle()
        time.sleep(2)  # four more sweeps: nothing else may fire
        desk.settle()
        expected_terms_mail(message_ids(desk.sink.mails[since:]))
        chain = desk.chain("VND-1")
        assert link_states(chain) == {"PTN-1": "breached", "FIX-1": "on_track"}
        links = {t["ref"]: t["link"] for t in chain["tickets"] if t["link"]}
        assert links["PTN-1"]["state"] == "recalled" and links["FIX-1"]["state"] == "handed_off"
        assert desk.show("VND-1")["status"] == "open"
        report = json.loads(desk.cli("report", "partners", "--format", "json").stdout)
        totals = {row["partner"]: row for row in report if row["handed_by"] is None}
        assert (totals["partner"]["under_terms"], totals["partner"]["accept_breaches"]) == (1, 1)
        assert totals["partner"]["within_terms_share"] == 0.0
        assert (totals["fixit"]["under_terms"], totals["fixit"]["within_terms_share"]) == (1, None)  # still running


def due(runtime_query, kind: str) -> datetime:
    rows = runtime_query(f"SELECT due_at FROM timers WHERE kind = '{kind}' ORDER BY id LIMIT 1")
    value = rows[0][0]
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def sleep_until(instant: datetime) -> None:
    time.sleep(max((instant - datetime.now(timezone.utc)).total_seconds(), 0))


@pytest.mark.postgres
@pytest.mark.redis
def test_two_workers_and_a_sigkill_at_each_due_time_send_each_mail_once(tmp_path: Path) -> None:
    with ExitStack() as stack:
        db_url = stack.enter_context(fresh_postgres_database())
        redis_url, namespace = stack.enter_context(redis_namespace())
        sink = stack.enter_context(SmtpSink())
        port = free_port()
        config_path = write_config(
            tmp_path / "relaydesk.toml", tmp_path / "data", port, sink.port, storage={"url": db_url},
            queue={"broker": redis_url, "namespace": namespace, "sweep_interval_seconds": 1,
                   "stale_after_seconds": 5, "timer_interval_seconds": 0.2},
        )
        config_path.write_text(with_terms(config_path.read_text()).replace(FAST_TIMERS, 'broker = "embedded"'))
        serve = GatewayProcess(config_path, "serve", "--no-worker", name="serve")
        workers = [GatewayProcess(config_path, "worker", name=f"worker-{n}") for n in (1, 2)]
        for proc in (serve, *workers):
            proc.start()
            stack.callback(proc.stop)
        serve.wait_smtp(port)
        desk = Installation(tmp_path / "probe", config_path.read_text(), sink=sink, db_url=db_url)
        desk.smtp_port, desk.config_path = port, config_path
        try:
            alices_mail, _ = alice_writes(desk)
            dana_hands_to_partner(desk, alices_mail)
            since = len(sink.mails)
            sleep_until(due(desk.query, "remind"))
            workers[0].kill()  # at the reminder's due time
            workers[0].start()
            sleep_until(due(desk.query, "breach"))
            workers[1].kill()  # at the breach's due time
            wait_until(lambda: any(what(m) == "handoff" for m in sink.mails[since:]), WAIT, "the backup handoff")
            workers[1].start()
            desk.settle()
            time.sleep(3)
            desk.settle()
        except BaseException:
            for proc in (serve, *workers):
                print(f"--- {proc.log_path.name}\n{proc.log_tail()}")
            raise
        expected_terms_mail(message_ids(sink.mails[since:]))
        fired = desk.query("SELECT type, count(*) FROM events WHERE type LIKE 'deadline_%' GROUP BY type ORDER BY type")
        assert fired == [("deadline_breached", 2), ("deadline_reminder", 1)], fired  # breach: on VND-1 and PTN-1
        assert link_states(desk.chain("VND-1")) == {"PTN-1": "breached", "FIX-1": "on_track"}
