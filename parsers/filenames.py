"""Attachment names: what the sender called a part, or the best name the part itself gives.

Names come, in order, from Content-Disposition's filename, Content-Type's
name (RFC 2231, encoded words, or raw 8-bit bytes in the sender's legacy
charset), an inline image's Content-Location, an attached mail's subject,
and last a name made from the part's type.  Two parts of one message never
share a name: a ticket lists files by name, and a second "image001.png"
would hide the first.
"""

from __future__ import annotations

import mimetypes
import re
from email.message import Message
from email.policy import compat32
from urllib.parse import unquote, urlsplit

from parsers.charset_recovery import MessageCharsets, recover
from parsers.headers import decode_value, raw_bytes

_MAX_NAME = 255
_MAX_SUBJECT_NAME = 120
# What Outlook, Exchange and webmailers call an attached mail when they do not use its subject.
_GENERIC_MAIL_NAME = re.compile(r"(?:ATT\d+|message|unnamed|noname|untitled|forwarded message|attached message)"
                                r"(?:\.(?:eml|msg|txt))?", re.IGNORECASE)
_FILENAME_LIKE = re.compile(r"[^\s/]{1,200}\.[A-Za-z0-9]{1,5}")
_UNSAFE_IN_NAME = re.compile(r'[\\/:*?"<>|\x00-\x1f\x7f]+')


def filename_of(part: Message, charsets: MessageCharsets | None = None, problems: list[str] | None = None) -> str:
    """The part's filename: RFC 2231 (with continuations), encoded words, raw 8-bit, or name=."""
    for header, param in (("content-disposition", "filename"), ("content-type", "name")):
        value = _param(part, header, param, charsets, problems)
        if isinstance(value, tuple):  # RFC 2231: charset''text
            charset, _, text = value
            decoded = recover(text.encode("latin-1", "surrogateescape"), charset or None, charsets, "filename")
            if decoded.problem and problems is not None:
                problems.append(decoded.problem)
            name = decoded.text
        elif isinstance(value, str):
            name, _ = decode_value(value)
        else:
            continue
        name = safe_filename(name)
        if name:
            return name
    return ""


def _param(part: Message, header: str, param: str, charsets: MessageCharsets | None,
           problems: list[str] | None) -> object:
    """A header parameter, read from the raw field so raw 8-bit text keeps its bytes for recovery.

    The email package hands 8-bit fields out as Header objects whose text
    has already lost those bytes to replacement characters.
    """
    raw = next((value for name, value in part.raw_items() if name.lower() == header), None)
    if raw is None:
        return None
    holder = part
    if not raw.isascii():
        decoded = recover(raw_bytes(raw), None, charsets, "filename")
        if decoded.problem and problems is not None:
            problems.append(decoded.problem)
        holder = Message(policy=compat32)
        holder.set_raw(header, decoded.text)
    try:
        return holder.get_param(param, None, header)
    except (ValueError, LookupError, TypeError, IndexError):
        return None


def location_name(part: Message) -> str:
    """The last segment of an inline part's Content-Location (MHTML, Apple Mail, Outlook images)."""
    value = part.get("content-location")
    if value is None:
        return ""
    text, _ = decode_value(value)
    text = text.strip().strip("<>").strip()
    try:
        path = urlsplit(text).path if re.match(r"[A-Za-z][\w+.-]*:", text) else text.split("?", 1)[0]
    except ValueError:
        path = text
    return safe_filename(unquote(path))


def description_name(part: Message) -> str:
    """A Content-Description that is a filename ("20240304091500.pdf"): where some scanners put it."""
    value = part.get("content-description")
    if value is None:
        return ""
    text, _ = decode_value(value)
    name = safe_filename(text)
    return name if _FILENAME_LIKE.fullmatch(name) else ""


def mail_name(filename: str, subject: str) -> str:
    """The name of an attached mail: its own filename unless generic, else its subject."""
    if filename and not _GENERIC_MAIL_NAME.fullmatch(filename):
        return filename
    stem = _UNSAFE_IN_NAME.sub("_", subject).strip(" ._")[:_MAX_SUBJECT_NAME].strip()
    return f"{stem}.eml" if stem else (filename or "message.eml")


def with_extension(name: str, content_type: str) -> str:
    """`name` with the extension of its type added when it has none ("image001" from a Content-Location)."""
    if not name or "." in name.lstrip("."):
        return name
    return name + (mimetypes.guess_extension(content_type) or "")


def default_name(index: int, content_type: str) -> str:
    extension = mimetypes.guess_extension(content_type) or ".bin"
    return f"part-{index}{extension}"


def guess_type(filename: str) -> str:
    return mimetypes.guess_type(filename)[0] or "application/octet-stream"


def safe_filename(name: str) -> str:
    """Drop paths and control characters a sender may put in a filename."""
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    return "".join(c for c in name if c >= " " and c != "\x7f").strip()[:_MAX_NAME]


class UniqueNames:
    """Names of one message's parts, a second use of a name numbered: "a.pdf", "a (2).pdf"."""

    def __init__(self) -> None:
        self._taken: set[str] = set()

    def claim(self, name: str) -> str:
        candidate, number = name, 1
        while candidate.lower() in self._taken:
            number += 1
            stem, dot, extension = name.rpartition(".")
            candidate = f"{stem} ({number}).{extension}" if dot and stem else f"{name} ({number})"
        self._taken.add(candidate.lower())
        return candidate
