"""Relay one rendered mail to the configured smarthost (aiosmtplib).

The bytes are sent exactly as the composer rendered them, with the VERP
envelope sender, so a bounce comes back to an address naming the outbox
item.  SMTP replies are sorted into transient (4xx, network trouble) and
permanent (5xx) failures here, the one place that knows SMTP codes.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import aiosmtplib

from gateway.config import OutboundConfig
from gateway.transports import PermanentError, TransientError


def send_mail(raw: bytes, envelope_from: str, recipient: str, outbound: OutboundConfig) -> str:
    """Relay `raw` to `recipient`; returns the smarthost's reply to DATA."""
    return asyncio.run(_send(raw, envelope_from, recipient, outbound))


def probe_smarthost(outbound: OutboundConfig) -> str:
    """Connect, EHLO (and STARTTLS/AUTH if configured), QUIT; returns the EHLO reply."""
    return asyncio.run(_probe(outbound))


async def _send(raw: bytes, envelope_from: str, recipient: str, outbound: OutboundConfig) -> str:
    async with _session(outbound) as client:
        try:
            _, reply = await client.sendmail(envelope_from, [recipient], raw)
        except aiosmtplib.SMTPRecipientsRefused as exc:
            raise _classify(exc.recipients[0]) from exc
        except (aiosmtplib.SMTPResponseException, aiosmtplib.SMTPException, OSError) as exc:
            raise _classify(exc) from exc
    return reply


async def _probe(outbound: OutboundConfig) -> str:
    async with _session(outbound) as client:
        response = await client.ehlo()
    return response.message.splitlines()[0] if response.message else str(response.code)


@asynccontextmanager
async def _session(outbound: OutboundConfig) -> AsyncIterator[aiosmtplib.SMTP]:
    """A connected (and, by config, STARTTLS-upgraded and logged-in) client."""
    host, port = outbound.address
    client = aiosmtplib.SMTP(
        hostname=host,
        port=port,
        timeout=outbound.timeout_seconds,
        start_tls=outbound.starttls,
        username=outbound.username,
        password=outbound.password,
    )
    try:
        await client.connect()
    except (aiosmtplib.SMTPException, OSError) as exc:
        raise _classify(exc, f"smarthost {host}:{port}") from exc
    try:
        yield client
    finally:
        if client.is_connected:
            try:
                await client.quit()
            except (aiosmtplib.SMTPException, OSError):
                client.close()


def _classify(exc: BaseException, where: str = "smarthost") -> TransientError | PermanentError:
    """SMTP reply codes 5xx are permanent; 4xx and anything on the wire is transient."""
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        text = f"{where} replied {exc.code} {exc.message}".strip()
        if isinstance(exc, aiosmtplib.SMTPAuthenticationError):
            # Wrong credentials are our configuration, not the recipient: keep retrying
            # while an operator fixes them instead of failing every queued mail.
            return TransientError(text)
        return PermanentError(text) if 500 <= exc.code < 600 else TransientError(text)
    if isinstance(exc, (TimeoutError, asyncio.TimeoutError)):
        return TransientError(f"{where} timed out")
    return TransientError(f"{where}: {exc}")
