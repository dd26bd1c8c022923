"""Scenario S5 and the rest of SPEC §8 against the fake Bot API, with python-telegram-bot on both channel ends.

The bot's update loop (bots/telegram_channel.py) stores each update through
intake; the test processes the inbox items with the real pipeline and sends
the queued chat messages with the real transport, so every step crosses the
fake Bot API over HTTP.  Mail is read from the outbox (as rendered).
"""

from __future__ import annotations

import email
import email.policy
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

import bots.updates
from bots.channel import TelegramChannel
from bots.linking import link_code
from gateway.app.processing import process_inbox_item
from gateway.core.accounts import sync_accounts
from gateway.core.config import Config, parse_config
from gateway.core.runtime import Runtime
from gateway.outbound.delivery import deliver
from storage.models import Agent, InboxItem, Ticket, utcnow
from tests.at_once import run_at_once
from tests.bots.fake_bot_api import FakeBotApi, TgUser
from tests.conftest import demo_config_text
from tests.e2e.harness import wait_until
from tests.flows import mails
from tests.flows.mails import PDF
from tests.flows.world import DANA, PAUL, answer, link_of, new_mail_since, ticket
from tests.pipeline.mail import deliver as deliver_mail
from tests.pipeline.mail import outbox

ALICE = TgUser(501, "Alice", "Customer", username="alice")
DANA_TG = TgUser(111111, "Dana")
PAUL_TG = TgUser(222222, "Paul")
SAM_TG = TgUser(444444, "Sam")
STRANGER = TgUser(999, "Mallory")
VENDOR_TEAM, PARTNER_TEAM, SUBCO_TEAM = -1001234567890, -1009876543210, -1005555555555
PHOTO = b"\xff\xd8\xff\xe0" + b"jpeg bytes of a broken tray " * 40


class Desk:
    """The bot's channel running against the fake API, and one call that settles all work."""

    def __init__(self, runtime: Runtime, api: FakeBotApi) -> None:
        self.runtime, self.api = runtime, api
        self.enqueued: list[int] = []
        self.channel = TelegramChannel(runtime, enqueue=self.enqueued.append, poll_seconds=1)

    def settle(self, updates: int = 0) -> None:
        """Wait until the channel stored `updates` more updates, process everything, send the chat messages."""
        wanted = len(self.enqueued) + updates
        wait_until(lambda: len(self.enqueued) >= wanted, 15, f"{updates} update(s) stored")
        for inbox_id in self.enqueued:
            process_inbox_item(self.runtime, inbox_id)
        for item in outbox(self.runtime):
            if item.channel == "telegram" and item.status == "pending":
                deliver(self.runtime, item.id)

    def said_to(self, chat_id: int) -> list[str]:
        return [message.get("text", "") for message in self.api.sent_to(chat_id)]


def desk_config(tmp_path: Path, db_url: str, telegram: dict[str, Any]) -> Config:
    """The demo world with a bot, where the external contractor subco has a crew on Telegram and no mailbox."""
    data = tomllib.loads(demo_config_text(tmp_path))
    data["storage"]["url"], data["telegram"] = db_url, telegram
    [subco] = [account for account in data["accounts"] if account["slug"] == "subco"]
    subco["agents"] = [{"name": "Sam Subco", "telegram": SAM_TG.id}]
    return parse_config(data)


@pytest.fixture
def desk(db_url: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Desk]:
    """The desk; a test marked `telegram_settings(key=value, …)` gets those [telegram] keys too."""
    marker = request.node.get_closest_marker("telegram_settings")
    with FakeBotApi() as api:
        api.register_group(VENDOR_TEAM, "Vendor dispatch")
        api.register_group(PARTNER_TEAM, "Partner field team")
        api.register_group(SUBCO_TEAM, "Subco crew")
        telegram: dict[str, Any] = {
            "token": api.token, "base_url": api.base_url, "accounts": ["vendor"],
            "team_chats": {"vendor": VENDOR_TEAM, "partner": PARTNER_TEAM, "subco": SUBCO_TEAM},
            "agents": {str(DANA_TG.id): "dana@vendor.example", str(PAUL_TG.id): "paul@partner.example"},
            **(marker.kwargs if marker else {}),
        }
        runtime = Runtime.open(desk_config(tmp_path, db_url, telegram))
        desk = Desk(runtime, api)
        desk.channel.start()
        try:
            yield desk
        finally:
            desk.channel.stop()
            runtime.close()


