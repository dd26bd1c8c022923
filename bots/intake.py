"""One Telegram update into intake, files first: shared by long polling and the webhook.

Photos, documents and voice notes are downloaded here, before the commit,
and stored as blobs beside the update, so the pipeline never touches the
network.  A file Telegram will not hand out (over the Bot API's 20 MB) is
noted on the item instead.  The key (bot id, update id) makes a second
delivery of the same update a no-op.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterable
from typing import Any

from telegram import Bot, Update
from telegram.error import TelegramError

from gateway.channels.intake import accept_raw
from gateway.core.runtime import Runtime
from gateway.outbound.chat_outbox import CHANNEL
from parsers.telegram import TelegramFile, parse_update

UPDATE_KINDS = ("message", "callback_query")


async def store_update(runtime: Runtime, enqueue: Callable[[int], None], bot: Bot, update: Update) -> int:
    """Commit the update (and its files); returns the inbox id, already handed to `enqueue`."""
    raw = json.dumps(update.to_dict(), ensure_ascii=False).encode("utf-8")
    parsed = parse_update(raw)
    files, problems = await _download(runtime, bot, parsed.files)
    envelope = {"bot": bot.id, "update_id": update.update_id, "files": files, "file_problems": problems}
    # One chat's updates are applied in the order stored (the pipeline's sequences).
    sequence = f"telegram chat:{parsed.chat_id}" if parsed.chat_id is not None else None
    loop = asyncio.get_running_loop()
    inbox_id = await loop.run_in_executor(None, accept_raw, runtime, CHANNEL, raw, envelope,
                                          f"{bot.id}:{update.update_id}", sequence)
    await loop.run_in_executor(None, enqueue, inbox_id)
    return inbox_id


async def _download(runtime: Runtime, bot: Bot,
                    wanted_files: Iterable[TelegramFile]) -> tuple[list[dict[str, Any]], list[str]]:
    """Each attached file into the blob store: its description, and a line per file that could not be had."""
    stored, problems = [], []
    for wanted in wanted_files:
        try:
            data = bytes(await (await bot.get_file(wanted.file_id)).download_as_bytearray())
        except TelegramError as exc:
            problems.append(f"file {wanted.filename} could not be downloaded from Telegram: {exc}")
            continue
        digest = await asyncio.get_running_loop().run_in_executor(None, runtime.blobs.put, data)
        stored.append({"filename": wanted.filename, "content_type": wanted.content_type, "size": len(data),
                       "sha256": digest})
    return stored, problems
