"""The pipeline's runner with every channel plugged in: what a worker runs for one inbox item.

Mail runs the pipeline's own steps; a Telegram update runs the bot's
applier.  Only this layer knows both, so the pipeline never imports a bot.
"""

from __future__ import annotations

from bots.updates import TELEGRAM_APPLIER
from gateway.core.runtime import Runtime
from gateway.outbound.chat_outbox import CHANNEL as CHAT_CHANNEL
from gateway.pipeline import runner

APPLIERS = {CHAT_CHANNEL: TELEGRAM_APPLIER}


def process_inbox_item(runtime: Runtime, inbox_id: int) -> list[int]:
    """Apply one inbox item of any channel; the ids of the outbox rows to deliver (see `runner`)."""
    return runner.process_inbox_item(runtime, inbox_id, APPLIERS)
