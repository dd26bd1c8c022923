"""The words mail clients write around quoted history, per language.

Reply extraction, signature detection and forward detection all recognise the
same client-written lines ("On … wrote:", Outlook's From:/Sent: block,
"-----Original Message-----", "Sent from my iPhone"), so the vocabulary lives
here once and the modules only decide what to do with a match.  Every pattern
is anchored and bounded so a huge line can never make it backtrack.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from parsers.quotes.vocabulary import (
    FORWARD_INTROS,
    FORWARD_SUBJECT_PREFIXES,
    HEADER_FIELDS,
    MOBILE_SIGNATURES,
    REPLY_ABOVE_MARKERS,
    REPLY_HEADER_STARTS,
    REPLY_HEADER_VERBS,
    SEPARATOR_WORDS,
    VALEDICTIONS,
)
from parsers.quotes.wordpatterns import alternation, any_word, ascii_words, guarded, prefix_tree

__all__ = [
    "FORWARD_INTRO",
    "FORWARD_SUBJECT",
    "MOBILE_SIGNATURE",
    "REPLY_HEADER",
    "SEPARATOR",
    "VALEDICTION",
    "field_role",
    "has_reply_above_marker",
    "split_inline_fields",
    "starts_header_block",
    "is_reply_header",
    "matches_reply_header",
    "may_start_reply_header",
]


_VERB = any_word(REPLY_HEADER_VERBS)
_START = any_word(REPLY_HEADER_STARTS)


def _reply_header(start: str, verb: str, flags: int = 0) -> re.Pattern[str]:
    """"On <date>, <name> wrote:" and its translations, after wrapped lines are
    joined: the verb near the end, or an intro word at the start and a colon."""
    return re.compile(
        rf"^(?:(?:{start})\s.{{0,400}}?(?:{verb}).{{0,200}}|.{{0,400}}?(?:{verb})(?:\s.{{0,200}})?)[:：]?\s*$", flags
    )


REPLY_HEADER = _reply_header(_START, _VERB, re.IGNORECASE)

# The same searches for ASCII text once lower-cased: without IGNORECASE the
# engine compares plain characters, and it skips straight to those a verb
# can start with.
_ASCII_VERB = re.compile(prefix_tree(ascii_words(REPLY_HEADER_VERBS)))
_ASCII_REPLY_HEADER = _reply_header(prefix_tree(ascii_words(REPLY_HEADER_STARTS)), _ASCII_VERB.pattern)


def matches_reply_header(text: str) -> bool:
    """`REPLY_HEADER.match(text)`, faster on ASCII text (most attributions are)."""
    if text.isascii():
        lowered = text.lower()
        return _ASCII_VERB.search(lowered) is not None and _ASCII_REPLY_HEADER.match(lowered) is not None
    return REPLY_HEADER.match(text) is not None


# Gmail's older attribution: "2016-10-24 15:36 GMT+02:00 Name <addr>:" (no verb).
_ADDRESS = r"<\s?[^<>\s]{1,120}@[^<>\s]{1,120}\s?>"
_DATE_FIRST = re.compile(
    r"^\d{4}[-/.]\d{1,2}[-/.]\d{1,2}[ ,]+"
    r"(?:\d{1,2}:\d{2}(?::\d{2})?(?:\s*(?:GMT|UTC)?[+-]\d{1,2}:?\d{2})?\s+[^\s<>][^<>]{0,120}(?:" + _ADDRESS + r")?"
    r"|[^\s<>][^<>]{0,120}" + _ADDRESS + r")\s*:?$"
)
# Mail.ru / Yandex: "26.06.2014, 14:41, "Name" <addr>:" or "<date> от Name <addr>:".
_TIMED_ADDRESS = re.compile(r"^.{0,160}?\b\d{1,2}:\d{2}\b.{0,200}?" + _ADDRESS + r"\s*[:：]$")
_EVIDENCE = re.compile(r"\d|@|<[^>]{0,200}>")
_STARTS_INTRO = re.compile(rf"^(?:{_START})\s", re.IGNORECASE)


def _unframe(line: str) -> str:
    """Trim the line and Zoho's dashes around "---- On … wrote ----"."""
    line = line.strip()
    if line.startswith("--") or line.endswith("--"):
        return line.strip("-– \t")
    return line


def is_reply_header(candidate: str) -> bool:
    """Whether one (possibly re-joined) line is a reply attribution line.

    A bare "… wrote:" in prose is not enough: the line must end in a colon and
    carry a date, a time or an address, or open with an intro word ("On", "Am").
    """
    candidate = _unframe(candidate)
    if len(candidate) > 600:
        return False
    if candidate[:1].isdigit() and ("@" in candidate or ":" in candidate[:30]) and _DATE_FIRST.match(candidate):
        return True
    if candidate.endswith((":", "：")):
        if candidate[:-1].rstrip().endswith(">") and _TIMED_ADDRESS.match(candidate):
            return True
    elif not candidate.lower().endswith(("wrote", "writes")):
        return False
    if not matches_reply_header(candidate):
        return False
    return bool(_EVIDENCE.search(candidate) or _STARTS_INTRO.match(candidate))


_FIELD_ROLE = {
    name.lower(): role for role, names in HEADER_FIELDS.items() for name in names
}
_FIELD_COLON = re.compile(r"[:：]")
_MAX_FIELD_NAME = 40


