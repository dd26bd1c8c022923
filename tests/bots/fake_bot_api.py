"""A local fake of Telegram's Bot API for tests that run python-telegram-bot.

Tests cannot reach Telegram's cloud, and mocking PTB's Python objects would
not prove that PTB accepts what Telegram sends. So this is an HTTP server on
127.0.0.1 that answers a bot's requests with the real JSON shapes of
https://core.telegram.org/bots/api, while the test plays the users: it
injects messages and button presses as updates and reads what the bot sent.

    with FakeBotApi() as api:
        api.user_sends_text(ALICE, "/start")
        bot = telegram.Bot(api.token, base_url=api.base_url, base_file_url=api.base_file_url)
        ...
        api.wait_for_sent(1)

PTB POSTs parameters form-urlencoded, or as multipart/form-data when it uploads
a file, with every non-string value JSON-encoded; other clients (the doctor's
probe) use GET or a JSON body. The fake accepts all four, like Telegram.

Only the standard library is used: a ThreadingHTTPServer in a daemon thread.
One condition variable guards all state; it also wakes long polls when an
update arrives and when the server stops.
"""

from __future__ import annotations

import copy
import itertools
import json
import re
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from email.message import Message
from email.parser import BytesHeaderParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

JsonDict = dict[str, Any]

BOT_FIRST_NAME = "Relaydesk"
BOT_USERNAME = "relaydesk_bot"
# Telegram's command syntax: up to 32 letters, digits or underscores, optionally addressed to a bot.
COMMAND = re.compile(r"/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]+)?")
# Telegram cannot be asked for the size of an uploaded picture here, so every photo claims these.
THUMB_SIZE = (90, 68)
FULL_SIZE = (1280, 960)


@dataclass(frozen=True)
class TgUser:
    """A Telegram user the test speaks for."""

    id: int
    first_name: str
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = "en"

    def to_dict(self) -> JsonDict:
        """The Bot API User object; absent optional fields are left out, as Telegram does."""
        user: JsonDict = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        for field in ("last_name", "username", "language_code"):
            if (value := getattr(self, field)) is not None:
                user[field] = value
        return user


class ApiError(Exception):
    """A refusal the Bot API reports as {"ok": false, "error_code", "description"} with that HTTP status."""

    def __init__(self, code: int, description: str, parameters: JsonDict | None = None) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.parameters = parameters  # ResponseParameters, e.g. {"retry_after": 30} with a 429


def bad_request(reason: str) -> ApiError:
    return ApiError(400, f"Bad Request: {reason}")


@dataclass(frozen=True)
class FilePart:
    """A file uploaded in a multipart request."""

    filename: str
    content_type: str
    data: bytes


@dataclass(frozen=True)
class StoredFile:
    """A file Telegram keeps: what getFile describes and /file/bot<TOKEN>/<file_path> serves."""

    file_id: str
    file_unique_id: str
    file_path: str
    data: bytes

    def to_dict(self) -> JsonDict:
        """The fields every file object (PhotoSize, Document, File) shares."""
        return {"file_id": self.file_id, "file_unique_id": self.file_unique_id, "file_size": len(self.data)}


class Params:
    """A method's parameters, converted per field type as Telegram does.

    Form, multipart and query values arrive as strings (PTB JSON-encodes every
    non-string value), a JSON body arrives typed; each accessor takes either.
    """

    def __init__(self, values: JsonDict) -> None:
        self._values = values

    def raw(self, name: str) -> Any:
        return self._values.get(name)

    def as_str(self, name: str) -> str | None:
        value = self._values.get(name)
        return None if value is None else str(value)

    def as_int(self, name: str) -> int | None:
        value = self._values.get(name)
        try:
            return None if value is None else int(value)
        except (TypeError, ValueError):
            raise bad_request(f"invalid {name} specified") from None

    def as_float(self, name: str) -> float | None:
        value = self._values.get(name)
        try:
            return None if value is None else float(value)
        except (TypeError, ValueError):
            raise bad_request(f"invalid {name} specified") from None

    def as_bool(self, name: str) -> bool:
        return self._values.get(name) in (True, "true", "True", "1")

    def as_json(self, name: str) -> Any:
        value = self._values.get(name)
        if not isinstance(value, str):
            return value
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            raise bad_request(f"can't parse {name} JSON object") from None


