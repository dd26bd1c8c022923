"""An authenticated IMAP session as a mailbox's config asks for it: TLS, STARTTLS or plain.

Shared by the poller and `relaydesk doctor`, so the doctor probes exactly
the connection the poller will make.  aioimaplib has no STARTTLS of its own:
the upgrade is done here with asyncio's `start_tls` on the client's
transport, before the password is sent.
"""

from __future__ import annotations

import asyncio
import ssl

import aioimaplib

from gateway.core.config_types import reveal
from gateway.core.config import ImapConfig


class ImapRefused(Exception):
    """The server said no (login, STARTTLS); the message carries its words, never the password."""


def tls_context(box: ImapConfig) -> ssl.SSLContext:
    """Certificate checks as for any TLS client; `tls_ca_file` adds a private CA (self-hosted servers)."""
    return ssl.create_default_context(cafile=box.tls_ca_file)


async def open_session(box: ImapConfig, timeout: float) -> aioimaplib.IMAP4:
    """Connect, secure the connection as configured, and log in; raises ImapRefused or a network error."""
    if box.security == "tls":
        client: aioimaplib.IMAP4 = aioimaplib.IMAP4_SSL(host=box.host, port=box.port, timeout=timeout,
                                                        ssl_context=tls_context(box))
    else:
        client = aioimaplib.IMAP4(host=box.host, port=box.port, timeout=timeout)
    try:
        await client.wait_hello_from_server()
    except ssl.SSLError as exc:
        raise ImapRefused(_tls_mismatch(box, exc)) from None
    except asyncio.TimeoutError:
        if box.security == "tls":
            raise
        await close_quietly(client)
        raise ImapRefused(f"{box.host}:{box.port} sent no IMAP greeting within {timeout:.0f} s; if it is an IMAP "
                          f"over TLS port (993), set security = \"tls\"") from None
    try:
        if box.security == "starttls":
            await _starttls(client, box, timeout)
        response = await client.login(box.user, reveal(box.password))
        if response.result != "OK":
            raise ImapRefused(f"login refused: {response_text(response.lines)}")
    except BaseException:
        await close_quietly(client)
        raise
    return client


def _tls_mismatch(box: ImapConfig, exc: ssl.SSLError) -> str:
    """One line for the operator instead of OpenSSL's words (WRONG_VERSION_NUMBER: TLS spoken to plain text)."""
    if "WRONG_VERSION_NUMBER" in str(exc) or "wrong version number" in str(exc):
        return (f"security = \"tls\", but {box.host}:{box.port} answers in plain text: use its TLS port (993), "
                f"or security = \"starttls\" (or \"none\") for this port")
    return f"TLS with {box.host}:{box.port} failed: {exc.reason or exc}"


async def _starttls(client: aioimaplib.IMAP4, box: ImapConfig, timeout: float) -> None:
    if not client.has_capability("STARTTLS"):
        raise ImapRefused("the server does not offer STARTTLS")
    protocol = client.protocol
    command = aioimaplib.Command("STARTTLS", protocol.new_tag(), loop=protocol.loop)
    response = await asyncio.wait_for(protocol.execute(command), timeout)
    if response.result != "OK":
        raise ImapRefused(f"STARTTLS refused: {response_text(response.lines)}")
    protocol.transport = await protocol.loop.start_tls(
        protocol.transport, protocol, tls_context(box), server_hostname=box.host, ssl_handshake_timeout=timeout
    )
    # What the server offered in clear text does not count (RFC 3501 §6.2.1): ask again.
    await asyncio.wait_for(protocol.capability(), timeout)


def response_text(lines: list) -> str:
    """A server response for the log, literals left out."""
    return " ".join(bytes(line).decode("utf-8", "replace") for line in lines if not isinstance(line, bytearray))


async def close_quietly(client: aioimaplib.IMAP4) -> None:
    """Log out on the way out; a connection that is already gone has nothing to say."""
    try:
        await asyncio.wait_for(client.logout(), 5)
    except Exception:  # the session is over either way
        pass
