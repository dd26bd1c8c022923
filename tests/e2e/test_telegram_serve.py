"""`relaydesk serve` with a [telegram] section: the bot's loop, the pipeline and the chat transport in one process.

The Bot API is the local fake; a customer starts the bot and writes, the
installation (embedded broker, its own worker) opens the ticket and answers
in the chat, and the operator's CLI shows the ticket.
"""

from __future__ import annotations

import time
from pathlib import Path

from tests.conftest import DEMO_TOML
from tests.e2e.harness import Installation, wait_until
from tests.bots.fake_bot_api import FakeBotApi, TgUser

ALICE = TgUser(501, "Alice", "Customer")


def test_a_customer_in_telegram_gets_a_ticket_and_an_answer(tmp_path: Path) -> None:
    with FakeBotApi() as api:
        config = DEMO_TOML.read_text(encoding="utf-8") + (
            f'\n[telegram]\ntoken = "{api.token}"\nbase_url = "{api.base_url}"\naccounts = ["vendor"]\n'
        )
        with Installation(tmp_path / "desk", config) as desk:
            api.user_sends_text(ALICE, "/start vendor")
            api.user_sends_text(ALICE, "The printer on floor 2 jams")
            replies = wait_until(lambda: len(api.sent_to(ALICE.id)) >= 2 and api.sent_to(ALICE.id), 30,
                                 f"two answers in the chat\n{desk.log_tail()}")
            assert "Welcome to Vendor" in replies[0]["text"] and "VND-1" in replies[1]["text"]
            desk.settle()
            [listed] = desk.tickets()
            assert (listed["ref"], listed["subject"]) == ("VND-1", "The printer on floor 2 jams")
            shown = desk.show("VND-1")
            assert {"role": "requester", "name": "Alice Customer", "email": None, "telegram": ALICE.id} in shown[
                "participants"]
            assert [(m["channel"], m["text"]) for m in shown["messages"]] == [("telegram", "The printer on floor 2 jams")]
            assert "Telegram bot" in desk.log_tail(200)


def test_an_smtp_only_process_leaves_the_bot_to_another(tmp_path: Path) -> None:
    with FakeBotApi() as api:
        config = DEMO_TOML.read_text(encoding="utf-8") + (
            f'\n[telegram]\ntoken = "{api.token}"\nbase_url = "{api.base_url}"\n'
        )
        with Installation(tmp_path / "desk", config, serve_args=("--smtp-only",)) as desk:
            api.user_sends_text(ALICE, "/start vendor")
            wait_until(lambda: "relaydesk serve: SMTP on" in desk.log_tail(200), 30, "the start-up line")
            time.sleep(2)  # what a running bot would need many times over to fetch the update
            assert api.pending_updates() == 1 and api.sent == []
            assert "Telegram bot" not in desk.log_tail(200)