def field_role(line: str) -> tuple[str, str] | None:
    """(role, value) of an Outlook header field line ("From: x", "*Von:* x", "De : x").

    Roles: from, date, to, cc, subject, reply_to, message_id.  A dictionary
    lookup on the text before the first colon, so scanning every line of a
    huge body stays linear.
    """
    colon = _FIELD_COLON.search(line, 0, _MAX_FIELD_NAME + 4)
    if colon is None:
        return None
    name = line[: colon.start()].strip().strip("*_").strip().lower()
    role = _FIELD_ROLE.get(name)
    if role is None:
        return None
    return role, line[colon.end() :].strip().strip("*_").strip()


_HEADER_ROLES = {"date", "to", "cc", "subject"}
_MIN_HEADER_FIELDS = 2
_MAX_HEADER_FIELD_GAP = 8
_QUOTE_MARK = re.compile(r"^[ \t]*> ?")
_INLINE_FIELD = re.compile(
    rf"(?:^|[\s*_])(?P<name>{alternation(tuple(n for n, r in _FIELD_ROLE.items() if r in _HEADER_ROLES))})"
    r"[ \t]?[:：]",
    re.IGNORECASE,
)


def split_inline_fields(value: str) -> tuple[str, dict[str, str]]:
    """Split "Anna <a@x> Sent: Monday To: b@x Subject: Hi" into its own value and the
    fields flattened after it ({"date": "Monday", "to": "b@x", "subject": "Hi"})."""
    matches = list(_INLINE_FIELD.finditer(value))
    if not matches:
        return value, {}
    fields: dict[str, str] = {}
    for match, following in zip(matches, matches[1:] + [None]):
        end = following.start() if following else len(value)
        role = _FIELD_ROLE[match.group("name").lower()]
        fields.setdefault(role, value[match.end() : end].strip().strip("*_").strip())
    return value[: matches[0].start()].strip().strip("*_").strip(), fields


def starts_header_block(lines: Sequence[str], index: int) -> bool:
    """An Outlook-style header block starts here: a From: line with at least two of
    Sent/Date, To, Cc, Subject on the next few lines — or on the same line, as some
    clients flatten it ("From: X Sent: Y To: Z Subject: W").  `>` marks are ignored.
    """
    if ":" not in lines[index] and "：" not in lines[index]:
        return False  # no field name without a colon: the common case, decided cheaply
    first = field_role(_QUOTE_MARK.sub("", lines[index], count=1))
    if not first or first[0] != "from":
        return False
    roles = set(split_inline_fields(first[1])[1])
    for line in lines[index + 1 : index + _MAX_HEADER_FIELD_GAP]:
        found = field_role(_QUOTE_MARK.sub("", line, count=1))
        if found:
            roles.add(found[0])
    return len(roles & _HEADER_ROLES) >= _MIN_HEADER_FIELDS


# "-----Original Message-----", "---------- Forwarded message ---------",
# "-------- Пересылаемое сообщение --------", "From: … ___" bars.
SEPARATOR = re.compile(
    rf"^[ \t>]*[-–—=_*]{{2,}}[ \t]*(?:{any_word(SEPARATOR_WORDS)})[^\n]{{0,60}}?[ \t]*[-–—=_*]{{2,}}[ \t]*$",
    re.IGNORECASE,
)
FORWARD_INTRO = re.compile(rf"^[ \t]*(?:{any_word(FORWARD_INTROS)})[ \t]*[:：]?[ \t]*$", re.IGNORECASE)


MOBILE_SIGNATURE = re.compile(rf"^[ \t]*{guarded(MOBILE_SIGNATURES)}", re.IGNORECASE)
# The formula alone on its line, or followed by a comma and a name ("Best, Anna").
VALEDICTION = re.compile(
    rf"^[ \t]*(?:{alternation(VALEDICTIONS)})[ \t]*(?:[.!。！]|[,،、][ \t]*(?P<rest>[^\W\d_][^\W\d_'.-]*"
    rf"(?:[ \t]+[^\W\d_][^\W\d_'.-]*){{0,3}})?)?[ \t]*$",
    re.IGNORECASE,
)
# Reply prefixes may stand in front ("Re: Fwd: …" answers a forward and still carries it).
FORWARD_SUBJECT = re.compile(
    rf"^[ \t]*\[?(?:(?:Re|RE|AW|Aw|Sv|SV|Antw|Odp|Ynt|Ответ|رد)[ \t]*[:：][ \t]*)*"
    rf"(?:\[?(?:{alternation(FORWARD_SUBJECT_PREFIXES)})\]?[ \t]*[:：][ \t]*)+",
    re.IGNORECASE,
)


_VERB_ANYWHERE = re.compile(rf"(?:{_VERB})", re.IGNORECASE)


def may_start_reply_header(line: str) -> bool:
    """Whether a line could be the first line of an attribution wrapped over several."""
    stripped = _unframe(line)
    if len(stripped) > 300:
        return False
    return bool(stripped[:1].isdigit() or "<" in stripped or _STARTS_INTRO.match(stripped)
                or _holds_verb(stripped))


def _holds_verb(text: str) -> bool:
    """Whether an attribution verb occurs anywhere in `text`, in any case."""
    if text.isascii():
        return _ASCII_VERB.search(text.lower()) is not None
    return _VERB_ANYWHERE.search(text) is not None


_REPLY_ABOVE_MARKERS = tuple(marker.lower() for marker in REPLY_ABOVE_MARKERS)


def has_reply_above_marker(line: str) -> bool:
    """A helpdesk's "## Reply above this line ##" (substring tests: a regex alternation
    searched at every position of every line costs far more)."""
    return any(map(line.lower().__contains__, _REPLY_ABOVE_MARKERS))
