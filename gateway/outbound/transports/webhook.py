"""POST one webhook delivery, signed, and sort the answer into sent, retry later, or give up.

The signature is HMAC-SHA256 with the webhook's secret over
`"{timestamp}.{body}"`, sent as `X-Relaydesk-Signature: sha256=<hex>` beside
`X-Relaydesk-Timestamp` (Unix seconds), so a receiver can refuse both forged
and replayed bodies.  Any 2xx is a delivery; 408, 429 and 5xx (or no answer)
are worth retrying; any other 4xx means the receiver refuses this body for
good.  This is the one module that knows HTTP status codes.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any

import httpx

from gateway.outbound.transports import PermanentError, TransientError

SIGNATURE_HEADER = "X-Relaydesk-Signature"
TIMESTAMP_HEADER = "X-Relaydesk-Timestamp"
EVENT_HEADER = "X-Relaydesk-Event"
DELIVERY_HEADER = "X-Relaydesk-Delivery"
RETRYABLE_STATUS = frozenset({408, 425, 429})


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The signature header's value for `body` sent at `timestamp`."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return f"sha256={mac.hexdigest()}"


def encode(body: dict[str, Any]) -> bytes:
    """The exact bytes that are signed and sent."""
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode()


def post_event(url: str, secret: str, event: str, delivery_id: int, body: dict[str, Any], timeout: float) -> int:
    """POST the signed body; the receiver's status code.  Raises TransientError / PermanentError."""
    raw = encode(body)
    timestamp = str(int(time.time()))
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "relaydesk-webhooks",
        EVENT_HEADER: event,
        DELIVERY_HEADER: str(delivery_id),
        TIMESTAMP_HEADER: timestamp,
        SIGNATURE_HEADER: sign(secret, timestamp, raw),
    }
    try:
        response = httpx.post(url, content=raw, headers=headers, timeout=timeout)
    except httpx.HTTPError as exc:
        raise TransientError(f"{url} unreachable: {type(exc).__name__}: {exc}") from exc
    status = response.status_code
    if 200 <= status < 300:
        return status
    text = f"{url} answered HTTP {status}"
    if status >= 500 or status in RETRYABLE_STATUS:
        raise TransientError(text, retry_after=_retry_after(response))
    raise PermanentError(text)


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After", "")
    return float(value) if value.isdigit() else None
