"""The fake Bot API driven by python-telegram-bot itself: PTB must accept every shape it answers."""

from __future__ import annotations

import asyncio
import json
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Awaitable, Callable, Iterator
from typing import Any, TypeVar

import pytest
from telegram import (
    Bot,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    TelegramObject,
    Update,
)
from telegram.error import BadRequest, InvalidToken

from tests.bots.fake_bot_api import FakeBotApi, TgUser

T = TypeVar("T")

ALICE = TgUser(id=1001, first_name="Alice", last_name="Archer", username="alice")
BOB = TgUser(id=1002, first_name="Bob", language_code=None)
SUPPORT_GROUP = -1_001_234_567_890
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4 + b"\r\n--not-a-boundary\r\n"
CLOSE_BUTTON = InlineKeyboardMarkup([[InlineKeyboardButton("Close", callback_data="close:42")]])


@pytest.fixture
def api() -> Iterator[FakeBotApi]:
    with FakeBotApi() as fake:
        yield fake


def with_bot(api: FakeBotApi, scenario: Callable[[Bot], Awaitable[T]], token: str | None = None) -> T:
    """Runs `scenario` with an initialized PTB Bot pointed at the fake."""

    async def main() -> T:
        async with Bot(token or api.token, base_url=api.base_url, base_file_url=api.base_file_url) as bot:
            return await scenario(bot)

    return asyncio.run(main())


