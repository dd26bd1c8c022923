"""Walk a parsed MIME tree: body texts, attachments, attached mail, reports.

The walk is bounded (depth and part count) so a hostile message costs as
much as a normal one, and every part is decoded leniently: a part that
cannot be read is recorded as a problem and skipped, never fatal.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from functools import lru_cache
from email.errors import MessageDefect
from email.message import Message
from email.policy import compat32
from typing import NamedTuple

from parsers.attached_mail import inner_message, parse_bytes, raw_field, starts_with_mail_header
from parsers.charset_recovery import MessageCharsets, recover
from parsers.filenames import (UniqueNames, default_name, description_name, filename_of, guess_type, location_name,
                               mail_name, with_extension)
from parsers.headers import decode_value, raw_bytes
from parsers.large_parts import Lifted, Streamed, placeholder_of, restore, stream_base64, stream_raw
from parsers.message import Attachment, ParseOptions
from parsers.uuencode import split_uuencoded

MAX_DEPTH = 20
MAX_PARTS = 1000
_CACHED_VALUE_LIMIT = 256  # longer Content-Type values are rare and not worth keeping
BODY_TYPES = ("text/plain", "text/html")
_REPORT_TYPES = ("message/delivery-status", "message/global-delivery-status")
_RETURNED_HEADER_TYPES = ("text/rfc822-headers", "message/rfc822-headers", "text/rfc822-header")
_MESSAGE_TYPES = ("message/rfc822", "message/global")


@dataclass
class MimeContent:
    """What a message's MIME tree holds, in document order."""

    plain: list[str] = field(default_factory=list)
    html: list[str] = field(default_factory=list)
    attachments: list[Attachment] = field(default_factory=list)
    messages: list[Message] = field(default_factory=list)
    delivery_status: str | None = None
    returned_headers: str | None = None
    problems: list[str] = field(default_factory=list)


class RawSource(NamedTuple):
    """The raw bytes a tree was parsed from, the bodies lifted out of them and the message's charset
    evidence (a tuple: one per parse)."""

    raw: bytes
    lifted: dict[str, Lifted]
    charsets: MessageCharsets


def walk(message: Message, source: RawSource, options: ParseOptions, depth: int = 0,
         files: bool = True) -> MimeContent:
    """Collect bodies, attachments and attached messages of `message`.

    With `files=False` only the body texts are collected: enough for the
    original inside a forward, and it keeps nested attached mail linear.
    """
    walker = _Walker(source, options, files)
    walker.visit(message, depth)
    return walker.content


def walk_text(data: bytes, content_type: str, charset: str | None, defects: list[MessageDefect],
              options: ParseOptions, charsets: MessageCharsets) -> MimeContent:
    """What walk() gives for a single-part text body with no disposition and no filename, read from its bytes.

    Most mail is just that, and its tree would only be built to be read back.
    """
    walker = _Walker(RawSource(b"", {}, charsets), options, files=True)
    walker.parts = 1
    walker.defects(defects)
    walker.text_body(walker.decoded(data, charset, content_type), content_type)
    return walker.content