def tickets(runtime: Runtime) -> list[str]:
    with runtime.db.transaction() as session:
        return list(session.scalars(select(Ticket.ref).order_by(Ticket.id)))


def test_s5_customer_in_the_chat_agent_by_mail_partner_resolves_with_one_tap(desk: Desk) -> None:
    runtime, api = desk.runtime, desk.api
    api.user_sends_text(ALICE, "/start vendor")
    desk.settle(1)
    assert "Welcome to Vendor" in desk.said_to(ALICE.id)[0]

    # A photo with a caption: a ticket in vendor with the photo attached.
    api.user_sends_photo(ALICE, PHOTO, caption="Tray 2 is broken again")
    desk.settle(1)
    assert tickets(runtime) == ["VND-1"]
    vnd = ticket(runtime, "VND-1")
    assert vnd.subject == "Tray 2 is broken again"
    [message] = vnd.messages
    assert (message.channel, message.text, message.from_name) == ("telegram", "Tray 2 is broken again", "Alice Customer")
    [photo] = message.attachments
    assert runtime.blobs.get(photo.sha256) == PHOTO and photo.content_type == "image/jpeg"
    assert "VND-1" in desk.said_to(ALICE.id)[-1]
    team_post, team_photo = api.sent_to(VENDOR_TEAM)  # the team sees the photo too
    assert "New request VND-1" in team_post["text"] and "Tray 2 is broken again" in team_post["text"]
    assert team_photo["document"]["file_size"] == len(PHOTO)
    assert team_photo["reply_to_message"]["message_id"] == team_post["message_id"]
    assert [b["text"] for b in team_post["reply_markup"]["inline_keyboard"][0]] == ["Take", "Resolve"]

    # Dana answers the notice mail from her mail client: the answer reaches the chat.
    notice = [o for o in outbox(runtime) if o.recipient == "dana@vendor.example" and o.kind == "chat_copy"][-1]
    answer(runtime, notice, DANA, "A technician comes tomorrow at 9. The quote is attached.",
           attachment=("quote.pdf", "application/pdf", PDF))
    desk.settle()
    agent_answer, document = api.sent_to(ALICE.id)[-2:]
    assert agent_answer["text"].startswith("VND-1 · Dana") and "A technician comes tomorrow at 9." in agent_answer["text"]
    assert (document["document"]["file_name"], document["document"]["file_size"]) == ("quote.pdf", len(PDF))
    assert document["reply_to_message"]["message_id"] == agent_answer["message_id"]

    # Alice answers that message in the chat: the same ticket.
    api.user_sends_text(ALICE, "9 works, thank you", reply_to=agent_answer["message_id"])
    desk.settle(1)
    assert tickets(runtime) == ["VND-1"]
    assert [m.text for m in ticket(runtime, "VND-1").messages][-1] == "9 works, thank you"
    follow_up = api.sent_to(VENDOR_TEAM)[-1]  # the team sees it too, and can answer it there
    assert follow_up["text"] == "VND-1 · Alice Customer:\n9 works, thank you" and "reply_markup" not in follow_up

    # Dana hands the request to the partner from her mail client; the partner's team resolves it with one tap.
    answer(runtime, notice, DANA, "#handoff partner Please send a technician for tray 2.")
    desk.settle()
    handoff_post, *handed_files = api.sent_to(PARTNER_TEAM)  # the crew gets the request's files with the job
    assert "Handoff VND-1 → PTN-1" in handoff_post["text"]
    assert sorted(f["document"]["file_size"] for f in handed_files) == sorted([len(PHOTO), len(PDF)])
    # Paul answers in his team chat; the update travels up the chain to Alice's chat.
    api.user_sends_text(PAUL_TG, "Technician booked for Tuesday.", chat_id=PARTNER_TEAM,
                        reply_to=handoff_post["message_id"])
    desk.settle(1)
    assert desk.said_to(ALICE.id)[-1] == "VND-1:\nTechnician booked for Tuesday.\n\n(via Partner GmbH)"
    before = len(outbox(runtime))
    api.user_presses(PAUL_TG, handoff_post, handoff_post["reply_markup"]["inline_keyboard"][0][1]["callback_data"])
    desk.settle(1)
    assert ticket(runtime, "PTN-1").status == "resolved"
    assert link_of(runtime, "PTN-1").state == "resolved"
    assert api.answered_callbacks[-1]["text"] == "PTN-1 resolved by Paul Partner."
    edited = api.sent_to(PARTNER_TEAM)[-1]  # the post says what happened, and its buttons are gone
    assert edited["message_id"] == handoff_post["message_id"] and edited["text"].endswith("✓ PTN-1 resolved by Paul Partner.")
    assert not edited.get("reply_markup", {}).get("inline_keyboard")
    assert new_mail_since(runtime, before, "dana@vendor.example", "rating")

    # The rating request in vendor's team chat: Dana taps 5.
    rating_post = api.sent_to(VENDOR_TEAM)[-1]
    assert "How well did they do?" in rating_post["text"]
    api.user_presses(DANA_TG, rating_post, rating_post["reply_markup"]["inline_keyboard"][0][4]["callback_data"])
    desk.settle(1)
    assert link_of(runtime, "PTN-1").rating == 5
    assert api.sent_to(VENDOR_TEAM)[-1]["text"].endswith("✓ PTN-1 rated 5 of 5 by Dana Dispatcher.")


