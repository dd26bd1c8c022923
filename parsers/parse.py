"""Raw message bytes to a ParsedMessage: the one entry point of `parsers/`.

The steps, each in its own module: lift huge bodies (large_parts), read a
single-part message's fields and payload directly (single_part) or else
parse the MIME tree leniently (compat32), decode headers (headers), walk the
tree or read the one text part (mime), pick the body, find a forward, split
off quotes and signature (reply), read commands (commands), classify
(classify, bounces).  Nothing here raises: a step that fails leaves a
problem line and the rest goes on.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from email.message import Message
from email.parser import BytesHeaderParser, Parser
from email.policy import compat32

from parsers.bounces import bounce_details
from parsers.charset_recovery import MessageCharsets
from parsers.classify import Envelope, classify
from parsers.commands import extract_commands
from parsers.content_type import ContentType, content_type, declared_charset
from parsers.forward import detect_forward
from parsers.headers import decode_value, message_ids, parse_addresses, parse_date
from parsers.html_text import html_to_text
from parsers.large_parts import lift
from parsers.message import (Address, Bounce, Forward, ForwardedOriginal, ParsedMessage, ParseOptions,
                             frozen_instance)
from parsers.quotes.body import Body, read_body
from parsers.mime import MAX_PARTS, MimeContent, RawSource, walk, walk_text
from parsers.reply import ReplySplit, split_reply
from parsers.sender import from_mailboxes, group_author
from parsers.single_part import SinglePart, parse_single_part

_HEADER_LIMIT = 1000  # headers kept per message; more is an attack, not mail
_VALUE_LIMIT = 64 * 1024
_BOUNDARY_LIMIT = 4 * MAX_PARTS  # boundary-like lines parsed at most
# "--token" alone on its line; SQL or diff lines ("-- comment", "--- a/x") have spaces.
_BOUNDARY_LINE = re.compile(rb"\n--[^\s]{1,72}\r?(?=\n)")


def parse_message(raw: bytes, options: ParseOptions = ParseOptions()) -> ParsedMessage:
    """Parse one raw RFC 5322 message; never raises."""
    try:
        data = bytes(raw) if not isinstance(raw, bytes) else raw
        stripped, lifted = lift(data)
        stripped, problems = _cap_boundaries(stripped)
        source = RawSource(data, lifted, MessageCharsets(data))
        text = stripped.decode("ascii", "surrogateescape")  # as BytesParser does
        single = parse_single_part(text)
        if single is not None:
            return _from_single_part(single, source, options, problems)
        tree = _tree(text)
        if isinstance(tree, str):
            headers_only = BytesHeaderParser(policy=compat32).parsebytes(stripped[:_VALUE_LIMIT * 4])
            return _from_tree(headers_only, source, options, [*problems, tree], walk_body=False)
        return _from_tree(tree, source, options, problems)
    except Exception as exc:  # the contract is "never raises"; the raw blob is kept for a re-parse
        return _failed(raw, f"parser failure: {type(exc).__name__}: {str(exc)[:200]}")


def _cap_boundaries(raw: bytes) -> tuple[bytes, list[str]]:
    """Cut a message with absurdly many boundary lines before the stdlib parser sees them.

    The feed parser builds every part it finds, and tens of thousands of
    parts take seconds; the walk reads at most MAX_PARTS of them anyway.
    """
    if raw.count(b"\n--") <= _BOUNDARY_LIMIT:
        return raw, []
    for count, match in enumerate(_BOUNDARY_LINE.finditer(raw), start=1):
        if count > _BOUNDARY_LIMIT:
            problem = f"more than {_BOUNDARY_LIMIT} boundary lines; the message was cut after them"
            return raw[:match.start() + 1], [problem]
    return raw, []


def _tree(text: str) -> Message | str:
    """The MIME tree, or a problem line when even the lenient parser gives up."""
    try:
        return Parser(policy=compat32).parsestr(text)
    except RecursionError:
        return "MIME structure too deeply nested to parse; headers only"


def _from_single_part(single: SinglePart, source: RawSource, options: ParseOptions,
                      problems: list[str]) -> ParsedMessage:
    """Build the ParsedMessage of a single-part message from its fields, without its full tree."""
    return _from_fields(single.fields, single.content_type,
                        lambda: _single_part_content(single, source, options), source, options, problems)


def _single_part_content(single: SinglePart, source: RawSource, options: ParseOptions) -> MimeContent:
    """The content of a single part: a plain body text straight from its bytes, anything else by the walk."""
    top = single.content_type
    data = single.unencoded_payload() if top.text_body and not source.lifted else None
    if data is None or single.first("content-disposition") is not None:
        return walk(single.mime_part(), source, options)
    return walk_text(data, top.mime_type, top.text_charset, single.defects, options, source.charsets)


def _from_tree(tree: Message, source: RawSource, options: ParseOptions, problems: list[str],
               walk_body: bool = True) -> ParsedMessage:
    """Build the ParsedMessage of the top-level message."""
    return _from_fields(list(tree.raw_items()), content_type(tree),
                        lambda: walk(tree, source, options) if walk_body else MimeContent(), source, options,
                        problems)


def _from_fields(items: list[tuple[str, str]], top_type: ContentType,
                 read_content: Callable[[], MimeContent], source: RawSource, options: ParseOptions,
                 problems: list[str]) -> ParsedMessage:
    """Build the ParsedMessage from the top-level header fields and a way to read the content."""
    charsets = source.charsets.labelled(top_type.declared_charset)
    headers = _decoded_headers(items, charsets, problems)
    fields = _Fields(items, charsets)
    subject = (headers.get("subject") or [""])[0]
    sender = _from(fields, charsets, problems)
    if not any(address.email for address in sender):  # a From without address: Sender may have one
        sender = _addresses(fields, "sender", problems) or sender
    if not sender or not sender[0].email:
        problems.append("no sender address (From/Sender missing or unreadable)")
    sender = group_author(sender, _addresses(fields, "x-original-from", []),
                          _addresses(fields, "reply-to", []), problems)
    date, date_problem = parse_date(fields.get("date"))
    if date_problem:
        problems.append(date_problem)
    message_id = next(iter(message_ids(fields.get("message-id"))), None)
    content = read_content()
    problems.extend(content.problems)
    html = "\n".join(content.html) or None
    body, body_html = _body(content, html)

    envelope = Envelope(headers, subject, sender[0] if sender else None, message_id, top_type.mime_type,
                        top_type.report_type, content.delivery_status is not None, body)
    kind = classify(envelope, options)
    bounce = _bounce(content, body) if kind == "bounce" else None

    # Read once: forward detection and reply splitting scan the same lines.
    reply_source: str | Body = read_body(body)
    forward, reply_html = None, body_html
    if kind not in ("bounce", "loop"):
        forward = detect_forward(subject, reply_source)
        if forward is not None:
            reply_source, reply_html = forward.note, None
    # A delivery report is all report: its last lines are the failed addresses, not a signature.
    split = split_reply(reply_source, reply_html) if kind != "bounce" else ReplySplit(body.strip(), "", None)
    commands, text = extract_commands(split.text)
    if forward is not None:
        forward = Forward(text, forward.original)
    elif content.messages and kind not in ("bounce", "loop"):
        forward = Forward(text, _original(content.messages[0], source, options))

    message = frozen_instance(
        ParsedMessage,
        message_id=message_id,
        subject=subject,
        sender=sender[0] if sender else None,
        to=_addresses(fields, "to", problems),
        cc=_addresses(fields, "cc", problems),
        reply_to=_addresses(fields, "reply-to", problems),
        date=date,
        in_reply_to=next(iter(message_ids(fields.get("in-reply-to"))), None),
        references=_references(fields),
        text=text,
        elided=split.elided,
        signature=split.signature,
        html=html,
        kind=kind,
        forward=forward,
        bounce=bounce,
        commands=commands,
        attachments=tuple(content.attachments),
        headers=headers,
        problems=tuple(dict.fromkeys(problems)),
    )
    return message


def _body(content: MimeContent, html: str | None) -> tuple[str, str | None]:
    """The body text, and the HTML when the text was made from it.

    The HTML goes to reply splitting only when it is the chosen body: a
    plain part, when there is one, is what the sender's client meant as text.
    """
    body = "\n\n".join([part.strip("\n") for part in content.plain if part.strip()])
    if not body and html:
        return html_to_text(html), html
    return body, None


def _original(inner: Message, source: RawSource, options: ParseOptions) -> ForwardedOriginal:
    """The original of a forward-as-attachment: its headers and whole body text."""
    charsets = source.charsets.labelled(declared_charset(inner))
    fields = _Fields(list(inner.raw_items()), charsets)
    sender = _addresses(fields, "from", []) or _addresses(fields, "sender", [])
    date, _ = parse_date(fields.get("date"))
    subject, _ = decode_value(fields.get("subject") or "", charsets)
    content = walk(inner, source, options, depth=1, files=False)
    body, _ = _body(content, "\n".join(content.html) or None)
    return ForwardedOriginal(sender[0] if sender else None, date, subject,
                             next(iter(message_ids(inner.get("message-id"))), None), body,
                             _addresses(fields, "cc", []))


def _bounce(content: MimeContent, body: str) -> Bounce:
    """Bounce details: report fields, the returned headers or the attached original."""
    returned = [content.returned_headers or ""]
    returned += [f"Message-ID: {m.get('message-id', '')}" for m in content.messages if m.get("message-id")]
    return bounce_details(content.delivery_status, returned, body)


def _decoded_headers(items: list[tuple[str, str]], charsets: MessageCharsets,
                     problems: list[str]) -> dict[str, list[str]]:
    """Every header decoded to one clean line, names lower-cased, in order."""
    headers: dict[str, list[str]] = {}
    for count, (name, value) in enumerate(items):
        if count >= _HEADER_LIMIT:
            problems.append(f"more than {_HEADER_LIMIT} header fields; the rest ignored")
            break
        value = value[:_VALUE_LIMIT] if isinstance(value, str) else value
        if isinstance(value, str) and value.isascii() and value.isprintable() and "=?" not in value:
            text = value.strip()  # what decode_value makes of it; most fields are like this
        else:
            text, value_problems = decode_value(value, charsets)
            problems.extend(value_problems)
        key = name.strip().lower()
        if not (key.isascii() and key.isprintable()) or " " in key:
            key = "".join(c for c in key if " " < c < "\x7f")
        headers.setdefault(key, []).append(text)
    return headers


class _Fields:
    """A message's header fields by lower-cased name, indexed once.

    Message.get and get_all scan every field on each call, and a parse asks
    for about a dozen.  Values are the raw strings (8-bit bytes as surrogate
    escapes), not the policy's Header objects, whose text has lost the bytes
    that charset recovery reads.  Address fields are parsed
    once each (Reply-To is read twice: for a group's author and as itself).
    """

    def __init__(self, items: list[tuple[str, str]], charsets: MessageCharsets) -> None:
        self._charsets = charsets
        self._addresses: dict[str, tuple[tuple[Address, ...], list[str]]] = {}
        self._by_name: dict[str, list[tuple[str, str]]] = {}
        for name, value in items:
            self._by_name.setdefault(name.lower(), []).append((name, value))

    def get(self, name: str) -> object | None:
        found = self._by_name.get(name)
        return found[0][1] if found else None

    def get_all(self, name: str) -> list[object]:
        return [value for _, value in self._by_name.get(name, ())]

    def addresses(self, name: str) -> tuple[tuple[Address, ...], list[str]]:
        if name not in self._by_name:
            return (), []
        if name not in self._addresses:
            self._addresses[name] = parse_addresses(self.get_all(name), self._charsets)
        return self._addresses[name]


def _references(fields: _Fields) -> tuple[str, ...]:
    """The ids of all References fields (most mail has none: nothing to decode then)."""
    values = fields.get_all("references")
    return message_ids(" ".join(str(v) for v in values)) if values else ()


def _from(fields: _Fields, charsets: MessageCharsets, problems: list[str]) -> tuple[Address, ...]:
    """The From mailboxes, read leniently when the standard reading lost the sender."""
    found, address_problems = fields.addresses("from")
    return from_mailboxes(fields.get_all("from"), found, address_problems, charsets, problems)


def _addresses(fields: _Fields, name: str, problems: list[str]) -> tuple[Address, ...]:
    found, address_problems = fields.addresses(name)
    problems.extend(address_problems)
    return found


def _failed(raw: object, problem: str) -> ParsedMessage:
    """The result when parsing failed: whatever the headers alone still give, and the reason."""
    subject, sender, message_id = "", None, None
    try:
        head = BytesHeaderParser(policy=compat32).parsebytes(bytes(raw)[:_VALUE_LIMIT])  # type: ignore[call-overload]
        subject = decode_value(head.get("subject", ""))[0]
        sender = next(iter(parse_addresses(head.get_all("from", []))[0]), None)
        message_id = next(iter(message_ids(head.get("message-id"))), None)
    except Exception:  # even the headers are unreadable: the empty result below still stands
        pass
    return ParsedMessage(
        message_id=message_id, subject=subject, sender=sender, to=(), cc=(), reply_to=(), date=None,
        in_reply_to=None, references=(), text="", elided="", signature=None, html=None, kind="normal",
        forward=None, bounce=None, commands=(), attachments=(), headers={}, problems=(problem,),
    )
