"""S4 — auto-replies, bounces and loops (scenarios/README.md)."""

from __future__ import annotations

import smtplib
import threading
import uuid
from pathlib import Path

import pytest

from tests.e2e.harness import Installation, mails_to, wait_until
from tests.e2e.mail_clients import (
    Person,
    body_text,
    delivery_failure,
    new_mail,
    parse,
    reply,
    reply_target,
)
from tests.e2e.people import ALICE, PAUL, SAM, VENDOR
from tests.e2e.steps import (
    alice_writes,
    dana_hands_to_partner,
    no_mail_to,
    only_mail_to,
    paul_hands_to_subco,
)
from tests.smtp_sink import SmtpSink

ROBOT = Person("Helpdesk Robot", "robot@robot.example")


def test_s4_1_out_of_office_is_stored_as_auto_and_answered_by_nobody(desk: Installation) -> None:
    _, ack = alice_writes(desk)
    since = len(desk.sink.mails)
    ooo = reply(ack, ALICE, "I am out of the office until Monday.", client="outlook")
    ooo.message.replace_header("Subject", "Automatic reply: " + str(ack["Subject"]))
    ooo.message["Auto-Submitted"] = "auto-replied"
    desk.send(ooo)
    desk.settle()
    ticket = desk.show("VND-1")
    assert ticket["status"] == "new", "an auto-reply must not reopen or move the ticket"
    assert [m["visibility"] for m in ticket["messages"] if "out of the office" in m["text"]] == ["auto"]
    assert desk.sink.mails[since:] == []
    assert len(desk.tickets()) == 1


def test_s4_2_bounce_fails_the_outbox_item_and_tells_the_agents(desk: Installation) -> None:
    alices_mail, _ = alice_writes(desk)
    notice = dana_hands_to_partner(desk, alices_mail)
    _, sam_notice = paul_hands_to_subco(desk, notice)
    [sunk] = mails_to(desk.sink.mails, SAM.email)
    bounce_to = sunk.mail_from
    assert bounce_to and bounce_to != VENDOR, f"no VERP return path on the mail to sam: {bounce_to!r}"
    since = len(desk.sink.mails)
    desk.send(delivery_failure(bounce_to, sam_notice, SAM.email), mail_from="")
    desk.settle()
    failed = [o for o in desk.outbox() if o["recipient"] == SAM.email]
    assert [o["status"] for o in failed] == ["failed"]
    told = only_mail_to(desk, PAUL.email, since)
    assert SAM.email in body_text(told) and "5.1.1" in body_text(told)
    no_mail_to(desk, SAM.email, since)
    no_mail_to(desk, ALICE.email, since)


class Robot:
    """Another helpdesk that answers every mail it gets, relaying through the test's smarthost.

    `polite` robots mark their answers `Auto-Submitted` and thread them;
    rude ones open a fresh conversation each time and only carry the
    relaydesk hop counter forward.
    """

    def __init__(self, polite: bool) -> None:
        self.polite = polite
        self.gateway_port = 0
        self.answered = 0
        self._threads: list[threading.Thread] = []

    def __call__(self, envelope) -> None:  # SmtpSink reply hook: runs for every mail relayed out
        if ROBOT.email in [r.lower() for r in envelope.rcpt_tos]:
            received = parse(envelope.original_content)
            worker = threading.Thread(target=self._answer, args=(received,), daemon=True)
            self._threads.append(worker)
            worker.start()
        return None

    def _answer(self, received) -> None:
        self.answered += 1
        hops = str(received.get("X-Relaydesk-Hops", "0")).strip()
        headers = {"X-Relaydesk-Hops": str(int(hops) + 1 if hops.isdigit() else 1)}
        if self.polite:
            answer = reply(received, ROBOT, "Thank you, we have received your message.", client="gmail")
            answer.message["Auto-Submitted"] = "auto-replied"
            answer.message["X-Relaydesk-Hops"] = headers["X-Relaydesk-Hops"]
        else:
            answer = new_mail(ROBOT, [reply_target(received)], f"Ticket {uuid.uuid4().hex[:6]} received",
                              "Thank you, we have received your message.", headers=headers)
        with smtplib.SMTP("127.0.0.1", self.gateway_port, timeout=30) as client:
            client.sendmail(ROBOT.email, answer.rcpt_tos, answer.as_bytes())

    def join(self) -> None:
        for worker in self._threads:
            worker.join(timeout=30)


@pytest.mark.parametrize("polite", [True, False], ids=["auto-submitted", "no-auto-submitted"])
def test_s4_3_two_auto_responders_stop(tmp_path: Path, polite: bool) -> None:
    robot = Robot(polite)
    with SmtpSink(reply=robot) as sink, Installation.demo(tmp_path / "desk", sink=sink) as desk:
        robot.gateway_port = desk.smtp_port
        desk.send(new_mail(ROBOT, [VENDOR], "Your order 4711", "Your order 4711 has been dispatched."))

        def quiet() -> bool:
            seen = len(sink.mails)
            desk.settle()
            robot.join()
            desk.settle()
            return len(sink.mails) == seen

        wait_until(quiet, 60, "the exchange with the robot to stop")
        to_robot = mails_to(sink.mails, ROBOT.email)
        assert 1 <= len(to_robot) <= 2, f"{len(to_robot)} mails went to the robot"
        assert robot.answered == len(to_robot)
