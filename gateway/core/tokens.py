"""Signed references the gateway puts into its own mail and trusts on the way back.

Three kinds, each with its own HMAC purpose label so a signature made for
one can never be replayed as another:

- reply tokens in the Reply-To local part (`support+TOKEN@vendor.example`):
  which ticket *and* which participant a reply answers (threading rule 1);
- VERP return paths (`bounces+<outbox id>-<sig>@domain`): which outbox item
  a bounce is about;
- body markers (`[ref:VND-1:<sig>]`): the ticket ref, for providers that
  rewrite Message-IDs and strip our headers.

Everything is lower-case hex, because mail systems lower-case addresses and
the parser normalises them too.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Iterable
from dataclasses import dataclass

_SIG_CHARS = 16  # 64 bits of HMAC: unforgeable in practice, short enough for a local part


def _sign(secret: str, purpose: str, payload: str) -> str:
    mac = hmac.new(secret.encode("utf-8"), f"{purpose}\0{payload}".encode("utf-8"), hashlib.sha256)
    return mac.hexdigest()[:_SIG_CHARS]


def _valid(secret: str, purpose: str, payload: str, signature: str) -> bool:
    return hmac.compare_digest(_sign(secret, purpose, payload), signature.lower())


def split_plus(address: str) -> tuple[str, str | None, str]:
    """`local+tag@domain` → (local, tag or None, domain), all lower-case."""
    local, _, domain = address.strip().lower().rpartition("@")
    base, plus, tag = local.partition("+")
    return base, (tag if plus else None), domain


# --- reply tokens --------------------------------------------------------------


@dataclass(frozen=True)
class ReplyToken:
    """A verified reference to one participant of one ticket."""

    ticket_id: int
    participant_id: int


_TOKEN = re.compile(r"^r([0-9a-f]+)-([0-9a-f]+)-([0-9a-f]{16})$")


def make_reply_token(secret: str, ticket_id: int, participant_id: int) -> str:
    payload = f"{ticket_id:x}-{participant_id:x}"
    return f"r{payload}-{_sign(secret, 'reply', payload)}"


def read_reply_token(secret: str, token: str) -> ReplyToken | None:
    """The token's reference, or None when it is malformed or its signature fails."""
    match = _TOKEN.match(token.strip().lower())
    if not match:
        return None
    ticket_hex, participant_hex, signature = match.groups()
    if not _valid(secret, "reply", f"{ticket_hex}-{participant_hex}", signature):
        return None
    return ReplyToken(int(ticket_hex, 16), int(participant_hex, 16))


def reply_address(secret: str, inbound_address: str, ticket_id: int, participant_id: int) -> str:
    """The plus-address a participant replies to: `support+TOKEN@vendor.example`."""
    local, _, domain = split_plus(inbound_address)
    return f"{local}+{make_reply_token(secret, ticket_id, participant_id)}@{domain}"


def find_reply_tokens(secret: str, addresses: Iterable[str]) -> list[tuple[str, ReplyToken]]:
    """Every verified token among `addresses`, with the address it was found in."""
    found = []
    for address in addresses:
        _, tag, _ = split_plus(address)
        token = read_reply_token(secret, tag) if tag else None
        if token is not None:
            found.append((address.strip().lower(), token))
    return found


# --- VERP return paths -----------------------------------------------------------

_VERP = re.compile(r"^(\d+)-([0-9a-f]{16})$")


def make_verp_address(secret: str, bounce_address: str, outbox_id: int) -> str:
    """`bounces+<outbox id>-<sig>@domain`, built on the operator's bounce mailbox."""
    local, _, domain = split_plus(bounce_address)
    return f"{local}+{outbox_id}-{_sign(secret, 'verp', str(outbox_id))}@{domain}"


def read_verp_address(secret: str, address: str) -> int | None:
    """The outbox id a bounce recipient address names, or None if not ours / forged."""
    _, tag, _ = split_plus(address)
    match = _VERP.match(tag or "")
    if not match or not _valid(secret, "verp", match.group(1), match.group(2)):
        return None
    return int(match.group(1))


# --- body markers ----------------------------------------------------------------

_MARKER = re.compile(r"\[ref:([A-Za-z][A-Za-z0-9]{0,9}-\d+):([0-9a-fA-F]{16})\]")


def make_body_marker(secret: str, ref: str) -> str:
    return f"[ref:{ref}:{_sign(secret, 'marker', ref.upper())}]"


def split_body_markers(text: str) -> tuple[str, list[str]]:
    """`text` without body markers (any installation's, signed or not), and the markers removed.

    A marker is a machine reference: it belongs in the elided part, never in
    the text shown to people or relayed along a chain.
    """
    found = _MARKER.findall(text or "")
    if not found:
        return text, []
    cleaned = _MARKER.sub("", text)
    cleaned = re.sub(r"\n{3,}", "\n\n", "\n".join(line.rstrip() for line in cleaned.splitlines())).strip()
    return cleaned, [f"[ref:{ref}:{sig}]" for ref, sig in found]


def find_body_marker(secret: str, texts: Iterable[str]) -> str | None:
    """The first correctly signed ticket ref found in `texts` (new text, then quotes)."""
    for text in texts:
        for match in _MARKER.finditer(text or ""):
            ref = match.group(1).upper()
            if _valid(secret, "marker", ref, match.group(2)):
                return ref
    return None


# --- status page links -------------------------------------------------------------

_STATUS = re.compile(r"^s([0-9a-f]+)-([0-9a-f]{16,32})-([0-9a-f]{16})$")


def make_status_token(secret: str, link_id: int, nonce: str) -> str:
    """The path part of a customer's status page link: which link row, its nonce, signed."""
    payload = f"{link_id:x}-{nonce}"
    return f"s{payload}-{_sign(secret, 'status', payload)}"


def read_status_token(secret: str, token: str) -> tuple[int, str] | None:
    """(link id, nonce) of a correctly signed status token, else None."""
    match = _STATUS.match(token.strip().lower())
    if not match:
        return None
    link_hex, nonce, signature = match.groups()
    if not _valid(secret, "status", f"{link_hex}-{nonce}", signature):
        return None
    return int(link_hex, 16), nonce
