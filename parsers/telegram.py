"""A Telegram Bot API update (JSON bytes, as the channel stored it) reduced to what the gateway decides on.

Only the shapes relaydesk acts on are read: a message (text or a caption
with a photo, document or voice note, possibly a reply to one of the bot's
posts, possibly a `/command`) and a callback query (a tap on one of the
bot's inline buttons).  Anything else is kind "other".  Never raises: a
broken update gives kind "other" with the reason in `problems`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Literal

UpdateKind = Literal["message", "callback", "other"]
_MAX_COMMAND = 32


@dataclass(frozen=True)
class TelegramFile:
    """An attachment as Telegram describes it; the channel downloads it before storing the update."""

    file_id: str
    filename: str
    content_type: str
    size: int | None


@dataclass(frozen=True)
class TelegramUpdate:
    update_id: int | None
    kind: UpdateKind
    chat_id: int | None = None
    chat_type: str = ""  # private | group | supergroup | channel
    user_id: int | None = None
    user_name: str = ""
    message_id: int | None = None
    text: str = ""  # the text, or the caption of a photo / document
    command: str | None = None  # "start" for "/start vendor" (a "@botname" suffix dropped)
    command_args: tuple[str, ...] = ()
    reply_to_message_id: int | None = None
    files: tuple[TelegramFile, ...] = ()
    callback_id: str | None = None
    callback_data: str = ""
    tapped_text: str = ""  # the text of the bot post whose button was tapped
    problems: tuple[str, ...] = field(default=())


def parse_update(raw: bytes) -> TelegramUpdate:
    """Read one stored update; never raises."""
    try:
        update = json.loads(raw)
        if not isinstance(update, dict):
            raise ValueError("not a JSON object")
    except (ValueError, UnicodeDecodeError) as exc:
        return TelegramUpdate(None, "other", problems=(f"not a Telegram update: {exc}",))
    update_id = update.get("update_id") if isinstance(update.get("update_id"), int) else None
    try:
        if isinstance(update.get("message"), dict):
            return _message(update_id, update["message"])
        if isinstance(update.get("callback_query"), dict):
            return _callback(update_id, update["callback_query"])
    except (KeyError, TypeError, ValueError) as exc:
        return TelegramUpdate(update_id, "other", problems=(f"malformed update: {type(exc).__name__}: {exc}",))
    return TelegramUpdate(update_id, "other", problems=("an update relaydesk does not act on",))


def _message(update_id: int | None, message: dict[str, Any]) -> TelegramUpdate:
    chat, sender = message["chat"], message.get("from") or {}
    text = str(message.get("text") or message.get("caption") or "")
    command, args = _command(text)
    reply = message.get("reply_to_message")
    return TelegramUpdate(
        update_id=update_id,
        kind="message",
        chat_id=int(chat["id"]),
        chat_type=str(chat.get("type", "")),
        user_id=int(sender["id"]) if "id" in sender else None,
        user_name=_name(sender),
        message_id=int(message["message_id"]),
        text=text.strip() if command is None else " ".join(args),
        command=command,
        command_args=args,
        reply_to_message_id=int(reply["message_id"]) if isinstance(reply, dict) else None,
        files=_files(message),
    )


def _callback(update_id: int | None, query: dict[str, Any]) -> TelegramUpdate:
    sender, message = query["from"], query.get("message") or {}
    chat = message.get("chat") or {}
    return TelegramUpdate(
        update_id=update_id,
        kind="callback",
        chat_id=int(chat["id"]) if "id" in chat else None,
        chat_type=str(chat.get("type", "")),
        user_id=int(sender["id"]),
        user_name=_name(sender),
        message_id=int(message["message_id"]) if "message_id" in message else None,
        callback_id=str(query["id"]),
        callback_data=str(query.get("data") or ""),
        tapped_text=str(message.get("text") or ""),
    )


def _command(text: str) -> tuple[str | None, tuple[str, ...]]:
    """("start", ("vendor",)) for "/start vendor"; (None, ()) for text that is no command."""
    if not text.startswith("/"):
        return None, ()
    head, *args = text.split()
    name = head[1:].partition("@")[0].lower()
    if not name or len(name) > _MAX_COMMAND or not name.replace("_", "").isalnum():
        return None, ()
    return name, tuple(args)


def _name(user: dict[str, Any]) -> str:
    parts = [str(user.get("first_name") or ""), str(user.get("last_name") or "")]
    name = " ".join(part for part in parts if part)
    return name or str(user.get("username") or "")


def _files(message: dict[str, Any]) -> tuple[TelegramFile, ...]:
    """The largest photo size, a document, a voice note or an audio file."""
    found = []
    photos = message.get("photo")
    if isinstance(photos, list) and photos:
        largest = photos[-1]  # Telegram lists the sizes smallest first
        found.append(TelegramFile(str(largest["file_id"]), f"photo-{message['message_id']}.jpg", "image/jpeg",
                                  largest.get("file_size")))
    for key, default_name, default_type in (("document", "document", "application/octet-stream"),
                                            ("voice", "voice.ogg", "audio/ogg"),
                                            ("audio", "audio", "audio/mpeg")):
        part = message.get(key)
        if isinstance(part, dict):
            found.append(TelegramFile(str(part["file_id"]), str(part.get("file_name") or default_name),
                                      str(part.get("mime_type") or default_type), part.get("file_size")))
    return tuple(found)