def test_a_contractor_without_a_mailbox_works_a_child_ticket_from_telegram(desk: Desk) -> None:
    """SPEC §8: subco's crew has no mail at all; they take, answer and resolve SUB-1 in their team chat."""
    runtime, api = desk.runtime, desk.api
    post = alice_opens_a_ticket(desk)
    notice = [o for o in outbox(runtime) if o.recipient == "dana@vendor.example" and o.kind == "chat_copy"][-1]
    answer(runtime, notice, DANA, "#handoff partner Please send a technician for tray 2.")
    desk.settle()
    handoff = [o for o in outbox(runtime) if o.recipient == "paul@partner.example" and o.kind == "handoff"][-1]
    answer(runtime, handoff, PAUL, "#handoff subco Please go on site, tray 2.")
    desk.settle()
    [crew_post] = api.sent_to(SUBCO_TEAM)
    assert "Handoff PTN-1 → SUB-1" in crew_post["text"] and post["message_id"]

    api.user_presses(SAM_TG, crew_post, crew_post["reply_markup"]["inline_keyboard"][0][0]["callback_data"])
    desk.settle(1)
    assert api.answered_callbacks[-1]["text"] == "SUB-1 taken by Sam Subco."
    assert ticket(runtime, "SUB-1").assignee == "Sam Subco"

    api.user_sends_text(SAM_TG, "On site Tuesday at 10.", chat_id=SUBCO_TEAM, reply_to=crew_post["message_id"])
    desk.settle(1)
    comment = ticket(runtime, "SUB-1").messages[-1]
    assert (comment.text, comment.visibility, comment.from_email) == ("On site Tuesday at 10.", "public", None)
    assert "On site Tuesday at 10." in desk.said_to(ALICE.id)[-1]  # mirrored up the chain to the customer

    api.user_presses(SAM_TG, crew_post, crew_post["reply_markup"]["inline_keyboard"][0][1]["callback_data"])
    desk.settle(1)
    assert ticket(runtime, "SUB-1").status == "resolved" and link_of(runtime, "SUB-1").state == "resolved"
    assert api.answered_callbacks[-1]["text"] == "SUB-1 resolved by Sam Subco."
    assert "SUB-1 (Subco Field Service) resolved" in api.sent_to(PARTNER_TEAM)[-1]["text"]  # Paul is asked to rate
    assert not [o for o in outbox(runtime) if o.recipient in ("", "None")]  # nobody was mailed at no address


