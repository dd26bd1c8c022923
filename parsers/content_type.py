"""What the top-level parse reads from a message's Content-Type, read once.

The MIME type, the charsets and the report type all come from the first
Content-Type field alone.  The email package answers each by splitting that
field again; mail repeats a handful of values, so their readings are kept
per raw value, taken from a one-field probe message so they are exactly the
email package's answers.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from email.message import Message
from email.policy import compat32
from functools import lru_cache
from typing import TypeVar

from parsers.mime import BODY_TYPES, content_param, text_charset

_CACHED_VALUE_LIMIT = 256  # longer Content-Type values are rare and not worth keeping
_T = TypeVar("_T")


@dataclass(frozen=True)
class ContentType:
    """The readings of one Content-Type field the parse needs."""

    mime_type: str  # get_content_type(), "text/plain" when unreadable
    declared_charset: str | None  # the hint for raw 8-bit header text
    report_type: str  # lower-cased, "" when absent
    # Whether a part of this type without Content-Disposition is a body text,
    # decoded with `text_charset`, or something the MIME walk must look at.
    text_body: bool
    text_charset: str | None


def content_type(part: Message) -> ContentType:
    """The readings of `part`'s own Content-Type field."""
    mime_type = safe(part.get_content_type, "text/plain")
    report_type = safe(lambda: content_param(part, "report-type"), "") or ""
    text_body, charset = _text_reading(part, mime_type)
    return ContentType(mime_type, declared_charset(part), str(report_type).lower(), text_body, charset)


def _text_reading(part: Message, mime_type: str) -> tuple[bool, str | None]:
    """Whether the type makes a body text, and its charset as the walk reads it."""
    if mime_type not in BODY_TYPES or "name" in str(part.get("content-type", "")).lower():
        return False, None  # not a body, or one that may be a named file
    try:
        return True, text_charset(part)
    except Exception:  # the walk meets the same failure and reports it
        return False, None


def content_type_of(raw_value: str | None) -> ContentType | None:
    """The readings of a raw Content-Type value (None: no field), or None when reading its type raises."""
    if raw_value is not None and len(raw_value) > _CACHED_VALUE_LIMIT:
        return _probe(raw_value)
    return _cached_probe(raw_value)


def _probe(raw_value: str | None) -> ContentType | None:
    probe = Message(policy=compat32)
    if raw_value is not None:
        probe.set_raw("Content-Type", raw_value)
    try:
        probe.get_content_maintype()  # unguarded, as the feed parser reads it
        return content_type(probe)
    except Exception:  # the feed parser meets the same failure and reports it its own way
        return None


_cached_probe = lru_cache(maxsize=1024)(_probe)


def declared_charset(part: Message) -> str | None:
    """The part's charset parameter: the best hint for raw 8-bit header text."""
    charset = safe(lambda: content_param(part, "charset"), None)
    return charset if isinstance(charset, str) else None


def safe(call: Callable[[], _T], default: _T) -> _T:
    """Header-parameter lookups of the email package can raise on broken values."""
    try:
        return call()
    except (ValueError, TypeError, IndexError, LookupError):
        return default