def _post_json(url: str, payload: JsonDict, secret_token: str | None) -> int:
    """POST as Telegram does to a webhook; the HTTP status, or 0 when nothing answered."""
    headers = {"Content-Type": "application/json"}
    if secret_token:
        headers["X-Telegram-Bot-Api-Secret-Token"] = secret_token
    request = urllib.request.Request(url, json.dumps(payload).encode(), headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
    except OSError:
        return 0


class FakeBotApi:
    """The Bot API for one bot, plus the test's side: users who write and press buttons."""

    def __init__(self, token: str = "123456:TEST-TOKEN") -> None:
        self.token = token
        self.bot_id = int(token.split(":", 1)[0])  # a real token starts with its bot's id
        self.sent: list[JsonDict] = []
        self.answered_callbacks: list[JsonDict] = []
        self._bot_user: JsonDict = {
            "id": self.bot_id, "is_bot": True, "first_name": BOT_FIRST_NAME, "username": BOT_USERNAME,
        }
        self._changed = threading.Condition()
        self._closing = False
        self._updates: list[JsonDict] = []
        self._update_ids = itertools.count(1)
        self._chats: dict[int, JsonDict] = {}
        self._messages: dict[tuple[int, int], JsonDict] = {}
        self._last_message_id: dict[int, int] = {}
        self._files: dict[str, StoredFile] = {}
        self._photo_sets: dict[str, list[JsonDict]] = {}  # any size's file_id -> the whole PhotoSize list
        self._documents: dict[str, JsonDict] = {}
        self._file_numbers = itertools.count(1)
        self._callback_numbers = itertools.count(1)
        self._open_callbacks: set[str] = set()
        self._flood_waits: list[int] = []  # the next sends answered 429 with these retry_after seconds
        self._methods: dict[str, Callable[[Params], Any]] = {
            "getme": self._get_me,
            "getupdates": self._get_updates,
            "sendmessage": self._send_message,
            "sendphoto": self._send_photo,
            "senddocument": self._send_document,
            "editmessagetext": self._edit_message_text,
            "editmessagereplymarkup": self._edit_message_reply_markup,
            "answercallbackquery": self._answer_callback_query,
            "getfile": self._get_file,
            "setwebhook": self._set_webhook,
            "deletewebhook": self._delete_webhook,
            "getwebhookinfo": self._get_webhook_info,
        }
        self._webhook: JsonDict | None = None  # {"url": …, "secret_token": …} while a webhook is set
        self.webhook_deliveries: list[int] = []  # HTTP statuses the bot's webhook answered, in order
        self._pusher: threading.Thread | None = None
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.api = self
        port = self._server.server_address[1]
        self.base_url = f"http://127.0.0.1:{port}/bot"
        self.base_file_url = f"http://127.0.0.1:{port}/file/bot"
        self._thread: threading.Thread | None = None

    # -- lifecycle ---------------------------------------------------------

    def start(self) -> FakeBotApi:
        # serve_forever checks for shutdown every poll_interval; the default 0.5 s would slow every test's teardown.
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="fake-bot-api", daemon=True,
        )
        self._thread.start()
        self._pusher = threading.Thread(target=self._push_to_webhook, name="fake-bot-api-webhook", daemon=True)
        self._pusher.start()
        return self

    def stop(self) -> None:
        """Ends pending long polls at once, then stops serving."""
        with self._changed:
            self._closing = True
            self._changed.notify_all()
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join()
            self._thread = None
        if self._pusher is not None:
            self._pusher.join()
            self._pusher = None
        self._server.server_close()

    def __enter__(self) -> FakeBotApi:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # -- the test's side: users and what the bot did -----------------------

    def register_group(self, chat_id: int, title: str) -> None:
        """A group the bot is a member of; ids from -100… on are supergroups, as Telegram numbers them."""
        if chat_id >= 0:
            raise ValueError("group chat ids are negative")
        chat_type = "supergroup" if chat_id <= -1_000_000_000_000 else "group"
        with self._changed:
            self._chats[chat_id] = {"id": chat_id, "type": chat_type, "title": title}

    def user_sends_text(self, user: TgUser, text: str, chat_id: int | None = None, reply_to: int | None = None) -> JsonDict:
        """A text message; a leading /command gets its bot_command entity like on Telegram."""
        content: JsonDict = {"text": text}
        if command := COMMAND.match(text):
            content["entities"] = [{"type": "bot_command", "offset": 0, "length": len(command[0])}]
        return self._user_sends(user, chat_id, reply_to, content)

    def user_sends_photo(
        self, user: TgUser, data: bytes, caption: str = "", chat_id: int | None = None, reply_to: int | None = None,
    ) -> JsonDict:
        with self._changed:  # stored and sent at once
            content: JsonDict = {"photo": self._store_photo(data)}
            return self._user_sends(user, chat_id, reply_to, _with_caption(content, caption))

    def user_sends_document(
        self, user: TgUser, data: bytes, file_name: str, mime_type: str, caption: str = "",
        chat_id: int | None = None, reply_to: int | None = None,
    ) -> JsonDict:
        with self._changed:  # stored and sent at once
            content: JsonDict = {"document": self._store_document(data, file_name, mime_type)}
            return self._user_sends(user, chat_id, reply_to, _with_caption(content, caption))

    def user_presses(self, user: TgUser, message: JsonDict, data: str) -> JsonDict:
        """A press of the inline button carrying `data` on a bot message, as it looks now; returns the CallbackQuery."""
        chat_id = message["chat"]["id"]
        with self._changed:
            current = self._messages.get((chat_id, message["message_id"]))
            if current is None or current["from"]["id"] != self.bot_id:
                raise ValueError("users press buttons on messages the bot sent")
            rows = current.get("reply_markup", {}).get("inline_keyboard", [])
            if data not in [button.get("callback_data") for row in rows for button in row]:
                raise ValueError(f"message {current['message_id']} has no button with callback_data {data!r}")
            query = {
                "id": str(next(self._callback_numbers)),
                "from": user.to_dict(),
                "message": copy.deepcopy(current),
                "chat_instance": f"instance{chat_id}",
                "data": data,
            }
            self._open_callbacks.add(query["id"])
            self._push_update({"callback_query": query})
            return copy.deepcopy(query)

    def flood_limit(self, retry_after: int, sends: int = 1) -> None:
        """The bot's next `sends` messages are refused as Telegram's flood control does (429, retry_after)."""
        with self._changed:
            self._flood_waits.extend([retry_after] * sends)

    def wait_for_sent(self, count: int, timeout: float = 10) -> list[JsonDict]:
        """Blocks until the bot has sent or edited `count` messages in all."""
        with self._changed:
            if not self._changed.wait_for(lambda: len(self.sent) >= count, timeout):
                raise TimeoutError(f"the bot sent {len(self.sent)} message(s) in {timeout} s, expected {count}")
            return list(self.sent)

    def sent_to(self, chat_id: int) -> list[JsonDict]:
        with self._changed:
            return [message for message in self.sent if message["chat"]["id"] == chat_id]

    def pending_updates(self) -> int:
        """Updates injected but not yet confirmed by a getUpdates offset."""
        with self._changed:
            return len(self._updates)

    # -- state shared by both sides (callers hold self._changed) ----------

    def _user_sends(self, user: TgUser, chat_id: int | None, reply_to: int | None, content: JsonDict) -> JsonDict:
        with self._changed:
            chat_id = user.id if chat_id is None else chat_id
            if chat_id == user.id:
                chat = {"id": user.id, "type": "private", **{
                    key: value for key, value in user.to_dict().items()
                    if key in ("first_name", "last_name", "username")
                }}
                self._chats[user.id] = chat
            elif chat_id not in self._chats or chat_id > 0:
                raise ValueError(f"chat {chat_id} is neither the user's private chat nor a registered group")
            if reply_to is not None and (chat_id, reply_to) not in self._messages:
                raise ValueError(f"no message {reply_to} in chat {chat_id} to reply to")
            message = self._new_message(self._chats[chat_id], user.to_dict(), reply_to, content)
            self._push_update({"message": message})
            return message

    def _new_message(self, chat: JsonDict, sender: JsonDict, reply_to: int | None, content: JsonDict) -> JsonDict:
        """Stores a message under the next id of its chat and returns a copy."""
        message_id = self._last_message_id[chat["id"]] = self._last_message_id.get(chat["id"], 0) + 1
        message: JsonDict = {"message_id": message_id, "from": sender, "chat": chat, "date": int(time.time()), **content}
        if reply_to is not None:
            replied = self._messages[(chat["id"], reply_to)]  # nested one level deep only, as Telegram does
            message["reply_to_message"] = {key: value for key, value in replied.items() if key != "reply_to_message"}
        self._messages[(chat["id"], message_id)] = copy.deepcopy(message)
        return copy.deepcopy(message)

    def _push_update(self, payload: JsonDict) -> None:
        self._updates.append({"update_id": next(self._update_ids), **copy.deepcopy(payload)})
        self._changed.notify_all()

    def _record(self, method: str, message: JsonDict) -> JsonDict:
        self.sent.append({**copy.deepcopy(message), "method": method})
        self._changed.notify_all()
        return message

    def _store_file(self, data: bytes, folder: str, suffix: str) -> StoredFile:
        number = next(self._file_numbers)
        stored = StoredFile(f"file-{number}", f"unique-{number}", f"{folder}/file_{number}{suffix}", data)
        self._files[stored.file_id] = stored
        return stored

    def _store_photo(self, data: bytes) -> list[JsonDict]:
        """PhotoSizes smallest first. The fake cannot scale images, so the thumbnail is
        a prefix of the bytes: a reader taking photo[0] instead of photo[-1] gets visibly wrong data."""
        thumb = self._store_file(data[: max(1, len(data) // 8)], "photos", ".jpg")
        full = self._store_file(data, "photos", ".jpg")
        sizes = [
            {**thumb.to_dict(), "width": THUMB_SIZE[0], "height": THUMB_SIZE[1]},
            {**full.to_dict(), "width": FULL_SIZE[0], "height": FULL_SIZE[1]},
        ]
        for size in sizes:
            self._photo_sets[size["file_id"]] = sizes
        return copy.deepcopy(sizes)

    def _store_document(self, data: bytes, file_name: str, mime_type: str) -> JsonDict:
        suffix = f".{file_name.rsplit('.', 1)[1]}" if "." in file_name else ""
        stored = self._store_file(data, "documents", suffix)
        document = {**stored.to_dict(), "file_name": file_name, "mime_type": mime_type}
        self._documents[stored.file_id] = document
        return copy.deepcopy(document)

    # -- webhooks: Telegram POSTs each update until the bot's server answers 2xx

    def _set_webhook(self, params: Params) -> bool:
        url = params.as_str("url") or ""
        if not url.startswith(("http://", "https://")):
            raise ApiError(400, "Bad Request: bad webhook: An HTTPS URL must be provided for webhook")
        self._webhook = {"url": url, "secret_token": params.as_str("secret_token")}
        self._changed.notify_all()
        return True

    def _delete_webhook(self, params: Params) -> bool:
        self._webhook = None
        if params.as_bool("drop_pending_updates"):
            self._updates = []
        return True

    def _get_webhook_info(self, params: Params) -> JsonDict:
        return {"url": self._webhook["url"] if self._webhook else "", "has_custom_certificate": False,
                "pending_update_count": len(self._updates)}

    def _push_to_webhook(self) -> None:
        """Delivers the oldest pending update to the webhook, again and again until it is taken."""
        while True:
            with self._changed:
                while not self._closing and (self._webhook is None or not self._updates):
                    self._changed.wait()
                if self._closing:
                    return
                update, hook = copy.deepcopy(self._updates[0]), dict(self._webhook)
            status = _post_json(hook["url"], update, hook.get("secret_token"))
            with self._changed:
                self.webhook_deliveries.append(status)
                if 200 <= status < 300 and self._updates and self._updates[0]["update_id"] == update["update_id"]:
                    self._updates.pop(0)
                    self._changed.notify_all()
                else:
                    self._changed.wait(0.2)  # Telegram waits before it tries again

    # -- HTTP entry points -------------------------------------------------

    def call(self, token: str, method: str, values: JsonDict) -> tuple[int, JsonDict]:
        """Answers one Bot API request: the HTTP status and the JSON body."""
        try:
            if token != self.token:
                raise ApiError(401, "Unauthorized")
            handler = self._methods.get(method.lower())  # Telegram's method names are case-insensitive
            if handler is None:
                raise ApiError(404, "Not Found")
            with self._changed:
                return 200, {"ok": True, "result": handler(Params(values))}
        except ApiError as error:
            answer = {"ok": False, "error_code": error.code, "description": error.description}
            if error.parameters:
                answer["parameters"] = error.parameters
            return error.code, answer

    def download(self, token: str, file_path: str) -> tuple[int, bytes]:
        with self._changed:
            if token != self.token:
                code, description = 401, "Unauthorized"
            elif stored := next((f for f in self._files.values() if f.file_path == file_path), None):
                return 200, stored.data
            else:
                code, description = 404, "Not Found"
        return code, json.dumps({"ok": False, "error_code": code, "description": description}).encode()

    # -- Bot API methods (called with self._changed held) ------------------

    def _get_me(self, params: Params) -> JsonDict:
        return {
            **self._bot_user,
            "can_join_groups": True, "can_read_all_group_messages": False, "supports_inline_queries": False,
        }

    def _get_updates(self, params: Params) -> list[JsonDict]:
        """Confirms (drops for good) updates below `offset`, then long-polls up to `timeout` s for pending ones."""
        if self._webhook is not None:
            raise ApiError(409, "Conflict: can't use getUpdates method while webhook is active; "
                                "use deleteWebhook to delete the webhook first")
        offset = params.as_int("offset") or 0
        if offset > 0:
            self._updates = [update for update in self._updates if update["update_id"] >= offset]
        elif offset < 0:  # -N: only the last N updates are kept, all earlier ones are forgotten
            self._updates = self._updates[offset:]
        limit = min(max(params.as_int("limit") or 100, 1), 100)
        deadline = time.monotonic() + (params.as_float("timeout") or 0)
        while not self._updates and not self._closing and (remaining := deadline - time.monotonic()) > 0:
            self._changed.wait(remaining)
        return copy.deepcopy(self._updates[:limit])

    def _send_message(self, params: Params) -> JsonDict:
        chat = self._target_chat(params)
        text = params.as_str("text")
        if not text:
            raise bad_request("message text is empty")
        return self._bot_sends("sendMessage", chat, params, {"text": text})

    def _send_photo(self, params: Params) -> JsonDict:
        chat = self._target_chat(params)
        photo = params.raw("photo")
        if isinstance(photo, FilePart):
            sizes = self._store_photo(photo.data)
        elif photo in self._photo_sets:
            sizes = copy.deepcopy(self._photo_sets[photo])
        else:
            raise bad_request("wrong file identifier/HTTP URL specified")
        return self._bot_sends("sendPhoto", chat, params, _with_caption({"photo": sizes}, params.as_str("caption")))

    def _send_document(self, params: Params) -> JsonDict:
        chat = self._target_chat(params)
        document = params.raw("document")
        if isinstance(document, FilePart):
            stored = self._store_document(document.data, document.filename, document.content_type)
        elif document in self._documents:
            stored = copy.deepcopy(self._documents[document])
        else:
            raise bad_request("wrong file identifier/HTTP URL specified")
        content = _with_caption({"document": stored}, params.as_str("caption"))
        return self._bot_sends("sendDocument", chat, params, content)

    def _edit_message_text(self, params: Params) -> JsonDict:
        text = params.as_str("text")
        if not text:
            raise bad_request("message text is empty")
        return self._edit("editMessageText", params, text)

    def _edit_message_reply_markup(self, params: Params) -> JsonDict:
        return self._edit("editMessageReplyMarkup", params, None)

    def _answer_callback_query(self, params: Params) -> bool:
        """A query can be answered once; Telegram refuses unknown and already answered ids alike."""
        query_id = params.as_str("callback_query_id")
        if query_id not in self._open_callbacks:
            raise bad_request("query is too old and response timeout expired or query ID is invalid")
        self._open_callbacks.remove(query_id)
        self.answered_callbacks.append({
            "callback_query_id": query_id,
            "text": params.as_str("text"),
            "show_alert": params.as_bool("show_alert"),
        })
        return True

    def _get_file(self, params: Params) -> JsonDict:
        stored = self._files.get(params.as_str("file_id") or "")
        if stored is None:
            raise bad_request("invalid file_id")
        return {**stored.to_dict(), "file_path": stored.file_path}

    # -- helpers of the methods ----------------------------------------------

    def _target_chat(self, params: Params) -> JsonDict:
        """The chat_id's chat: one a user wrote from or a registered group, else Telegram's 'chat not found'."""
        raw = params.as_str("chat_id")
        if not raw:
            raise bad_request("chat_id is empty")
        try:
            return self._chats[int(raw)]
        except (ValueError, KeyError):
            raise bad_request("chat not found") from None

    def _bot_sends(self, method: str, chat: JsonDict, params: Params, content: JsonDict) -> JsonDict:
        if self._flood_waits:
            wait = self._flood_waits.pop(0)
            raise ApiError(429, f"Too Many Requests: retry after {wait}", {"retry_after": wait})
        reply_to = params.as_int("reply_to_message_id")
        reply_parameters = params.as_json("reply_parameters") or {}
        if "message_id" in reply_parameters:
            reply_to = int(reply_parameters["message_id"])
        if reply_to is not None and (chat["id"], reply_to) not in self._messages:
            if not reply_parameters.get("allow_sending_without_reply"):
                raise bad_request("message to be replied not found")
            reply_to = None
        if markup := self._inline_markup(params):
            content["reply_markup"] = markup
        return self._record(method, self._new_message(chat, self._bot_user, reply_to, content))

    def _inline_markup(self, params: Params) -> JsonDict | None:
        """Only inline keyboards show up in the sent Message; reply keyboards are the client's business."""
        markup = params.as_json("reply_markup")
        return markup if isinstance(markup, dict) and "inline_keyboard" in markup else None

    def _edit(self, method: str, params: Params, text: str | None) -> JsonDict:
        """Edits a bot message; as on Telegram, leaving out reply_markup removes the inline keyboard."""
        chat = self._target_chat(params)
        key = (chat["id"], params.as_int("message_id") or 0)
        if key not in self._messages:
            raise bad_request("message to edit not found")
        current = self._messages[key]
        if current["from"]["id"] != self.bot_id:
            raise bad_request("message can't be edited")
        edited = {name: value for name, value in current.items() if name not in ("reply_markup", "edit_date")}
        if text is not None:
            if "text" not in current:
                raise bad_request("there is no text in the message to edit")
            edited["text"] = text
        if markup := self._inline_markup(params):
            edited["reply_markup"] = markup
        if {**edited, "edit_date": None} == {**current, "edit_date": None}:
            raise bad_request(
                "message is not modified: specified new message content and reply markup are exactly "
                "the same as a current content and reply markup of the message"
            )
        edited["edit_date"] = int(time.time())
        self._messages[key] = copy.deepcopy(edited)
        return self._record(method, edited)


def _with_caption(content: JsonDict, caption: str | None) -> JsonDict:
    return {**content, "caption": caption} if caption else content


class _Server(ThreadingHTTPServer):
    """Handler threads are daemons (ThreadingHTTPServer's default), so a waiting long poll never blocks exit."""

    api: FakeBotApi


class _Handler(BaseHTTPRequestHandler):
    """Routes /bot<TOKEN>/<method> to FakeBotApi.call and /file/bot<TOKEN>/<path> to its downloads."""

    server: _Server

    def do_GET(self) -> None:
        self._route()

    def do_POST(self) -> None:
        self._route()

    def log_message(self, format: str, *args: Any) -> None:
        """Silent: test output should show the test's failures, not a request log."""

    def _route(self) -> None:
        url = urlsplit(self.path)  # PTB percent-encodes the token's colon in file URLs
        if download := re.fullmatch(r"/file/bot([^/]+)/(.+)", url.path):
            status, body = self.server.api.download(unquote(download[1]), unquote(download[2]))
            self._reply(status, body, "application/octet-stream" if status == 200 else "application/json")
            return
        if call := re.fullmatch(r"/bot([^/]+)/(\w+)", url.path):
            values: JsonDict = dict(parse_qsl(url.query, keep_blank_values=True))
            values.update(self._body_values())
            status, answer = self.server.api.call(unquote(call[1]), call[2], values)
        else:
            status, answer = 404, {"ok": False, "error_code": 404, "description": "Not Found"}
        self._reply(status, json.dumps(answer).encode(), "application/json")

    def _body_values(self) -> JsonDict:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if not body:
            return {}
        content_type = Message()
        content_type["Content-Type"] = self.headers.get("Content-Type", "application/x-www-form-urlencoded")
        kind = content_type.get_content_type()
        if kind == "application/json":
            return json.loads(body)
        if kind == "multipart/form-data":
            return _multipart_values(body, str(content_type.get_param("boundary")))
        return dict(parse_qsl(body.decode(), keep_blank_values=True))

    def _reply(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def _multipart_values(body: bytes, boundary: str) -> JsonDict:
    """Fields of a multipart/form-data body: strings, or FileParts for uploads.

    Split by hand because the standard library no longer has a form parser
    (cgi is gone in 3.13) and the email parser is not byte-exact for binary parts.
    """
    values: JsonDict = {}
    for part in body.split(b"--" + boundary.encode())[1:-1]:  # before the first and after the last: nothing
        head, _, content = part.removeprefix(b"\r\n").partition(b"\r\n\r\n")
        content = content.removesuffix(b"\r\n")
        headers = BytesHeaderParser().parsebytes(head)
        name = str(headers.get_param("name", header="content-disposition"))
        filename = headers.get_filename()
        if filename is None:
            values[name] = content.decode()
        else:
            values[name] = FilePart(filename, headers.get_content_type(), content)
    return values
