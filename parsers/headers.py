"""Header values to clean text: encoded words, raw 8-bit, addresses, dates, ids.

Works on the raw header strings the compat32 parser keeps (8-bit bytes as
surrogate escapes), because the modern policy gives up, or raises, on the
broken encoded words real clients send: missing padding, spaces inside,
wrong charset labels, UTF-8 split in the middle of a character.
"""

from __future__ import annotations

import binascii
import re
from datetime import datetime, timedelta, timezone
from email.utils import getaddresses, parsedate_to_datetime

from parsers.charset_recovery import MessageCharsets, recover
from parsers.message import Address

# Lenient: allow spaces inside the encoded text (seen from broken mailers)
# but never a line break or another "=?".
_ENCODED_WORD = re.compile(r"=\?([^?\s]{1,75})\?([bBqQ])\?([^\r\n]{0,1000}?)\?=")
_BETWEEN_WORDS = re.compile(r"[ \t]*")
_LINE_BREAKS = re.compile(r"\r?\n(?=[ \t])")
_CONTROLS = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]+")
_MSG_ID = re.compile(r"<[^<>\s]*>")
# `alice@example.com <bob@example.com>`: an unquoted address used as a display
# name (non-conforming, but common); quoted so it is not read as two mailboxes.
_ADDRESS_AS_NAME = re.compile(r'(^|,)\s*([^,"<>\s]+@[^,"<>\s]+)\s*<')
# `Name <a@b>`, `"Name" <a@b>`, `<a@b>` or `a@b`: one mailbox, no comments, no commas.
_SIMPLE_MAILBOX = re.compile(
    r'\s*(?:([\w.\- =?*\'+/]*?)\s*<([^<>\s,;:"()\[\]\\@]+@[\w.-]+)>|"([^"\\]*)"\s*<([^<>\s,;:"()\\@]+@[\w.-]+)>'
    r'|([^<>\s,;:"()\\@]+@[\w.-]+))\s*$'
)
# The date shape nearly every client writes ("Tue, 10 Mar 2026 10:00:00 +0000",
# maybe a zone comment after it), read without the stdlib's general parser.
_STANDARD_DATE = re.compile(
    r"(?:(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), )?([0-9]{1,2}) (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) "
    r"([1-9][0-9]{3}) ([0-9]{2}):([0-9]{2}):([0-9]{2}) ([+-])([0-9]{2})([0-9]{2})(?: \([A-Za-z]+\))?"
)
_MONTHS = {name: number for number, name in enumerate(
    ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), start=1)}
_ADDRESS_LIST_LIMIT = 32 * 1024
_Q_HEX = re.compile(rb"=([0-9A-Fa-f]{2})")


def raw_bytes(value: object) -> bytes:
    """The original bytes of a compat32 header value (surrogate escapes undone)."""
    text = value if isinstance(value, str) else str(value)
    return text.encode("utf-8", "surrogateescape")


def decode_value(value: object, charsets: MessageCharsets | None = None) -> tuple[str, list[str]]:
    """Decode one raw header value to single-line text, with problem lines.

    Unfolds, decodes RFC 2047 words (joining adjacent ones, as RFC 2047 §6.2
    asks), decodes raw 8-bit text as the message's `charsets` suggest, and
    replaces CR, LF and other controls with a space so a decoded value can
    never smuggle in a header of its own.
    """
    if isinstance(value, str) and value.isascii() and "=?" not in value and "\x1b" not in value:
        # The common case: nothing to decode, only unfolding and cleaning.
        return _one_line(value).strip(), []
    problems: list[str] = []
    data = raw_bytes(value)
    text = _text_of(data, charsets, problems)
    text = _LINE_BREAKS.sub("", text)
    decoded = _decode_words(text, problems)
    return _CONTROLS.sub(" ", decoded).strip(), problems