class _Walker:
    """One bounded pass over a tree; state lives here, not in globals."""

    def __init__(self, source: RawSource, options: ParseOptions, files: bool) -> None:
        self.source = source
        self.options = options
        self.files = files
        self.content = MimeContent()
        self.parts = 0
        self.names = UniqueNames()

    def visit(self, part: Message, depth: int) -> None:
        self.parts += 1
        if self.parts > MAX_PARTS:
            if self.parts == MAX_PARTS + 1:
                self.content.problems.append(f"more than {MAX_PARTS} MIME parts; the rest ignored")
            return
        self.defects(getattr(part, "defects", ()))
        content_type = _content_type(part)
        if part.is_multipart() and not content_type.startswith("message/"):
            if depth >= MAX_DEPTH:
                self.content.problems.append(f"MIME nesting deeper than {MAX_DEPTH} levels; inner parts ignored")
                return
            for child in part.get_payload():
                if isinstance(child, Message):
                    self.visit(child, depth + 1)
            return
        if content_type in _REPORT_TYPES:
            self.content.delivery_status = _report_text(part)
        elif content_type in _RETURNED_HEADER_TYPES:
            self.returned_headers(part, content_type)
        elif content_type in BODY_TYPES and part.get_content_disposition() != "attachment" and not _named(part):
            self.body(part, content_type, depth)
        elif not self.files:
            return
        elif content_type in _MESSAGE_TYPES:
            self.attached_message(part, depth)
        else:
            self.leaf_attachment(part, content_type)

    def defects(self, defects: list[MessageDefect]) -> None:
        """The first few defects the parser noted: enough to tell why a mail reads oddly."""
        for defect in defects[:3]:
            self.content.problems.append(f"MIME defect: {type(defect).__name__}")

    def returned_headers(self, part: Message, content_type: str) -> None:
        """A report's copy of the failed mail's headers: read for the bounce, kept as a file.

        compat32 parses message/rfc822-headers as a message of its own; its
        defects and header lines are taken from there.
        """
        payload = part.get_payload()
        if isinstance(payload, list) and payload and isinstance(payload[0], Message):
            inner = payload[0]
            self.content.problems.extend(f"MIME defect: {type(d).__name__}" for d in inner.defects[:3])
            text = "\n".join(f"{name}: {decode_value(value)[0]}" for name, value in inner.raw_items())
        else:
            text = self.text_of(part)
        self.content.returned_headers = text
        if self.files:
            data = text.encode("utf-8")
            self.content.attachments.append(self.attachment("returned-headers.txt", content_type, data, False, None))

    def body(self, part: Message, content_type: str, depth: int) -> None:
        text = self.text_of(part)
        if self.files and self.content.plain and content_type == "text/plain" and starts_with_mail_header(text):
            # A second text part that is a whole mail: the returned message of a report, or an
            # original forwarded inline as its own part.
            data = text.encode("utf-8")
            inner = parse_bytes(data)
            if inner is not None:
                self.add_message(inner, data, "", _content_id(part), depth)
                return
        self.text_body(text, content_type)

    def text_body(self, text: str, content_type: str) -> None:
        if content_type == "text/html":
            self.content.html.append(text)
            return
        text, files = split_uuencoded(text)
        self.content.plain.append(text)
        for name, data in files if self.files else ():
            self.content.attachments.append(self.attachment(name, guess_type(name), data, inline=False, content_id=None))

    def text_of(self, part: Message) -> str:
        """A text part's content as str, charset from its label or a guess."""
        data = self.payload(part)
        data = data.content if isinstance(data, Streamed) else data
        return self.decoded(data or b"", text_charset(part), _content_type(part))

    def decoded(self, data: bytes, charset: str | None, content_type: str) -> str:
        decoded = recover(data, charset, self.source.charsets, f"{content_type} part")
        if decoded.problem:
            self.content.problems.append(decoded.problem)
        return decoded.text.replace("\r\n", "\n")

    def payload(self, part: Message) -> bytes | Streamed:
        """Decoded payload bytes; a lifted body is streamed from the raw bytes."""
        raw_payload = part.get_payload()
        if not isinstance(raw_payload, str):
            return b""
        run = placeholder_of(raw_payload, self.source.lifted)
        if run is not None:
            limit = self.options.max_part_bytes
            encoding = str(part.get("content-transfer-encoding", "")).strip().lower()
            if encoding == "base64":
                return stream_base64(self.source.raw, run, limit)
            return stream_raw(self.source.raw, run, limit, quoted_printable=encoding == "quoted-printable")
        if self.source.lifted:
            part.set_payload(restore(raw_payload, self.source.raw, self.source.lifted))
        try:
            data = part.get_payload(decode=True)
        except (ValueError, LookupError, TypeError) as exc:
            self.content.problems.append(f"undecodable part payload: {type(exc).__name__}")
            return raw_bytes(raw_payload)
        return data if isinstance(data, bytes) else b""

    def leaf_attachment(self, part: Message, content_type: str) -> None:
        data = self.payload(part)
        content_id = _content_id(part)
        disposition = part.get_content_disposition()
        inline = disposition == "inline" or (disposition is None and content_id is not None)
        name = (self.filename(part) or with_extension(location_name(part), content_type) or description_name(part)
                or default_name(len(self.content.attachments) + 1, content_type))
        if content_type == "application/octet-stream":
            content_type = guess_type(name)  # scanners and fax servers send every file as octet-stream
        self.content.attachments.append(self.attachment(name, content_type, data, inline, content_id))

    def attached_message(self, part: Message, depth: int) -> None:
        """An attached mail: a file for the ticket and a message to parse on its own."""
        inner, data = inner_message(part)
        if inner is None:
            self.leaf_attachment(part, _content_type(part))
            return
        if data is None:
            payload = part.get_payload()
            data = self.serialised(payload[0] if isinstance(payload, list) and isinstance(payload[0], Message)
                                   else inner)
        self.add_message(inner, data, self.filename(part), _content_id(part), depth)

    def serialised(self, message: Message) -> bytes:
        try:
            return message.as_bytes(policy=compat32)
        except Exception as exc:  # the generator trips over malformed trees in many ways; the file stays empty
            self.content.problems.append(f"attached message not re-serialisable: {type(exc).__name__}")
            return b""

    def add_message(self, inner: Message, data: bytes, filename: str, content_id: str | None, depth: int) -> None:
        """The attached mail as a file named after its subject (unless it has a name of its own), and
        as a message to parse."""
        subject, _ = decode_value(raw_field(inner, "subject"), self.source.charsets)
        name = mail_name(filename, subject)
        self.content.attachments.append(self.attachment(name, "message/rfc822", data, False, content_id))
        if depth + 1 >= MAX_DEPTH:
            self.content.problems.append("attached message nested too deep; not parsed")
        else:
            self.content.messages.append(inner)

    def filename(self, part: Message) -> str:
        """The part's own filename, raw 8-bit names recovered with the message's charset evidence."""
        return filename_of(part, self.source.charsets, self.content.problems)

    def attachment(self, name: str, content_type: str, data: bytes | Streamed, inline: bool,
                   content_id: str | None) -> Attachment:
        """An Attachment record under a name no other part of the message has; content dropped (and
        said so) over the size limit."""
        name = self.names.claim(name)
        if isinstance(data, Streamed):
            size, digest, content = data.size, data.sha256, data.content
        else:
            size, digest = len(data), hashlib.sha256(data).hexdigest()
            content = data if size <= self.options.max_part_bytes else None
        truncated = content is None and size > self.options.max_part_bytes
        if truncated:
            self.content.problems.append(
                f"attachment {name!r} is {size} bytes, over the {self.options.max_part_bytes}-byte limit; content not kept")
        return Attachment(name, content_type, size, digest, inline, content_id, content, truncated)