def test_a_mailed_request_reaches_the_team_chat_with_its_files_but_not_its_inline_images(desk: Desk) -> None:
    mail = email.message_from_bytes(mails.customer_mail(), policy=email.policy.default)
    mail.add_attachment(b"\x89PNG logo bytes", maintype="image", subtype="png", filename="logo.png",
                        disposition="inline", cid="<logo@client.example>")
    deliver_mail(desk.runtime, bytes(mail))
    desk.settle()
    post, *files = desk.api.sent_to(VENDOR_TEAM)
    assert "New request VND-1 from Alice Customer" in post["text"]
    assert [f["document"]["file_name"] for f in files] == ["error-log.pdf"]
    assert {a.filename for a in ticket(desk.runtime, "VND-1").messages[0].attachments} == {"error-log.pdf", "logo.png"}


def test_new_starts_another_request_and_tickets_lists_them(desk: Desk) -> None:
    api = desk.api
    api.user_sends_text(ALICE, "/start vendor")
    api.user_sends_text(ALICE, "The printer jams")
    api.user_sends_text(ALICE, "Also on tray 3")  # the same request
    api.user_sends_text(ALICE, "/new The scanner is offline")
    desk.settle(4)
    assert tickets(desk.runtime) == ["VND-1", "VND-2"]
    assert [m.text for m in ticket(desk.runtime, "VND-1").messages] == ["The printer jams", "Also on tray 3"]
    api.user_sends_text(ALICE, "/tickets")
    desk.settle(1)
    listing = desk.said_to(ALICE.id)[-1]
    assert "VND-2: new — The scanner is offline" in listing and "VND-1: new — The printer jams" in listing


def alice_opens_a_ticket(desk: Desk) -> dict[str, Any]:
    """Alice starts the bot and writes: VND-1; returns its post in vendor's team chat."""
    desk.api.user_sends_text(ALICE, "/start vendor")
    desk.api.user_sends_text(ALICE, "The printer jams")
    desk.settle(2)
    [post] = desk.api.sent_to(VENDOR_TEAM)
    return post


def test_taps_and_comments_of_people_who_are_no_agents_change_nothing(desk: Desk) -> None:
    api, runtime = desk.api, desk.runtime
    post = alice_opens_a_ticket(desk)
    api.user_presses(STRANGER, post, f"resolve:{post_ticket_id(runtime)}")
    api.user_presses(PAUL_TG, post, f"resolve:{post_ticket_id(runtime)}")  # an agent, but of another account
    api.user_sends_text(STRANGER, "closing this", chat_id=VENDOR_TEAM, reply_to=post["message_id"])
    desk.settle(3)
    assert ticket(runtime, "VND-1").status == "new"
    assert [m.text for m in ticket(runtime, "VND-1").messages] == ["The printer jams"]
    assert [c["text"] for c in api.answered_callbacks] == ["Only the team's agents can do this."] * 2
    with runtime.db.transaction() as session:
        problems = [p for item in session.scalars(select(InboxItem)) for p in item.problems]
    assert any("no agent of VND-1's account; tap ignored" in p for p in problems)
    assert any("no agent of VND-1's account; comment ignored" in p for p in problems)


def test_agents_comment_in_the_team_chat_public_or_as_a_note(desk: Desk) -> None:
    api, runtime = desk.api, desk.runtime
    post = alice_opens_a_ticket(desk)
    api.user_sends_text(DANA_TG, "/note customer is a VIP", chat_id=VENDOR_TEAM, reply_to=post["message_id"])
    api.user_sends_text(DANA_TG, "We are on it.", chat_id=VENDOR_TEAM, reply_to=post["message_id"])
    desk.settle(2)
    messages = ticket(runtime, "VND-1").messages
    assert [(m.text, m.visibility, m.from_email) for m in messages[1:]] == [
        ("customer is a VIP", "internal", "dana@vendor.example"), ("We are on it.", "public", "dana@vendor.example")]
    assert desk.said_to(ALICE.id)[-1] == "VND-1 · Dana:\nWe are on it."
    assert not any("VIP" in text for text in desk.said_to(ALICE.id))


