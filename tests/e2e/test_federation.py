"""Two relaydesk installations linked by email alone (SPEC §5, last paragraph).

Installation A is the demo world (vendor → external partner `fixit` at
jobs@fixit.example).  Installation B is FixIt's own relaydesk, hosting
jobs@fixit.example, with vendor known to it as an external customer.  Each
one's smarthost is a relay in this test that records every mail and hands
mail for the other's hosted address to the other's SMTP port, as the Internet would.
"""

from __future__ import annotations

import smtplib
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from email import message_from_bytes, policy
from pathlib import Path

import pytest

from tests.conftest import DEMO_TOML
from tests.e2e.harness import Installation, mails_to, wait_until
from tests.e2e.mail_clients import Person, body_text, forward, new_mail, parse
from tests.e2e.people import ALICE, DANA, VENDOR
from tests.e2e.steps import alice_writes, only_mail_to
from tests.smtp_sink import SmtpSink

FRED = Person("Fred Fixer", "fred@fixit.example")
FIXIT = "jobs@fixit.example"
MAX_HOPS = 8

B_CONFIG = """
[storage]
url = "sqlite:///{data}/relaydesk.db"
blobs = "{data}/blobs"

[queue]
broker = "embedded"

[smtp]
listen = "127.0.0.1:{smtp_port}"

[outbound]
smarthost = "127.0.0.1:{sink_port}"
%(outbound)s

[security]
secret = "fixit-side-secret-not-for-production"
max_hops = %(max_hops)d

[[accounts]]
slug = "fixit"
name = "FixIt Repairs"
prefix = "JOB"
addresses = ["%(address)s"]
agents = [ { name = "Fred Fixer", email = "fred@fixit.example" } ]
%(upstream)s
"""
UPSTREAM_VENDOR = """
[[accounts]]
slug = "vendor"
kind = "external"
name = "Vendor Ltd"
prefix = "VEN"
addresses = ["support@vendor.example"]
"""


def a_config(outbound: str = "") -> str:
    """The demo world; like B it keeps the default Message-ID domain, which differs per installation."""
    return DEMO_TOML.read_text(encoding="utf-8").replace(
        'smarthost = "127.0.0.1:{sink_port}"', f'smarthost = "127.0.0.1:{{sink_port}}"\n{outbound}',
    ).replace("[security]\n", f"[security]\nmax_hops = {MAX_HOPS}\n")


def b_config(address: str = FIXIT, upstream: str = UPSTREAM_VENDOR, outbound: str = "") -> str:
    return B_CONFIG % {"address": address, "upstream": upstream, "outbound": outbound, "max_hops": MAX_HOPS}


@dataclass
class Forwarder:
    """The smarthost's reply hook: mail for `mailbox` (or its +tagged forms) goes on to the other installation.

    Mail to anyone else (people's own mailboxes) is only recorded, as if
    delivered to their mail servers.

    `strip_auto` imitates a forwarding rule that re-sends mail as new: it
    drops the automatic-mail markers and the thread headers and gives the
    mail a fresh Message-ID (it keeps X-Relaydesk-Hops, as any header it
    does not know).
    """

    mailbox: str
    port: int = 0
    strip_auto: bool = False

    def __call__(self, envelope) -> str | None:
        rcpts = [r for r in envelope.rcpt_tos if _without_tag(r) == self.mailbox]
        if not rcpts:
            return None
        raw = bytes(envelope.original_content)
        if self.strip_auto:
            raw = _as_new_mail(raw)
        try:
            with smtplib.SMTP("127.0.0.1", self.port, timeout=30) as client:
                client.sendmail(envelope.mail_from or "", rcpts, raw)
        except smtplib.SMTPException as exc:
            return f"451 4.4.0 next hop refused: {exc}"
        return None


def _without_tag(address: str) -> str:
    local, _, domain = address.lower().rpartition("@")
    return f"{local.split('+', 1)[0]}@{domain}"


def _as_new_mail(raw: bytes) -> bytes:
    message = message_from_bytes(raw, policy=policy.SMTP)
    for name in ("Auto-Submitted", "X-Auto-Response-Suppress", "Precedence", "In-Reply-To", "References",
                 "Message-ID"):
        del message[name]
    message["Message-ID"] = f"<{uuid.uuid4().hex}@forwarder.example>"
    return message.as_bytes()