def _one_line(text: str) -> str:
    """Unfold and blank out controls; a printable text has neither, and most have not."""
    return text if text.isprintable() else _CONTROLS.sub(" ", _LINE_BREAKS.sub("", text))


def _text_of(data: bytes, charsets: MessageCharsets | None, problems: list[str]) -> str:
    """Raw header bytes to str; 8-bit headers are common in Russian, Chinese and Japanese mail, and
    raw ISO-2022-JP (7-bit, with escapes) in old Japanese mail."""
    if data.isascii() and b"\x1b" not in data:
        return data.decode("ascii")
    decoded = recover(data, charsets.declared if charsets else None, charsets, "header")
    if decoded.problem:
        problems.append(decoded.problem)
    return decoded.text


def _decode_words(text: str, problems: list[str]) -> str:
    """Replace encoded words by their text; runs of them become one string."""
    out: list[str] = []
    pending: list[tuple[str, bytes]] = []
    position = 0
    for match in _ENCODED_WORD.finditer(text):
        gap = text[position:match.start()]
        if pending and not _BETWEEN_WORDS.fullmatch(gap):
            out.append(_flush(pending, problems))
        if not pending:
            out.append(gap)
        charset, encoding, payload = match.groups()
        pending.append((charset.split("*", 1)[0], _word_bytes(encoding, payload, problems)))
        position = match.end()
    if pending:
        out.append(_flush(pending, problems))
    out.append(text[position:])
    return "".join(out)


def _flush(pending: list[tuple[str, bytes]], problems: list[str]) -> str:
    """Decode a run of encoded words, joining same-charset bytes first.

    Senders split a UTF-8 character across two words more often than one
    would think; decoding the concatenated bytes repairs that.
    """
    parts: list[str] = []
    charset, chunk = pending[0][0], bytearray()
    for word_charset, data in pending:
        if word_charset.lower() != charset.lower():
            parts.append(_decode_chunk(bytes(chunk), charset, problems))
            charset, chunk = word_charset, bytearray()
        chunk += data
    parts.append(_decode_chunk(bytes(chunk), charset, problems))
    pending.clear()
    return "".join(parts)


def _decode_chunk(data: bytes, charset: str, problems: list[str]) -> str:
    decoded = recover(data, charset, None, "encoded word")
    if decoded.problem:
        problems.append(decoded.problem)
    return decoded.text


def _word_bytes(encoding: str, payload: str, problems: list[str]) -> bytes:
    """The bytes of one encoded word's text (B or Q), tolerating bad padding."""
    data = payload.encode("utf-8", "surrogateescape")
    if encoding in "qQ":
        return _Q_HEX.sub(lambda m: bytes([int(m.group(1), 16)]), data.replace(b"_", b" "))
    core = re.sub(rb"[^A-Za-z0-9+/]", b"", data)
    if len(core) % 4 == 1:
        core = core[:-1]
        problems.append("encoded word: truncated base64")
    try:
        return binascii.a2b_base64(core + b"=" * (-len(core) % 4))
    except binascii.Error:
        problems.append("encoded word: undecodable base64")
        return data


def parse_addresses(values: list[object],
                    charsets: MessageCharsets | None = None) -> tuple[tuple[Address, ...], list[str]]:
    """Mailboxes from raw address headers: decoded names, normalised addresses."""
    if not values:
        return (), []
    problems: list[str] = []
    raw: list[str] = []
    for value in values:
        if isinstance(value, str) and value.isascii() and "\x1b" not in value and len(value) <= _ADDRESS_LIST_LIMIT:
            raw.append(_one_line(value))  # its bytes are its characters: nothing to cut or decode
            continue
        data = raw_bytes(value)
        if len(data) > _ADDRESS_LIST_LIMIT:
            # Thousands of recipients are an attack or a mistake; keep the first ones.
            data = data[: data.rfind(b",", 0, _ADDRESS_LIST_LIMIT) + 1 or _ADDRESS_LIST_LIMIT]
            problems.append(f"address list longer than {_ADDRESS_LIST_LIMIT} bytes; the rest ignored")
        raw.append(_one_line(_text_of(data, charsets, problems)))
    found: list[Address] = []
    for name, email in _split_addresses(raw):
        email = email.strip()
        if not email or "@" not in email:
            if email:
                problems.append(f"address without domain: {email[:80]!r}")
            continue
        decoded_name, name_problems = decode_value(name)
        problems.extend(name_problems)
        address = normalise_email(email)
        decoded_name = decoded_name.strip().strip('"').strip()
        # A "name" that only repeats the address says nothing; drop it.
        found.append(Address("" if decoded_name.lower() == address else decoded_name, address))
    return tuple(found), problems


