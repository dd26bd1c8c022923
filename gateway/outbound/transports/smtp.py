"""Relay one rendered mail to the configured smarthost (aiosmtplib).

The bytes are sent exactly as the composer rendered them, with the VERP
envelope sender, so a bounce comes back to an address naming the outbox
item.  SMTP replies are sorted into transient (4xx, network trouble) and
permanent (5xx) failures here, the one place that knows SMTP codes.

Each delivery thread keeps its smarthost connection (and the event loop it
lives on) for the next mail that comes within REUSE_SECONDS, as MTAs do: a
burst of mail (the acknowledgements of a busy morning, an update mirrored
to every participant) then costs one TCP, STARTTLS and AUTH handshake, not
one per mail.  A kept connection the smarthost has closed meanwhile is
replaced and the mail sent on the new one; any error closes it.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import aiosmtplib

from gateway.core.config_types import reveal
from gateway.core.config import OutboundConfig
from gateway.outbound.transports import PermanentError, TransientError

# Smarthosts close idle connections after 60 s or more (RFC 5321 asks servers to wait 5 minutes);
# a short window keeps bursts on one connection without holding connections open for nothing.
REUSE_SECONDS = 5.0


class _Kept(threading.local):
    """This thread's event loop and open smarthost connection, kept between mails."""

    runner: asyncio.Runner | None = None
    client: aiosmtplib.SMTP | None = None
    settings: tuple[object, ...] | None = None
    idle_since = 0.0


_kept = _Kept()


def send_mail(raw: bytes, envelope_from: str, recipient: str, outbound: OutboundConfig) -> str:
    """Relay `raw` to `recipient`; returns the smarthost's reply to DATA."""
    if _kept.runner is None:
        _kept.runner = asyncio.Runner()
    return _kept.runner.run(_send(raw, envelope_from, recipient, outbound))


def close_kept_connection() -> None:
    """Close this thread's kept connection and its event loop (a delivery thread that ends)."""
    _drop()
    if _kept.runner is not None:
        _kept.runner.close()
        _kept.runner = None


def probe_smarthost(outbound: OutboundConfig) -> str:
    """Connect, EHLO (and STARTTLS/AUTH if configured), QUIT; returns the EHLO reply."""
    return asyncio.run(_probe(outbound))


async def _send(raw: bytes, envelope_from: str, recipient: str, outbound: OutboundConfig) -> str:
    settings = (outbound.address, outbound.starttls, outbound.username, outbound.password, outbound.timeout_seconds)
    reusing = (_kept.client is not None and _kept.client.is_connected and _kept.settings == settings
               and time.monotonic() - _kept.idle_since < REUSE_SECONDS)
    if not reusing:
        _drop()
    try:
        try:
            reply = await _transaction(await _client(outbound, settings), raw, envelope_from, recipient)
        except ConnectionError:
            if not reusing:
                raise
            _drop()  # closed by the smarthost while it was kept: the mail goes on a fresh connection
            reply = await _transaction(await _client(outbound, settings), raw, envelope_from, recipient)
    except ConnectionError as exc:
        _drop()
        raise _classify(exc) from exc
    except BaseException:
        _drop()
        raise
    _kept.idle_since = time.monotonic()
    return reply


async def _client(outbound: OutboundConfig, settings: tuple[object, ...]) -> aiosmtplib.SMTP:
    """The kept connection, or a new one (connected, STARTTLS and AUTH done) kept from now on."""
    if _kept.client is None:
        client = _new_client(outbound)
        try:
            await client.connect()
        except (aiosmtplib.SMTPException, OSError) as exc:
            raise _classify(exc, f"smarthost {outbound.address[0]}:{outbound.address[1]}") from exc
        _kept.client, _kept.settings = client, settings
    return _kept.client


async def _transaction(client: aiosmtplib.SMTP, raw: bytes, envelope_from: str, recipient: str) -> str:
    try:
        _, reply = await client.sendmail(envelope_from, [recipient], raw)
    except aiosmtplib.SMTPRecipientsRefused as exc:
        raise _classify(exc.recipients[0]) from exc
    except ConnectionError:
        raise  # the caller decides: a kept connection that died is replaced once
    except (aiosmtplib.SMTPResponseException, aiosmtplib.SMTPException, OSError) as exc:
        raise _classify(exc) from exc
    return reply


def _drop() -> None:
    """Forget the kept connection, closing it without a goodbye (it may be dead, and QUIT could wait)."""
    client, _kept.client, _kept.settings = _kept.client, None, None
    if client is not None and client.is_connected:
        client.close()


async def _probe(outbound: OutboundConfig) -> str:
    async with _session(outbound) as client:
        response = await client.ehlo()
    return response.message.splitlines()[0] if response.message else str(response.code)


def _new_client(outbound: OutboundConfig) -> aiosmtplib.SMTP:
    """A client that connects with STARTTLS and AUTH as configured."""
    host, port = outbound.address
    return aiosmtplib.SMTP(
        hostname=host,
        port=port,
        timeout=outbound.timeout_seconds,
        start_tls=outbound.starttls,
        username=outbound.username,
        password=reveal(outbound.password) if outbound.password else None,
    )


@asynccontextmanager
async def _session(outbound: OutboundConfig) -> AsyncIterator[aiosmtplib.SMTP]:
    """A connected (and, by config, STARTTLS-upgraded and logged-in) client, for one probe."""
    host, port = outbound.address
    client = _new_client(outbound)
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