@dataclass
class Pair:
    a: Installation
    b: Installation
    relay_a: SmtpSink
    relay_b: SmtpSink

    def settle(self) -> None:
        """Both sides idle, twice in a row (mail handed across may start new work on the other side)."""
        def idle() -> bool:
            before = (len(self.relay_a.mails), len(self.relay_b.mails))
            self.a.settle()
            self.b.settle()
            return (len(self.relay_a.mails), len(self.relay_b.mails)) == before
        wait_until(idle, 120, "both installations to go quiet", interval=0.5)


@pytest.fixture
def pair_factory(tmp_path: Path) -> Iterator:
    started: list[Pair] = []

    def make(a_text: str, b_text: str, b_mailbox: str = FIXIT, strip_auto: bool = False) -> Pair:
        to_b, to_a = Forwarder(b_mailbox, strip_auto=strip_auto), Forwarder(VENDOR, strip_auto=strip_auto)
        relay_a, relay_b = SmtpSink(reply=to_b).start(), SmtpSink(reply=to_a).start()
        a = Installation(tmp_path / "a", a_text, sink=relay_a, name="A")
        b = Installation(tmp_path / "b", b_text, sink=relay_b, name="B")
        to_b.port, to_a.port = b.smtp_port, a.smtp_port
        pair = Pair(a, b, relay_a, relay_b)
        started.append(pair)
        a.start()
        b.start()
        return pair

    yield make
    for pair in started:
        for part in (pair.a, pair.b):
            part.stop()
        pair.relay_a.stop()
        pair.relay_b.stop()


def external_id(desk: Installation, ref: str) -> str | None:
    rows = desk.query("SELECT external_id FROM tickets WHERE ref = :ref", ref=ref)
    return rows[0][0] if rows else None


def test_handoff_to_a_partner_running_its_own_relaydesk(pair_factory) -> None:
    pair = pair_factory(a_config(), b_config())
    a, b = pair.a, pair.b
    alices_mail, _ = alice_writes(a)

    # dana hands VND-1 to fixit; the gateway's notice to jobs@fixit.example lands in B
    a.send(forward(alices_mail.message, DANA, [FIXIT], "Please send someone today. -- Dana", cc=[VENDOR]),
           rcpt_tos=[VENDOR])
    pair.settle()
    assert {t["ref"]: t["parent"] for t in a.tickets()} == {"VND-1": None, "FIX-1": "VND-1"}
    assert [(t["ref"], t["account"]) for t in b.tickets()] == [("JOB-1", "fixit")]
    job = b.show("JOB-1")
    assert job["requester"]["email"] == VENDOR
    assert any("Please send someone today." in m["text"] for m in job["messages"])
    assert external_id(b, "JOB-1") == "relaydesk:vendor.example:FIX-1", "B did not keep A's ref"
    assert mails_to(pair.relay_b.mails, VENDOR) == [], "B answered A's handoff with an acknowledgement"

    # fred answers at B; it lands on A's child, travels up, and reaches alice once
    since_a = len(a.sink.mails)
    booked = "Technician booked for Tuesday 10:00"
    b.send(new_mail(FRED, [FIXIT], "Re: [JOB-1] Printer jams on tray 2", booked))
    pair.settle()
    fix = a.show("FIX-1")
    assert [m["from"] for m in fix["messages"] if m["text"] == booked] == [FIXIT]
    assert external_id(a, "FIX-1") == "relaydesk:fixit.example:JOB-1", "A did not keep B's ref"
    vnd = a.show("VND-1")
    assert [m["visibility"] for m in vnd["messages"] if m["text"] == booked] == ["partner"]
    assert vnd["links"][0]["state"] == "accepted"
    assert booked in body_text(only_mail_to(a, ALICE.email, since_a))

    # fred resolves at B: A's child follows, the link is resolved and dana is asked to rate
    since_a = len(a.sink.mails)
    b.send(new_mail(FRED, [FIXIT], "Re: [JOB-1] Printer jams on tray 2", "#status resolved\nReplaced the pickup roller."))
    pair.settle()
    assert b.show("JOB-1")["status"] == "resolved"
    assert a.show("FIX-1")["status"] == "resolved"
    vnd = a.show("VND-1")
    assert vnd["links"][0]["state"] == "resolved" and vnd["status"] not in ("resolved", "closed")
    assert {c["ref"]: c["status"] for c in vnd["chain"]}["FIX-1"] == "resolved"
    assert any("#rate" in body_text(parse(m.raw)) for m in mails_to(a.sink.mails[since_a:], DANA.email))
    assert "Replaced the pickup roller." in body_text(only_mail_to(a, ALICE.email, since_a))
    assert a.inbox_problems() == [] and b.inbox_problems() == []