def test_a_chat_that_never_chose_an_account_is_asked_to(desk: Desk, tmp_path: Path) -> None:
    desk.api.user_sends_text(ALICE, "/start nosuchfirm")
    desk.settle(1)
    assert "does not lead to a support desk" in desk.said_to(ALICE.id)[-1]
    # The bot serves one account only, so a plain message still finds it.
    desk.api.user_sends_text(ALICE, "Hello?")
    desk.settle(1)
    assert tickets(desk.runtime) == ["VND-1"]


def post_ticket_id(runtime: Runtime) -> int:
    with runtime.db.transaction() as session:
        return session.scalar(select(Ticket.id).where(Ticket.ref == "VND-1"))


def test_an_update_fetched_again_after_a_failure_is_stored_once(desk: Desk, monkeypatch) -> None:
    """The loop fails after the commit, before Telegram learnt the next offset: the update comes again."""
    real_store = TelegramChannel._store
    calls: list[int] = []

    async def fail_once_after_storing(self: TelegramChannel, bot: Any, update: Any) -> None:
        await real_store(self, bot, update)
        calls.append(update.update_id)
        if len(calls) == 1:
            raise OSError("connection lost")

    monkeypatch.setattr(TelegramChannel, "_store", fail_once_after_storing)
    desk.api.user_sends_text(ALICE, "/start vendor")
    wait_until(lambda: len(calls) == 2, 15, "the update fetched a second time")
    assert calls[0] == calls[1]
    desk.settle()
    with desk.runtime.db.transaction() as session:
        assert len(session.scalars(select(InboxItem)).all()) == 1
    assert len(desk.said_to(ALICE.id)) == 1


def test_two_quick_messages_taken_by_two_workers_make_one_ticket(desk: Desk) -> None:
    desk.api.user_sends_text(ALICE, "/start vendor")
    desk.settle(1)
    desk.api.user_sends_photo(ALICE, PHOTO)
    desk.api.user_sends_text(ALICE, "That is tray 2, it jams")
    wait_until(lambda: len(desk.enqueued) == 3, 15, "both messages stored")
    run_at_once(process_inbox_item, [(desk.runtime, desk.enqueued[1]), (desk.runtime, desk.enqueued[2])])
    assert tickets(desk.runtime) == ["VND-1"]
    assert len(ticket(desk.runtime, "VND-1").messages) == 2


def test_a_chats_updates_are_applied_and_answered_in_order_whichever_worker_takes_them(desk: Desk) -> None:
    api, runtime = desk.api, desk.runtime
    api.user_sends_text(ALICE, "/start vendor")
    api.user_sends_text(ALICE, "The printer jams")
    api.user_sends_text(ALICE, "/new The scanner is offline")
    wait_until(lambda: len(desk.enqueued) == 3, 15, "three updates stored")
    for inbox_id in reversed(desk.enqueued):  # the newest is taken first
        process_inbox_item(runtime, inbox_id)
    assert [(t.ref, t.subject) for t in (ticket(runtime, "VND-1"), ticket(runtime, "VND-2"))] == [
        ("VND-1", "The printer jams"), ("VND-2", "The scanner is offline")]
    chat_items = [item.id for item in outbox(runtime) if item.recipient == str(ALICE.id)]
    assert len(chat_items) == 3
    while any(item.status == "pending" for item in outbox(runtime) if item.id in chat_items):
        waits = [deliver(runtime, outbox_id) for outbox_id in reversed(chat_items)]
        assert waits.count(None) >= 1
    said = desk.said_to(ALICE.id)
    assert "Welcome to Vendor" in said[0] and "VND-1" in said[1] and "VND-2" in said[2]


@pytest.mark.telegram_settings(max_messages_per_chat_per_hour=3)
def test_a_chat_over_its_hourly_limit_is_kept_quietly_and_asked_once_to_wait(desk: Desk) -> None:
    api, runtime = desk.api, desk.runtime
    api.user_sends_text(ALICE, "/start vendor")
    api.user_sends_text(ALICE, "The printer jams")
    api.user_sends_text(ALICE, "Tray 2")
    for n in range(3):  # the 4th update of the hour and on
        api.user_sends_text(ALICE, f"/new Still broken {n}")
    desk.settle(6)
    assert tickets(runtime) == ["VND-1"]  # no new tickets over the limit
    assert [m.text for m in ticket(runtime, "VND-1").messages] == [
        "The printer jams", "Tray 2", "Still broken 0", "Still broken 1", "Still broken 2"]
    copies = [o for o in outbox(runtime) if o.kind == "chat_copy"]
    assert len(copies) == 2 and len(api.sent_to(VENDOR_TEAM)) == 2  # the first two only
    said = desk.said_to(ALICE.id)
    assert len(said) == 3 and "many messages" in said[2] and "VND-1" in said[2]  # welcome, thanks, one notice
    with runtime.db.transaction() as session:
        problems = [p for item in session.scalars(select(InboxItem)) for p in item.problems]
    assert sum("more than 3 messages from this chat within an hour" in p for p in problems) == 3


