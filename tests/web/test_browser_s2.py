"""Scenario S2 in a real Chromium against a real `relaydesk serve`: the desk and the customer's status page.

Mail goes in over SMTP and comes out at the sink, as in tests/e2e/; dana
works from the browser: she signs in with the link caught at the sink, sees
VND-1 on Chains, hands it to the partner from the ticket page, sees paul's
mailed reply arrive, answers alice from the page and rates the partner.
Alice follows her request from the link in her acknowledgement.  Each
screen is saved under docs/screenshots/ (from the SQLite run) for the README.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest

from tests.conftest import DEMO_TOML
from tests.e2e.harness import Installation, free_port
from tests.e2e.mail_clients import body_text, reply
from tests.e2e.people import ALICE, DANA, PAUL, VENDOR
from tests.e2e.steps import DANA_NOTE, alice_writes, no_mail_to, only_mail_to
from tests.services import fresh_postgres_database
from tests.web.browser import Browser, launch

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
SAVE_TO_DOCS = os.environ.get("RELAYDESK_SAVE_SCREENSHOTS") == "1"  # else they go to the test's own folder
PAUL_SIGNATURE = "-- \nPaul Partner\nPartner GmbH, Field Service\n+49 40 555 0100"
BOOKED = "Technician booked for Tuesday 10:00"
ROLLER = "Replaced the pickup roller."
DANAS_REPLY = "Dear Alice, a technician from our service partner comes on Tuesday at 10:00."


@pytest.fixture(params=["sqlite", "postgresql"])
def web_desk(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Installation, str, bool]]:
    """`relaydesk serve` on demo.toml with its web desk on a free port; (installation, base URL, on SQLite)."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    config = DEMO_TOML.read_text(encoding="utf-8") + (
        f'\n[web]\nlisten = "127.0.0.1:{port}"\nbase_url = "{base}"\noperators = ["{DANA.email}"]\n')
    with ExitStack() as stack:
        db_url = stack.enter_context(fresh_postgres_database()) if request.param == "postgresql" else None
        desk = stack.enter_context(Installation.demo(tmp_path / "desk", config, db_url=db_url))
        yield desk, base, request.param == "sqlite"


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with launch() as running:
        yield running


def test_s2_from_the_desk(web_desk: tuple[Installation, str, bool], browser: Browser) -> None:
    desk, base, sqlite = web_desk
    shots = browser.screenshots(SCREENSHOTS if SAVE_TO_DOCS and sqlite else desk.root / "screenshots")
    alices_mail, ack = alice_writes(desk)
    status_url = re.search(r"Follow your request online: (\S+)", body_text(ack)).group(1)
    assert status_url.startswith(f"{base}/s/")

    # dana asks for a sign-in link and opens it from the mail caught at the sink
    page = browser.page()
    page.goto(f"{base}/")
    assert page.url == f"{base}/sign-in"
    shots.take(page, "sign-in")
    page.fill("#email", DANA.email)
    since = len(desk.sink.mails)
    page.click("button[type=submit]")
    page.wait_for_selector("text=Check your mail")
    desk.settle()
    link = re.search(r"(http://\S+/sign-in/\S+)", body_text(only_mail_to(desk, DANA.email, since))).group(1)
    page.goto(link)
    page.click("#continue")
    page.wait_for_url(f"{base}/")
    assert "VND-1" in page.inner_text("table.chains") and "Printer jams on tray 2" in page.inner_text("table.chains")

    # she hands VND-1 to the partner from the ticket page
    page.click("a.ref:text('VND-1')")
    page.wait_for_url(f"{base}/t/VND-1")
    since = len(desk.sink.mails)
    page.select_option("#partner", "partner")
    page.fill("#handoff-form textarea[name=note]", DANA_NOTE)
    page.click("#handoff-form button[type=submit]")
    page.wait_for_selector("text=Handed off: PTN-1 at Partner GmbH")
    desk.settle()
    notice = only_mail_to(desk, PAUL.email, since)
    assert "[PTN-1]" in str(notice["Subject"]) and DANA_NOTE in body_text(notice)
    no_mail_to(desk, ALICE.email, since)
    vnd = desk.show("VND-1")
    assert [(l["child"], l["state"]) for l in vnd["links"]] == [("PTN-1", "handed_off")]
    assert any(a["filename"] == "jam-report.pdf" for m in desk.show("PTN-1")["messages"] for a in m["attachments"])

    # alice opens the link in her acknowledgement
    customer = browser.page()
    customer.goto(status_url)
    progress = customer.inner_text(".progress")
    assert "Request received" in progress and "With our service partner Partner GmbH since" in progress

    # paul answers the notice by mail; it shows on dana's page and reaches alice
    since = len(desk.sink.mails)
    desk.send(reply(notice, PAUL, BOOKED, client="thunderbird", signature=PAUL_SIGNATURE))
    desk.settle()
    to_alice = only_mail_to(desk, ALICE.email, since)
    assert BOOKED in body_text(to_alice) and "+49 40 555 0100" not in body_text(to_alice)
    page.reload()
    assert BOOKED in page.inner_text("#conversation")
    assert desk.show("VND-1")["links"][0]["state"] == "accepted"

    # dana answers alice from the page: it leaves as a mail like any other reply
    since = len(desk.sink.mails)
    page.fill("#reply-form textarea[name=text]", DANAS_REPLY)
    page.click("#reply-form button[type=submit]")
    page.wait_for_selector("text=Reply sent.")
    desk.settle()
    mailed = only_mail_to(desk, ALICE.email, since)
    assert DANAS_REPLY in body_text(mailed) and VENDOR in str(mailed["From"]) and "[VND-1]" in str(mailed["Subject"])
    assert str(mailed["In-Reply-To"]) in str(mailed["References"]) and "+r" in str(mailed["Reply-To"])
    thread = str(mailed["References"])
    assert alices_mail.message_id in thread or str(ack["Message-ID"]) in thread, "threaded to alice's conversation"
    assert "Chain: VND-1 (Vendor Ltd, open) → PTN-1 (Partner GmbH, open)" in body_text(mailed)
    assert status_url in body_text(mailed)
    no_mail_to(desk, PAUL.email, since)

    # paul resolves by mail; dana rates the partner in the browser
    desk.send(reply(notice, PAUL, f"#status resolved\n{ROLLER}", client="thunderbird", signature=PAUL_SIGNATURE))
    desk.settle()
    page.reload()
    page.click("#rate-PTN-1 label:has-text('4★')")
    page.fill("#rate-PTN-1 input[name=comment]", "quick, but no call ahead")
    page.click("#rate-PTN-1 button[type=submit]")
    page.wait_for_selector("text=Rated Partner GmbH 4 of 5.")
    [link] = desk.show("VND-1")["links"]
    assert (link["state"], link["rating"], link["rating_comment"]) == ("rated", 4, "quick, but no call ahead")
    shots.take(page, "ticket")

    page.goto(f"{base}/")
    assert "PTN-1" in page.inner_text("table.chains")
    shots.take(page, "chains")
    page.goto(f"{base}/partners")
    assert "Partner GmbH" in page.inner_text("main") and page.locator(".chart svg").count() == 1
    shots.take(page, "partners")
    page.goto(f"{base}/ops")
    assert "Parked mail" in page.text_content("main")
    shots.take(page, "ops")

    customer.reload()
    text = customer.inner_text("main")
    assert "Work done by our service partner Partner GmbH" in text
    assert BOOKED in text and ROLLER in text and DANAS_REPLY in text and DANA_NOTE not in text
    shots.take(customer, "status")
    assert desk.inbox_problems() == []
