"""Charset recovery: the one place that decides what undeclared or wrongly declared 8-bit text says.

Legacy mailers write raw 8-bit headers and filenames (no RFC 2047) in the
charset of their locale, and some label a body with the wrong charset
(windows-1251 text as iso-8859-1 or us-ascii).  What is declared is decoded
first; when that fails or the result is not plausible text (see
`charset_judge`), the charsets the rest of the message uses are tried: the
labels of its other parts and encoded words, then the charset its 8-bit text
as a whole points to, then the charsets of the sender's country domain, and
when the first decode is not plausible, every legacy charset mail is written
in, each reading judged by `plausibility`.  Every recovery leaves a problem
line saying what was read how.

Well-formed mail never gets here: ASCII and valid UTF-8 are decided before
anything is guessed, and the message's evidence is gathered only on first use.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator

from parsers.charset_judge import ACCEPT, plausibility
from parsers.charsets import Decoded, codec_for, decode_text, decodes, guess_codec

# Legacy charsets tried when nothing in the message names one, most common in mail first.
_LEGACY = ("gb18030", "big5hkscs", "cp932", "cp949", "koi8_r", "cp1251", "cp1252", "cp1250", "cp1253",
           "iso8859_7", "cp1254", "cp1257", "cp1255", "cp1256", "cp866", "euc_jp")
# Codecs under which a text can read plausibly and still be wrong: Latin single-byte tables
# decode any byte, so a clean decode under them proves nothing.
_PERMISSIVE = frozenset(("cp1252", "latin_1", "iso8859_15", "ascii", "utf-8"))
_NOT_LEGACY = frozenset(("utf-8", "ascii", "utf-7", "utf-16", "utf-32", "utf-16-le", "utf-16-be"))
_EVIDENCE_BYTES = 256 * 1024
_SAMPLE_BYTES = 16 * 1024
_JUDGED_BYTES = 2048
_JUDGED_ALL_BYTES = 512
_CLOSE_CALL = 0.1
_SHORT_UTF8 = 64
_INFORMED_GUESSES = frozenset(("koi8_r", "cp1251", "cp1252"))
_CENTRAL_EUROPEAN = frozenset(("cp1250", "iso8859_2", "cp1257", "cp1254"))
_MIN_OVERALL_BYTES = 16
_LABEL = re.compile(rb"""(?:charset\*?=\s*["']?|=\?)([A-Za-z0-9_.:-]{2,40})""", re.IGNORECASE)
# 8-bit runs, spaces and punctuation between them kept: one word or phrase each.  The
# trail byte of a double-byte character (Big5, GBK, Shift_JIS) may be an ASCII letter.
# Whole words are kept: the ASCII letters of a Latin word are what tells its accents apart.
_EIGHT_BIT_RUN = re.compile(rb"[A-Za-z]*(?:[\x80-\xff][\x40-\x7e\x80-\xff]?)+(?:[A-Za-z]*[ \t.,:;!?()_-]{0,3}"
                            rb"(?:[\x80-\xff][\x40-\x7e\x80-\xff]?)+)*[A-Za-z]*")
_C1_CONTROL = re.compile("[\u0080-\u009f]")
# Runs of accented Latin letters: mostly Cyrillic or Greek read in a Latin table.
_LATIN_MOJIBAKE = re.compile("[\u00c0-\u00ff]{3,}")
_CYRILLIC = ("cp1251", "koi8_r")
_DOMAIN_CODECS = {"cn": ("gb18030",), "tw": ("big5hkscs",), "hk": ("big5hkscs",), "jp": ("cp932", "euc_jp"),
                  "kr": ("cp949",), "ru": _CYRILLIC, "ua": ("cp1251", "koi8_u"), "by": _CYRILLIC, "bg": ("cp1251",),
                  "gr": ("cp1253", "iso8859_7")}
_FROM_DOMAIN = re.compile(rb"^From:[^\n]*@[A-Za-z0-9.-]+\.([A-Za-z]{2})\b", re.IGNORECASE | re.MULTILINE)


class MessageCharsets:
    """The charset evidence of one message: its labels, its 8-bit text, its sender's country.

    Made for every parse and gathered only when some text needs recovering;
    `declared` is the label raw header text is read with first.
    """

    def __init__(self, raw: bytes, declared: str | None = None, evidence: _Evidence | None = None) -> None:
        self.declared = declared
        self._evidence = evidence or _Evidence(raw)

    def labelled(self, declared: str | None) -> MessageCharsets:
        """The same evidence with another declared label (an attached message's headers)."""
        return MessageCharsets(b"", declared, self._evidence)

    def codecs(self) -> tuple[str, ...]:
        """Legacy codecs the message names: the declared one, then labels of parts and encoded words."""
        declared = codec_for(self.declared)
        named = self._evidence.codecs()
        return (declared, *named) if declared and declared not in _NOT_LEGACY else named

    def overall(self) -> str | None:
        return self._evidence.overall()

    def country(self) -> tuple[str, ...]:
        return self._evidence.country()


class _Evidence:
    """What the raw message says about its charset, read on first use and kept."""

    def __init__(self, raw: bytes) -> None:
        self._raw = raw[:_EVIDENCE_BYTES]
        self._codecs: tuple[str, ...] | None = None
        self._country: tuple[str, ...] | None = None
        self._overall: str | None = None
        self._overall_known = False

    def codecs(self) -> tuple[str, ...]:
        """Labels of parts and encoded words."""
        if self._codecs is None:
            codecs = (codec_for(m.decode("ascii")) for m in _LABEL.findall(self._raw))
            self._codecs = tuple(dict.fromkeys(c for c in codecs if c and c not in _NOT_LEGACY))
        return self._codecs

    def country(self) -> tuple[str, ...]:
        """The legacy charsets of the country the sender's domain is in (.cn, .jp, .ru, ...)."""
        if self._country is None:
            domain = _FROM_DOMAIN.search(self._raw, 0, _header_end(self._raw))
            self._country = _DOMAIN_CODECS.get(domain.group(1).lower().decode("ascii"), ()) if domain else ()
        return self._country

    def overall(self) -> str | None:
        """The codec the message's non-UTF-8 8-bit text points to as a whole, if it is long enough to tell."""
        if not self._overall_known:
            self._overall_known = True
            runs = [run for run in _EIGHT_BIT_RUN.findall(self._raw) if not decodes(run, "utf-8")]
            sample = b" ".join(runs)[:_SAMPLE_BYTES]
            self._overall = _best_reading(sample, self.country()) if len(sample) >= _MIN_OVERALL_BYTES else None
        return self._overall


def recover(data: bytes, declared: str | None, charsets: MessageCharsets | None, what: str) -> Decoded:
    """`data` decoded by its label if that reads plausibly, else by the best reading the message supports.

    `what` names the text in the problem line ("header", "filename", "text/plain part").
    """
    first = decode_text(data, declared)
    if data.isascii() or first.problem is None and _trusted(first, len(data)):
        return first
    evidence = charsets or MessageCharsets(b"")
    best = _recovered(data, first, evidence)
    codec, how = best or (first.charset, "")
    if codec == first.charset:
        return Decoded(first.text, first.charset, first.problem and f"{what}: {first.problem}")
    label = f"declared {declared!r}" if declared else "no charset declared"
    # Judged on its start, a reading may still stumble later on: the rest is then decoded leniently.
    return Decoded(data.decode(codec, errors="replace"), codec, f"{what}: 8-bit text read as {codec} ({label}; {how})")


def _trusted(first: Decoded, size: int) -> bool:
    """ASCII, UTF-8, or a clean decode under a label that fails on the wrong bytes.

    UTF-8 rarely validates by accident, but a few legacy double-byte
    characters can ("通知" in GBK is two valid UTF-8 sequences: a Hebrew
    accent and a combining letter with nothing to sit on), so short UTF-8
    must not hold what no UTF-8 writer puts there; Latin tables decode
    anything, so their text must not show runs of accented letters.
    """
    if first.charset == "utf-8":
        return size > _SHORT_UTF8 or not _impossible_text(first.text)
    return first.charset not in _PERMISSIVE or not _LATIN_MOJIBAKE.search(first.text)


def _impossible_text(text: str) -> bool:
    """C1 control characters, or a combining mark with no letter before it."""
    if _C1_CONTROL.search(text):
        return True
    return any(unicodedata.category(char) in ("Mn", "Me") and not (index and text[index - 1].isalpha())
               for index, char in enumerate(text) if not char.isascii())


def _recovered(data: bytes, first: Decoded, evidence: MessageCharsets) -> tuple[str, str] | None:
    """(codec, how it was found): the first plausible reading the message supports, else, when the
    first decode of a short text (a header, a filename, a line) is not plausible or of a long
    one not even decodable, the best-judged legacy reading of its start."""
    for codec in evidence.codecs():
        if _plausible(data, codec):
            return codec, "the charset the message declares"
    overall = evidence.overall()
    if overall and _plausible(data, overall):
        return overall, "the charset of the message's other 8-bit text"
    sample = _judged_part(data)
    country = [(plausibility(text), codec) for codec, text in _readings(sample, evidence.country())]
    score, codec = max(country, key=lambda pair: pair[0], default=(0.0, ""))
    if score >= ACCEPT:
        return codec, "a charset of the sender's country"
    first_text = sample.decode(first.charset, errors="replace")
    if len(data) > _JUDGED_ALL_BYTES and "\ufffd" not in first_text:
        return None  # a long text's statistical guess stands unless it could not even decode
    first_score = plausibility(first_text)
    if first_score >= ACCEPT:
        return None
    judged = [(plausibility(text), codec) for codec, text in _readings(_judged_part(sample, _JUDGED_ALL_BYTES))]
    score, codec = max(judged, key=lambda pair: pair[0], default=(0.0, ""))  # the first of equals: _LEGACY order
    # A clean decode under the sender's own label ("äöüÄÖÜß" in Latin-1) gives way only to plausible text.
    needed = ACCEPT if first.problem is None else first_score
    return (codec, "judged the most plausible reading") if score > needed else None


def _best_reading(sample: bytes, preferred: tuple[str, ...]) -> str | None:
    """The most plausible legacy reading of a sample, close calls going to the statistical guess and
    the `preferred` codecs (the country's), then to the more common charset.

    The statistics need more text than a message's few raw headers give;
    the judge knows which ideographs are common in which script, but a
    short text can read equally well in two scripts (GBK and Big5 share
    many byte pairs; cp1250 and cp1252 differ in a few letters).
    """
    guessed = guess_codec(sample)
    # Russian letter statistics tell KOI8-R from cp1251, and Western text is the commonest;
    # other guesses (GB18030 for any East Asian text, cp1256 for any high-heavy bytes) are biased.
    first = (guessed, *preferred) if guessed in _INFORMED_GUESSES else (*preferred, guessed)
    order = {codec: rank for rank, codec in enumerate(dict.fromkeys((*first, *_LEGACY)))}
    readings = dict(_readings(_judged_part(sample)))
    if not readings:
        return guessed
    judged = {codec: plausibility(text) for codec, text in readings.items()}
    best = max(judged.values())
    chosen = min((codec for codec, score in judged.items() if score >= best - _CLOSE_CALL),
                 key=lambda codec: order.get(codec, len(order)))
    western = readings.get("cp1252")
    if chosen in _CENTRAL_EUROPEAN and western is not None and _same_letters(readings[chosen], western):
        return "cp1252"  # no byte is a letter in one table and not the other: Western text is commoner
    return chosen


def _same_letters(one: str, other: str) -> bool:
    """Whether two single-byte readings have letters at the same places (they differ in accents only)."""
    return all(a.isalpha() == b.isalpha() for a, b in zip(one, other))


def _plausible(data: bytes, codec: str) -> bool:
    """Whether all of `data` decodes under `codec` and its start reads as plausible text."""
    return decodes(data, codec) and plausibility(_judged_part(data).decode(codec)) >= ACCEPT


def _readings(data: bytes, codecs: tuple[str, ...] = _LEGACY) -> Iterator[tuple[str, str]]:
    """(codec, text) for every one of `codecs` (by default the legacy ones) that decodes `data` strictly."""
    for codec in codecs:
        try:
            yield codec, data.decode(codec)
        except UnicodeDecodeError:
            continue


def _judged_part(data: bytes, size: int = _JUDGED_BYTES) -> bytes:
    """The start of `data` that is judged: enough text to tell, cut before an ASCII byte."""
    if len(data) <= size:
        return data
    cut = max(data.rfind(b" ", 0, size), data.rfind(b"\n", 0, size))
    return data[:cut if cut > 0 else size]


def _header_end(raw: bytes) -> int:
    """Where the header block of `raw` ends (its length when there is no body)."""
    ends = [found for found in (raw.find(b"\r\n\r\n"), raw.find(b"\n\n")) if found >= 0]
    return min(ends) if ends else len(raw)

