"""Send one queued Telegram item with python-telegram-bot; the posted message's id is the receipt.

The delivery actor records that id with the item's `sent` state (so a
reply to the post in the chat finds its ticket).  Errors
are sorted here, the one place that knows the Bot API's: a chat that is
gone or a bot that was blocked is permanent, network trouble and flood
limits are transient.
"""

from __future__ import annotations

import asyncio
from typing import Any

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, InputFile
from telegram.error import (
    BadRequest,
    Forbidden,
    InvalidToken,
    RetryAfter,
    TelegramError,
)

from gateway.core.config_types import reveal
from gateway.core.config import TelegramConfig
from gateway.outbound.transports import PermanentError, TransientError


def make_bot(config: TelegramConfig) -> Bot:
    return Bot(reveal(config.token), base_url=config.base_url, base_file_url=config.file_base_url)


def send_chat_item(config: TelegramConfig | None, payload: dict[str, Any], files: list[tuple[str, bytes]]
                   ) -> int | None:
    """Send a message (then `files` as documents) or a tap answer; the posted message's id.

    Raises TransientError / PermanentError.
    """
    if config is None:
        raise PermanentError("no [telegram] section in the config: the bot cannot send")
    try:
        return asyncio.run(_send(make_bot(config), payload, files))
    except (Forbidden, InvalidToken, BadRequest) as exc:
        raise PermanentError(f"Telegram refused: {exc.message}") from exc
    except RetryAfter as exc:
        wait = exc.retry_after.total_seconds() if hasattr(exc.retry_after, "total_seconds") else exc.retry_after
        raise TransientError(f"Telegram asks to wait {wait:.0f} s (flood limit)", retry_after=float(wait)) from exc
    except (TelegramError, OSError) as exc:
        raise TransientError(f"Telegram unreachable: {exc}") from exc


async def _send(bot: Bot, payload: dict[str, Any], files: list[tuple[str, bytes]]) -> int | None:
    """The id of the posted text message (None for a tap answer or an edit); files follow it as documents.

    A retry after a failure part-way sends the text again: at least once, as for mail.
    """
    async with bot:
        if "callback_id" in payload:
            await bot.answer_callback_query(payload["callback_id"], text=payload["text"])
            return None
        rows = [[InlineKeyboardButton(label, callback_data=data) for label, data in row] for row in payload["buttons"]]
        markup = InlineKeyboardMarkup(rows) if rows else None
        if "edit_message_id" in payload:
            await bot.edit_message_text(payload["text"], payload["chat_id"], payload["edit_message_id"],
                                        reply_markup=markup)
            return None
        message = await bot.send_message(payload["chat_id"], payload["text"], reply_markup=markup)
        for filename, data in files:
            await bot.send_document(payload["chat_id"], InputFile(data, filename=filename),
                                    reply_to_message_id=message.message_id)
        return message.message_id
