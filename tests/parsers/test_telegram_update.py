"""parsers.telegram: Bot API updates as relaydesk reads them; broken ones never raise."""

from __future__ import annotations

import json

import pytest

from parsers.telegram import TelegramFile, parse_update

ALICE = {"id": 501, "is_bot": False, "first_name": "Alice", "last_name": "Example", "username": "alice"}
PRIVATE = {"id": 501, "type": "private", "first_name": "Alice"}


def raw(update: dict) -> bytes:
    return json.dumps(update).encode()


def test_a_start_command_with_its_argument() -> None:
    update = parse_update(raw({"update_id": 7, "message": {
        "message_id": 1, "date": 0, "chat": PRIVATE, "from": ALICE, "text": "/start vendor",
        "entities": [{"type": "bot_command", "offset": 0, "length": 6}]}}))
    assert (update.kind, update.command, update.command_args, update.text) == ("message", "start", ("vendor",), "vendor")
    assert (update.update_id, update.chat_id, update.chat_type, update.user_id, update.user_name) == (
        7, 501, "private", 501, "Alice Example")


def test_a_group_command_addressed_to_the_bot_and_a_reply() -> None:
    update = parse_update(raw({"update_id": 8, "message": {
        "message_id": 9, "date": 0, "chat": {"id": -100, "type": "supergroup", "title": "Team"}, "from": ALICE,
        "text": "/note@relaydesk_bot called the customer", "reply_to_message": {"message_id": 4, "date": 0,
                                                                               "chat": {"id": -100, "type": "group"}}}}))
    assert (update.command, update.text, update.reply_to_message_id) == ("note", "called the customer", 4)


def test_a_photo_with_caption_takes_the_largest_size() -> None:
    update = parse_update(raw({"update_id": 9, "message": {
        "message_id": 3, "date": 0, "chat": PRIVATE, "from": ALICE, "caption": "Broken tray",
        "photo": [{"file_id": "small", "file_unique_id": "s", "width": 90, "height": 60, "file_size": 900},
                  {"file_id": "large", "file_unique_id": "l", "width": 1280, "height": 960, "file_size": 90000}]}}))
    assert update.text == "Broken tray" and update.command is None
    assert update.files == (TelegramFile("large", "photo-3.jpg", "image/jpeg", 90000),)


def test_a_document_keeps_its_name_and_type() -> None:
    update = parse_update(raw({"update_id": 10, "message": {
        "message_id": 5, "date": 0, "chat": PRIVATE, "from": ALICE,
        "document": {"file_id": "doc", "file_unique_id": "d", "file_name": "invoice.pdf",
                     "mime_type": "application/pdf", "file_size": 1234}}}))
    assert update.files == (TelegramFile("doc", "invoice.pdf", "application/pdf", 1234),) and update.text == ""


def test_a_button_tap() -> None:
    update = parse_update(raw({"update_id": 11, "callback_query": {
        "id": "cb-1", "from": ALICE, "chat_instance": "x", "data": "resolve:17",
        "message": {"message_id": 12, "date": 0, "chat": {"id": -100, "type": "supergroup"}, "text": "New request"}}}))
    assert (update.kind, update.callback_id, update.callback_data, update.chat_id, update.message_id) == (
        "callback", "cb-1", "resolve:17", -100, 12)
    assert update.tapped_text == "New request"


@pytest.mark.parametrize("broken", [
    b"", b"not json", b"[1, 2]", b'{"update_id": 1}', b'{"update_id": 1, "message": {"text": "no chat"}}',
    b'{"update_id": 1, "callback_query": {"id": "x"}}', b'{"message": {"chat": {"id": "abc"}, "message_id": 1}}',
    "{\"update_id\": 1, \"message\": \"\xff\"}".encode("latin-1"),
])
def test_broken_updates_are_other_with_a_reason(broken: bytes) -> None:
    update = parse_update(broken)
    assert update.kind == "other" and update.problems