def test_a_forged_status_from_outside_the_partner_changes_nothing(pair_factory) -> None:
    pair = pair_factory(a_config(), b_config())
    a = pair.a
    alices_mail, _ = alice_writes(a)
    a.send(forward(alices_mail.message, DANA, [FIXIT], "Please send someone today. -- Dana", cc=[VENDOR]),
           rcpt_tos=[VENDOR])
    pair.settle()
    [notice] = mails_to(pair.relay_a.mails, FIXIT)
    forged = new_mail(Person("Mallory", "mallory@evil.example"), [VENDOR], "Re: " + str(parse(notice.raw)["Subject"]),
                      "All done here.", headers={"X-Relaydesk-Ticket": "JOB-1", "X-Relaydesk-Status": "resolved",
                                                 "In-Reply-To": str(parse(notice.raw)["Message-ID"])})
    a.send(forged)
    pair.settle()
    assert a.show("FIX-1")["status"] != "resolved"
    assert a.show("VND-1")["links"][0]["state"] == "handed_off"
    assert external_id(a, "FIX-1") is None


def test_acknowledgement_loop_between_installations_stops_within_the_hop_limit(pair_factory) -> None:
    """Both sides acknowledge every new request; a forwarder strips the auto markers in between.

    Without the hop counter each acknowledgement would open a new request on
    the other side, forever.
    """
    no_ack_limit = "ack_period_seconds = 0"
    pair = pair_factory(a_config(no_ack_limit), b_config("desk@robots.example", upstream="", outbound=no_ack_limit),
                        b_mailbox="desk@robots.example", strip_auto=True)
    robot_desk = Person("Robots Helpdesk", "desk@robots.example")
    pair.a.send(new_mail(robot_desk, [VENDOR], "Order 4711", "Please confirm order 4711."))
    pair.settle()
    relayed = len(pair.relay_a.mails) + len(pair.relay_b.mails)
    assert 2 <= relayed <= MAX_HOPS, f"{relayed} mails went between the installations"
    hops = [int(parse(m.raw).get("X-Relaydesk-Hops", "0")) for m in pair.relay_a.mails + pair.relay_b.mails]
    assert max(hops) <= MAX_HOPS


def test_dispatchers_own_copy_and_the_gateway_notice_make_one_request_at_the_partner(pair_factory) -> None:
    """Dana's forward goes To jobs@fixit.example itself (straight to B) and Cc to A.

    B then sees the same request twice: dana's forward, and A's handoff
    notice threading with it.  It must stay one request at B, and B's
    answers must still reach A's child ticket.
    """
    pair = pair_factory(a_config(), b_config())
    a, b = pair.a, pair.b
    alices_mail, _ = alice_writes(a)
    handoff = forward(alices_mail.message, DANA, [FIXIT], "Please send someone today. -- Dana", cc=[VENDOR])
    b.send(handoff, rcpt_tos=[FIXIT])  # dana's mail server delivers to fixit directly
    pair.settle()
    a.send(handoff, rcpt_tos=[VENDOR])
    pair.settle()
    assert [t["ref"] for t in b.tickets()] == ["JOB-1"], "B opened a second request for the gateway's notice"

    since_a = len(a.sink.mails)
    b.send(new_mail(FRED, [FIXIT], "Re: [JOB-1] Printer jams on tray 2", "#status resolved\nReplaced the pickup roller."))
    pair.settle()
    assert a.show("FIX-1")["status"] == "resolved"
    assert a.show("VND-1")["links"][0]["state"] == "resolved"
    assert "Replaced the pickup roller." in body_text(only_mail_to(a, ALICE.email, since_a))