def content_param(part: Message, name: str) -> object:
    """`part.get_param(name)`, without parsing Content-Type again when it was seen before.

    get_param splits the whole header on each call, and most mail repeats a
    handful of Content-Type values ("text/plain; charset=utf-8").
    """
    value = part.get("content-type")
    if value is None or name not in str(value).lower():
        return None
    if isinstance(value, str) and len(value) <= _CACHED_VALUE_LIMIT:
        return _param_in(value, name)
    return part.get_param(name)


@lru_cache(maxsize=1024)
def _param_in(content_type: str, name: str) -> object:
    """get_param of a Content-Type value alone: it depends on nothing else (results are str or tuples)."""
    probe = Message(policy=compat32)
    probe["Content-Type"] = content_type
    return probe.get_param(name)


def _named(part: Message) -> bool:
    """Whether a text part carries a filename (then it is a file, not the body)."""
    headers = f"{part.get('content-type', '')};{part.get('content-disposition', '')}".lower()
    return "name" in headers and bool(filename_of(part))


def _report_text(part: Message) -> str:
    """message/delivery-status as text: compat32 gives its blocks as header-only messages."""
    payload = part.get_payload()
    if isinstance(payload, str):
        return recover(raw_bytes(payload), None, None, "delivery status").text
    blocks: list[str] = []
    for block in payload:
        if isinstance(block, Message):
            lines = [f"{name}: {decode_value(value)[0]}" for name, value in block.raw_items()]
            blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


def _content_type(part: Message) -> str:
    try:
        return part.get_content_type()
    except (ValueError, TypeError, IndexError):
        return "application/octet-stream"


def text_charset(part: Message) -> str | None:
    """The charset a text part is decoded with (its label, as the part gives it)."""
    try:
        charset = content_param(part, "charset")
    except (ValueError, TypeError, IndexError):
        return None
    if isinstance(charset, tuple):
        charset = charset[2]
    return (str(charset).strip() or None) if charset else None


def _content_id(part: Message) -> str | None:
    """Content-ID without brackets: the form `cid:` URLs use."""
    value = part.get("content-id")
    if value is None:
        return None
    text, _ = decode_value(value)
    return text.strip().strip("<>").strip() or None