def raw_call(api: FakeBotApi, method: str, body: dict[str, Any] | None = None, token: str | None = None) -> tuple[int, Any]:
    """A JSON-body POST outside PTB: the HTTP status and the decoded answer."""
    request = urllib.request.Request(
        f"{api.base_url}{token or api.token}/{method}", data=json.dumps(body or {}).encode(),
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, json.load(error)


def unknown_fields(value: object, where: str = "update") -> list[str]:
    """Fields PTB did not recognise anywhere in a parsed object tree (de_json parks them in api_kwargs)."""
    if isinstance(value, tuple):
        return [field for index, item in enumerate(value) for field in unknown_fields(item, f"{where}[{index}]")]
    if not isinstance(value, TelegramObject):
        return []
    found = [f"{where}.{name}" for name in value.api_kwargs]
    for name, attribute in value._get_attrs().items():
        found += unknown_fields(attribute, f"{where}.{name}")
    return found


def test_get_me_is_the_bot(api: FakeBotApi) -> None:
    me = with_bot(api, lambda bot: bot.get_me())
    assert (me.id, me.is_bot, me.username, me.first_name) == (123456, True, "relaydesk_bot", "Relaydesk")
    assert api.bot_id == 123456


def test_get_updates_confirms_below_the_offset_for_good(api: FakeBotApi) -> None:
    for text in ("one", "two", "three"):
        api.user_sends_text(ALICE, text)

    async def scenario(bot: Bot) -> None:
        first = await bot.get_updates()
        assert [u.message.text for u in first] == ["one", "two", "three"]
        ids = [u.update_id for u in first]
        assert ids == sorted(ids) and len(set(ids)) == 3
        assert [u.message.text for u in await bot.get_updates(limit=1)] == ["one"]
        assert [u.update_id for u in await bot.get_updates(offset=ids[1])] == ids[1:]
        assert api.pending_updates() == 2
        assert await bot.get_updates(offset=ids[2] + 1) == ()
        assert api.pending_updates() == 0
        assert await bot.get_updates() == ()  # confirmed updates never come back

    with_bot(api, scenario)


def test_long_poll_wakes_up_when_an_update_arrives(api: FakeBotApi) -> None:
    async def scenario(bot: Bot) -> tuple[float, tuple[Update, ...]]:
        threading.Timer(0.2, api.user_sends_text, (ALICE, "are you there?")).start()
        started = time.monotonic()
        updates = await bot.get_updates(timeout=5)
        return time.monotonic() - started, updates

    elapsed, updates = with_bot(api, scenario)
    assert [u.message.text for u in updates] == ["are you there?"]
    assert elapsed < 2


def test_stop_ends_a_waiting_long_poll() -> None:
    api = FakeBotApi().start()
    answers: list[tuple[int, Any]] = []
    poller = threading.Thread(target=lambda: answers.append(raw_call(api, "getUpdates", {"timeout": 30})))
    poller.start()
    time.sleep(0.2)
    started = time.monotonic()
    api.stop()
    poller.join(timeout=5)
    assert time.monotonic() - started < 2
    assert answers == [(200, {"ok": True, "result": []})]


def test_send_message_round_trips_an_inline_keyboard(api: FakeBotApi) -> None:
    api.user_sends_text(ALICE, "help")
    message = with_bot(api, lambda bot: bot.send_message(ALICE.id, "Ticket #42 opened", reply_markup=CLOSE_BUTTON))
    assert message.text == "Ticket #42 opened"
    assert (message.chat.id, message.chat.type, message.chat.username) == (ALICE.id, "private", "alice")
    assert message.from_user.id == api.bot_id and message.from_user.is_bot
    assert message.message_id == 2  # after Alice's message 1 in the same chat
    assert message.reply_markup == CLOSE_BUTTON
    [sent] = api.wait_for_sent(1)
    assert sent["method"] == "sendMessage"
    assert sent["reply_markup"] == {"inline_keyboard": [[{"text": "Close", "callback_data": "close:42"}]]}
    assert api.sent_to(ALICE.id) == [sent] and api.sent_to(BOB.id) == []


def test_replies_in_a_group_carry_the_replied_message(api: FakeBotApi) -> None:
    api.register_group(SUPPORT_GROUP, "Support")
    asked = api.user_sends_text(ALICE, "/ticket@relaydesk_bot printer broken", chat_id=SUPPORT_GROUP)

    async def scenario(bot: Bot) -> tuple[Update, Any, Any]:
        [update] = await bot.get_updates()
        by_id = await bot.send_message(SUPPORT_GROUP, "Opened #7", reply_to_message_id=asked["message_id"])
        answered = api.user_sends_text(BOB, "thanks", chat_id=SUPPORT_GROUP, reply_to=by_id.message_id)
        return update, by_id, answered

    update, reply, answered = with_bot(api, scenario)
    assert update.message.chat.type == "supergroup" and update.message.chat.title == "Support"
    assert update.message.parse_entities() == {update.message.entities[0]: "/ticket@relaydesk_bot"}
    assert reply.reply_to_message.text == "/ticket@relaydesk_bot printer broken"
    assert reply.reply_to_message.from_user.id == ALICE.id
    assert answered["reply_to_message"]["message_id"] == reply.message_id
    assert "reply_to_message" not in answered["reply_to_message"]  # one level deep, as on Telegram


def test_photo_downloads_as_the_sent_bytes(api: FakeBotApi) -> None:
    api.user_sends_photo(ALICE, PNG, caption="the error screen")

    async def scenario(bot: Bot) -> tuple[Update, bytearray, bytearray]:
        [update] = await bot.get_updates()
        full = await (await update.message.photo[-1].get_file()).download_as_bytearray()
        thumb = await (await bot.get_file(update.message.photo[0].file_id)).download_as_bytearray()
        return update, full, thumb

    update, full, thumb = with_bot(api, scenario)
    assert update.message.caption == "the error screen"
    assert [size.width for size in update.message.photo] == [90, 1280]  # largest last
    assert update.message.photo[-1].file_size == len(PNG)
    assert bytes(full) == PNG
    assert len(thumb) < len(PNG) and PNG.startswith(thumb)


def test_documents_both_ways(api: FakeBotApi) -> None:
    api.user_sends_document(ALICE, b"%PDF-1.4 invoice", "invoice.pdf", "application/pdf", caption="paid?")

    async def scenario(bot: Bot) -> tuple[Any, Any, bytearray, Any]:
        [update] = await bot.get_updates()
        sent = await bot.send_document(ALICE.id, document=b"col1,col2\r\n1,2\r\n", filename="report.csv", caption="report")
        downloaded = await (await bot.get_file(sent.document.file_id)).download_as_bytearray()
        again = await bot.send_document(ALICE.id, document=update.message.document.file_id)
        return update.message.document, sent, downloaded, again

    received, sent, downloaded, again = with_bot(api, scenario)
    assert (received.file_name, received.mime_type, received.file_size) == ("invoice.pdf", "application/pdf", 16)
    assert (sent.document.file_name, sent.document.mime_type, sent.caption) == ("report.csv", "text/csv", "report")
    assert bytes(downloaded) == b"col1,col2\r\n1,2\r\n"
    assert again.document.file_unique_id == received.file_unique_id
    assert [m["method"] for m in api.sent] == ["sendDocument", "sendDocument"]


def test_bot_sends_a_photo_by_upload_and_by_file_id(api: FakeBotApi) -> None:
    api.user_sends_text(ALICE, "hi")

    async def scenario(bot: Bot) -> tuple[Any, Any, bytearray]:
        uploaded = await bot.send_photo(ALICE.id, photo=PNG, caption="chart")
        resent = await bot.send_photo(ALICE.id, photo=uploaded.photo[-1].file_id)
        downloaded = await (await resent.photo[-1].get_file()).download_as_bytearray()
        return uploaded, resent, downloaded

    uploaded, resent, downloaded = with_bot(api, scenario)
    assert uploaded.caption == "chart" and resent.caption is None
    assert resent.photo == uploaded.photo
    assert bytes(downloaded) == PNG


def test_button_press_is_answered_once(api: FakeBotApi) -> None:
    api.user_sends_text(ALICE, "help")

    async def scenario(bot: Bot) -> Any:
        [hello] = await bot.get_updates()
        sent = await bot.send_message(ALICE.id, "Ticket #42", reply_markup=CLOSE_BUTTON)
        pressed = api.user_presses(ALICE, api.sent[0], "close:42")
        [update] = await bot.get_updates(offset=hello.update_id + 1)
        query = update.callback_query
        assert (query.id, query.data, query.from_user.id) == (pressed["id"], "close:42", ALICE.id)
        assert query.message.message_id == sent.message_id
        assert await bot.answer_callback_query(query.id, text="Closed", show_alert=True) is True
        with pytest.raises(BadRequest, match="Query is too old"):
            await bot.answer_callback_query(query.id)
        with pytest.raises(BadRequest, match="Query is too old"):
            await bot.answer_callback_query("no-such-query")
        return query

    with_bot(api, scenario)
    assert api.answered_callbacks == [{"callback_query_id": "1", "text": "Closed", "show_alert": True}]
    with pytest.raises(ValueError, match="no button"):
        api.user_presses(ALICE, api.sent[0], "reopen:42")


def test_edits_change_the_message_the_user_sees(api: FakeBotApi) -> None:
    api.user_sends_text(ALICE, "help")

    async def scenario(bot: Bot) -> tuple[Any, Any, Any]:
        sent = await bot.send_message(ALICE.id, "Ticket #42: open", reply_markup=CLOSE_BUTTON)
        kept = await bot.edit_message_text("Ticket #42: pending", ALICE.id, sent.message_id, reply_markup=CLOSE_BUTTON)
        closed = await bot.edit_message_text("Ticket #42: closed", ALICE.id, sent.message_id)
        with pytest.raises(BadRequest, match="Message is not modified"):
            await bot.edit_message_text("Ticket #42: closed", ALICE.id, sent.message_id)
        with pytest.raises(BadRequest, match="Message to edit not found"):
            await bot.edit_message_text("nope", ALICE.id, 999)
        with pytest.raises(BadRequest, match="Message can't be edited"):
            await bot.edit_message_text("nope", ALICE.id, 1)  # Alice's own message
        buttons = await bot.edit_message_reply_markup(ALICE.id, sent.message_id, reply_markup=CLOSE_BUTTON)
        return kept, closed, buttons

    kept, closed, buttons = with_bot(api, scenario)
    assert (kept.text, kept.reply_markup) == ("Ticket #42: pending", CLOSE_BUTTON)
    assert kept.edit_date is not None and kept.message_id == closed.message_id
    assert (closed.text, closed.reply_markup) == ("Ticket #42: closed", None)  # no markup passed: keyboard gone
    assert (buttons.text, buttons.reply_markup) == ("Ticket #42: closed", CLOSE_BUTTON)
    assert [m["method"] for m in api.sent] == [
        "sendMessage", "editMessageText", "editMessageText", "editMessageReplyMarkup",
    ]
    with pytest.raises(ValueError, match="no button"):  # presses see the message as it is now
        api.user_presses(ALICE, api.sent[0], "close:43")


def test_wrong_token_is_refused_everywhere(api: FakeBotApi) -> None:
    with pytest.raises(InvalidToken, match="rejected"):  # PTB rewords the 401 from getMe at initialization
        with_bot(api, lambda bot: bot.get_me(), token="123456:WRONG")
    assert raw_call(api, "sendMessage", {"chat_id": 1, "text": "x"}, token="123456:WRONG") == (
        401, {"ok": False, "error_code": 401, "description": "Unauthorized"},
    )
    with pytest.raises(urllib.error.HTTPError, match="401"):
        urllib.request.urlopen(f"{api.base_file_url}123456:WRONG/photos/file_1.jpg", timeout=5)


def test_refusals_have_telegrams_shape(api: FakeBotApi) -> None:
    with pytest.raises(BadRequest, match="Chat not found"):
        with_bot(api, lambda bot: bot.send_message(ALICE.id, "nobody wrote from here yet"))
    with pytest.raises(BadRequest, match="Invalid file_id"):
        with_bot(api, lambda bot: bot.get_file("no-such-file"))
    assert raw_call(api, "sendMessage", {"chat_id": 999, "text": "x"}) == (
        400, {"ok": False, "error_code": 400, "description": "Bad Request: chat not found"},
    )
    assert raw_call(api, "sendCarrierPigeon") == (404, {"ok": False, "error_code": 404, "description": "Not Found"})
    assert api.sent == []


def test_json_bodies_and_get_requests_work_too(api: FakeBotApi) -> None:
    api.user_sends_text(BOB, "hello")
    status, answer = raw_call(api, "sendMessage", {"chat_id": BOB.id, "text": "123", "reply_to_message_id": 1})
    assert status == 200 and answer["result"]["text"] == "123"  # a digit-only text stays a string
    assert answer["result"]["reply_to_message"]["from"] == {"id": BOB.id, "is_bot": False, "first_name": "Bob"}
    with urllib.request.urlopen(f"{api.base_url}{api.token}/getMe", timeout=5) as response:
        assert json.load(response)["result"]["username"] == "relaydesk_bot"


def test_every_update_parses_without_unknown_fields(api: FakeBotApi) -> None:
    api.register_group(-4001, "Ops")
    api.user_sends_text(ALICE, "/start")
    api.user_sends_text(BOB, "in the group", chat_id=-4001)
    api.user_sends_photo(ALICE, PNG, caption="photo")
    api.user_sends_document(BOB, b"log", "app.log", "text/plain", chat_id=-4001, reply_to=1)
    with_bot(api, lambda bot: bot.send_message(ALICE.id, "Ticket #1", reply_markup=CLOSE_BUTTON, reply_to_message_id=1))
    api.user_presses(BOB, api.sent[0], "close:42")
    _, answer = raw_call(api, "getUpdates")
    raw_updates = answer["result"]
    assert [next(k for k in u if k != "update_id") for u in raw_updates] == ["message"] * 4 + ["callback_query"]

    bot = Bot(api.token, base_url=api.base_url, base_file_url=api.base_file_url)
    updates = [Update.de_json(raw, bot) for raw in raw_updates]
    assert [unknown_fields(update) for update in updates] == [[]] * 5
    assert updates[0].message.entities[0].type == "bot_command" and updates[0].message.entities[0].length == 6
    assert updates[1].effective_chat.type == "group"
    assert updates[3].message.reply_to_message.text == "in the group"
    assert updates[4].callback_query.message.reply_to_message.text == "/start"
    assert updates[4].callback_query.chat_instance
