"""A mail inside a mail: a message/rfc822 part, or a text part that is a whole mail.

Reports return the failed mail, forwards attach the original.  Senders
wrap it in ways the stdlib parser does not undo: a transfer encoding on the
message/rfc822 part (forbidden by RFC 2046, sent anyway by webmailers and
Exchange), a blank line inside its header, or a plain text part that simply
starts with the returned mail's header.
"""

from __future__ import annotations

import binascii
import re
from email.message import Message
from email.parser import BytesParser
from email.policy import compat32

from parsers.headers import raw_bytes

_MIME_FIELD = re.compile(r"(?:Content-Type|MIME-Version|Content-Transfer-Encoding):", re.IGNORECASE)
# A header block: at least three fields (continuation lines allowed) at the very top.
_HEADER_BLOCK = re.compile(r"\A\n*((?:[!-9;-~]{1,60}:[^\n]*\n(?:[ \t][^\n]*\n)*){3,})")
_MAIL_FIELDS = re.compile(r"^(?:from|subject|message-id):", re.IGNORECASE | re.MULTILINE)
_ROUTING_FIELDS = re.compile(r"^(?:received|return-path|date|to):", re.IGNORECASE | re.MULTILINE)


def inner_message(part: Message) -> tuple[Message | None, bytes | None]:
    """The message inside a message/rfc822 part, and its bytes when they had to be decoded first."""
    payload = part.get_payload()
    encoding = str(part.get("content-transfer-encoding", "")).strip().lower()
    if encoding in ("base64", "quoted-printable"):
        data = _undo_transfer_encoding(_encoded_text(payload), encoding)
        inner = parse_bytes(data) if data.strip() else None
        return (inner, data) if inner is not None and inner.keys() else (None, None)
    if isinstance(payload, list):
        inner = payload[0] if payload and isinstance(payload[0], Message) else None
        return (_rejoin_split_header(inner) if inner is not None else None), None
    if isinstance(payload, str) and payload.strip():
        data = part.get_payload(decode=True)
        return parse_bytes(data if isinstance(data, bytes) else raw_bytes(payload)), None
    return None, None


def _encoded_text(payload: object) -> str:
    """The encoded text of the part, however the parser took it apart (it parses it as a message)."""
    if isinstance(payload, str):
        return payload
    if isinstance(payload, list) and payload and isinstance(payload[0], Message):
        inner = payload[0]
        head = "".join(f"{name}: {value}\n" for name, value in inner.raw_items())
        body = inner.get_payload()
        return head + ("\n" if head else "") + (body if isinstance(body, str) else "")
    return ""


def _undo_transfer_encoding(text: str, encoding: str) -> bytes:
    data = text.encode("ascii", "surrogateescape")
    try:
        return binascii.a2b_base64(data) if encoding == "base64" else binascii.a2b_qp(data)
    except binascii.Error:
        return b""


def _rejoin_split_header(inner: Message) -> Message:
    """Undo a blank line inside an attached mail's header (Exchange writes these).

    The MIME fields then land at the top of the body and the structure is
    lost; when the body starts with them, the two header halves are joined.
    """
    payload = inner.get_payload()
    if inner.get("content-type") is not None or not isinstance(payload, str) or not _MIME_FIELD.match(payload):
        return inner
    head = "".join(f"{name}: {value}\n" for name, value in inner.raw_items())
    return parse_bytes(raw_bytes(head + payload.lstrip("\r\n"))) or inner


def starts_with_mail_header(text: str) -> bool:
    """Whether a text part is a whole mail: a header block with From, Subject or Message-ID and a
    routing field (Received, Return-Path, Date, To) at its top."""
    found = _HEADER_BLOCK.match(text)
    return found is not None and bool(_MAIL_FIELDS.search(found.group(1))) \
        and bool(_ROUTING_FIELDS.search(found.group(1)))


def raw_field(message: Message, name: str) -> str:
    """A field's raw value ("" when absent): 8-bit bytes kept for charset recovery."""
    return next((value for key, value in message.raw_items() if key.lower() == name), "")


def parse_bytes(data: bytes) -> Message | None:
    try:
        return BytesParser(policy=compat32).parsebytes(data)
    except (ValueError, LookupError, TypeError, RecursionError):
        return None
