"""Transports send one rendered outbound item over one channel.

Each transport raises `TransientError` when trying again later may help
(connection refused, timeout, a 4xx reply) and `PermanentError` when it
cannot (a 5xx reply): the delivery loop decides on retries and failure
notices from that distinction alone, without knowing the protocol.
"""

from __future__ import annotations


class DeliveryError(Exception):
    """Sending failed; the message says why, in words an agent understands."""


class TransientError(DeliveryError):
    """Worth retrying later: the remote side may accept the same item then.

    `retry_after` is the wait the remote side asked for (a flood limit), when
    it named one; the next try comes no sooner.
    """

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class PermanentError(DeliveryError):
    """Retrying the same item will not help: the remote side refused it."""