def _split_addresses(values: list[str]) -> list[tuple[str, str]]:
    """(name, address) pairs; the common one-mailbox forms skip the slow full parser."""
    if len(values) == 1:
        simple = _SIMPLE_MAILBOX.match(values[0])
        if simple:
            name = simple.group(1) or simple.group(3) or ""
            return [(name, simple.group(2) or simple.group(4) or simple.group(5))]
    return getaddresses([_ADDRESS_AS_NAME.sub(r'\1"\2" <', value) for value in values])


def normalise_email(email: str) -> str:
    """Lower-case the address; the domain as IDNA ASCII, so one mailbox has one spelling."""
    local, _, domain = email.strip().strip("<>").rpartition("@")
    domain = domain.strip().rstrip(".").lower()
    if not domain.isascii():  # IDNA leaves an ASCII name as it is, or rejects it and it is kept anyway
        try:
            domain = domain.encode("idna").decode("ascii")
        except (UnicodeError, ValueError):
            pass  # not a valid IDN (empty label, too long): keep it lower-cased as sent
    return f"{local.lower()}@{domain}"


def parse_date(value: object | None) -> tuple[datetime | None, str | None]:
    """Date header to an aware UTC datetime, or None and a problem line."""
    if value is None:
        return None, "no Date header"
    text, _ = decode_value(value)
    standard = _standard_date(text)
    if standard is not None:
        return standard, None
    try:
        parsed = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None, f"unreadable Date header: {text[:80]!r}"
    if parsed is None:
        return None, f"unreadable Date header: {text[:80]!r}"
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)  # "-0000": RFC 5322 says UTC, zone unknown
    try:
        return parsed.astimezone(timezone.utc), None
    except (OverflowError, ValueError):
        return None, f"Date header out of range: {text[:80]!r}"


def _standard_date(text: str) -> datetime | None:
    """The UTC time of a date in the standard shape, as parsedate_to_datetime reads it; None otherwise.

    Impossible values (31 Feb, a zone of a day or more) are left to the general path and its problem lines.
    """
    found = _STANDARD_DATE.fullmatch(text)
    if found is None:
        return None
    day, month, year, hour, minute, second, sign, zone_hours, zone_minutes = found.groups()
    offset = int(zone_hours) * 3600 + int(zone_minutes) * 60
    try:
        zone = timezone(timedelta(seconds=-offset if sign == "-" else offset))
        local = datetime(int(year), _MONTHS[month], int(day), int(hour), int(minute), int(second), tzinfo=zone)
        return local.astimezone(timezone.utc)
    except (ValueError, OverflowError):
        return None


def message_ids(value: object | None) -> tuple[str, ...]:
    """Every `<id>` in a Message-ID, In-Reply-To or References value, in order.

    A bare id without brackets (sent by some scripts) gets them added, so ids
    compare equal however the sender wrote them.
    """
    if value is None:
        return ()
    text, _ = decode_value(value)
    found = [m for m in _MSG_ID.findall(text) if len(m) > 2]
    if found:
        return tuple(found)
    bare = text.split()
    return tuple(f"<{token.strip('<>')}>" for token in bare[:1] if "@" in token)