def test_a_flood_limit_delays_the_next_try_as_long_as_telegram_asks(desk: Desk) -> None:
    desk.api.flood_limit(retry_after=600)
    desk.api.user_sends_text(ALICE, "/start vendor")
    desk.settle(1)
    assert desk.said_to(ALICE.id) == []
    [welcome] = [item for item in outbox(desk.runtime) if item.recipient == str(ALICE.id)]
    assert (welcome.status, welcome.attempts) == ("pending", 1) and "flood limit" in welcome.error
    assert (welcome.next_attempt_at - utcnow()).total_seconds() > 590  # not the 30 s backoff of a first retry


def test_a_broken_update_does_not_hold_up_its_chat(desk: Desk, monkeypatch) -> None:
    real_apply = bots.updates.apply_update

    def fail_on_boom(runtime: Runtime, session: Any, item: InboxItem, update: Any) -> Any:
        if update.text == "boom":
            raise ValueError("cannot apply this one")
        return real_apply(runtime, session, item, update)

    monkeypatch.setattr(bots.updates, "apply_update", fail_on_boom)
    desk.api.user_sends_text(ALICE, "/start vendor")
    desk.api.user_sends_text(ALICE, "boom")
    desk.api.user_sends_text(ALICE, "The printer jams")
    wait_until(lambda: len(desk.enqueued) == 3, 15, "three updates stored")
    process_inbox_item(desk.runtime, desk.enqueued[2])
    assert [m.text for m in ticket(desk.runtime, "VND-1").messages] == ["The printer jams"]
    process_inbox_item(desk.runtime, desk.enqueued[1])
    with desk.runtime.db.transaction() as session:
        items = session.scalars(select(InboxItem).order_by(InboxItem.id)).all()
        assert [item.status for item in items] == ["done", "pending", "done"]
        assert items[1].attempts == 1 and "cannot apply this one" in items[1].error


def test_an_agent_links_their_telegram_with_a_one_time_code(desk: Desk) -> None:
    """Someone no config maps: after /link with the code from `relaydesk telegram-code`, their taps count."""
    newcomer = TgUser(333333, "Nina")
    with desk.runtime.db.transaction() as session:
        dana = session.scalar(select(Agent).where(Agent.email == "dana@vendor.example"))
        code = link_code(desk.runtime.config.security.secret, dana, utcnow().date())
    post = alice_opens_a_ticket(desk)
    desk.api.user_sends_text(newcomer, "/link WRONGCODE1")
    desk.api.user_sends_text(newcomer, f"/link {code}")
    desk.settle(2)
    assert "not valid" in desk.said_to(newcomer.id)[0]
    assert desk.said_to(newcomer.id)[1] == "Linked: you act as Dana Dispatcher of Vendor Ltd in its team chat."
    desk.api.user_sends_text(TgUser(444444, "Eve"), f"/link {code}")  # spent: Dana's linked id changed
    desk.api.user_presses(newcomer, post, f"take:{post_ticket_id(desk.runtime)}")
    desk.settle(2)
    assert "not valid" in desk.said_to(444444)[0]
    assert ticket(desk.runtime, "VND-1").assignee == "dana@vendor.example"
    with desk.runtime.db.transaction() as session:  # a restart mirrors the config again: the link stays
        sync_accounts(session, desk.runtime.config)
    with desk.runtime.db.transaction() as session:
        assert session.scalar(select(Agent.telegram_id).where(Agent.email == "dana@vendor.example")) == newcomer.id
