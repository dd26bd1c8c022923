"""Bytes to text for mail: trust the label when it works, guess when it does not.

Mail in the wild carries wrong, missing or invented charset labels: Chinese
mail says gb2312 but uses GB18030 characters, Russian mail sends raw KOI8-R
or cp1251 without any label, Outlook invents names like "windows-1252-1".
`decode_text` always returns text and says, as a problem line, when it had to
guess, so an operator can see why a message looks odd.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass
from functools import lru_cache

from charset_normalizer import from_bytes

# Labels that mean a wider codec in practice: decoding with the superset is
# always at least as good, since every superset keeps the subset's bytes.
_SUPERSETS = {
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "cp936": "gb18030",
    "x-gbk": "gb18030",
    "euc-cn": "gb18030",
    "ascii": "utf-8",
    "us-ascii": "utf-8",
    "iso-8859-1": "cp1252",
    "latin-1": "cp1252",
    "latin1": "cp1252",
    "ks_c_5601-1987": "cp949",
    "euc-kr": "cp949",
    "shift_jis": "cp932",
    "sjis": "cp932",
    "x-sjis": "cp932",
    "big5": "big5hkscs",
    "iso-8859-8-i": "iso-8859-8",
    "windows-874": "cp874",
    "utf8": "utf-8",
    "unicode-1-1-utf-7": "utf-7",
}

# 7-bit charsets that switch character sets with escape sequences (ESC $ B: JIS X 0208, ESC $ ) C:
# KS X 1001, ESC $ A: GB 2312); iso2022_jp_2 reads the designations of all three.
_ISO_2022 = ("iso2022_jp_2", "iso2022_jp_ext", "iso2022_kr")
_ISO_2022_ESCAPE = re.compile(rb"\x1b(?:\$[@AB]|\$\([CD]|\$\)C|\([BIJ]|\.[AF])")
# Decoders a guess may end on, most common in our users' mail first.
_FALLBACKS = ("gb18030", "cp1251", "cp1252")

_MAX_GUESS_BYTES = 64 * 1024
_CACHED_LABEL_LIMIT = 64
_MIN_STATISTICAL_BYTES = 24
_RUSSIAN_COMMON = frozenset("оеаинтсрвлкмдпуя")  # about 80% of the letters of Russian text
_RUSSIAN_THRESHOLD = 0.7
_LIKELY = ("utf_8", "cp1251", "koi8_r", "cp1256", "cp1252", "cp1250", "iso8859_2", "iso8859_15", "gb18030",
           "big5", "cp932", "euc_jp", "cp949", "cp1253", "cp1255", "cp1254", "cp1257", "cp874", "cp866",
           "mac_cyrillic", "iso8859_5", "iso8859_7")
_EAST_ASIAN_LOOKALIKES = ("cp949", "cp932", "big5", "big5hkscs", "euc_jis_2004", "euc_jp", "johab")


@dataclass(frozen=True)
class Decoded:
    """Decoded text, the codec that produced it, and a problem line if any."""

    text: str
    charset: str
    problem: str | None = None


def codec_for(label: str | None) -> str | None:
    """The Python codec name for a MIME charset label, or None if unknown.

    Remembered per label: a mailbox sees a few labels over and over, and the
    codec registry is searched up to four times for each.
    """
    if not label:
        return None
    if len(label) > _CACHED_LABEL_LIMIT:  # no real label is this long; not worth keeping
        return _codec_named(label)
    return _cached_codec_named(label)


def _codec_named(label: str) -> str | None:
    name = label.strip().strip("\"'").lower()
    for candidate in _label_variants(name):
        try:
            return codecs.lookup(_SUPERSETS.get(candidate, candidate)).name
        except (LookupError, ValueError):
            continue
    return None


_cached_codec_named = lru_cache(maxsize=256)(_codec_named)


def _label_variants(name: str) -> list[str]:
    """Spellings to try for an invented label ("x-cp-1251", "windows-1252-1")."""
    bare = name[2:] if name.startswith("x-") else name
    variants = [name, bare, bare.replace("cp-", "cp").replace("windows-", "cp")]
    head, _, tail = bare.rpartition("-")
    if head and tail.isdigit() and "-" in head:
        variants.append(head)
    return variants


def decode_text(data: bytes, label: str | None = None) -> Decoded:
    """Decode `data` as text; never raises.

    Order: pure ASCII; the labelled codec (widened to its superset); UTF-8;
    then a guess.  Anything but a clean decode under the label is reported.
    """
    if not data:
        return Decoded("", codec_for(label) or "ascii")
    codec = codec_for(label)
    if data.isascii() and b"\x1b" not in data and (codec is None or _ascii_compatible(codec)):
        # 7-bit data reads the same under every ASCII-compatible label
        # (ISO-2022 is 7-bit too, but announces itself with ESC).
        return Decoded(data.decode("ascii"), codec or "ascii")
    if data.isascii() and not (codec or "").startswith("iso2022") and _ISO_2022_ESCAPE.search(data):
        iso_2022 = next((candidate for candidate in _ISO_2022 if decodes(data, candidate)), None)
        if iso_2022 is not None:  # old Japanese and Korean mailers wrote headers so, unlabelled
            said = f"charset {label!r} declared" if label else "no charset declared"
            return Decoded(data.decode(iso_2022), iso_2022, f"{said} but the text is ISO-2022; read as {iso_2022}")
    if codec is not None and codec != "utf-8" and not data.isascii() and _ascii_compatible(codec) \
            and decodes(data, "utf-8"):
        # Valid multi-byte UTF-8 almost never happens by accident in legacy text.
        return Decoded(data.decode("utf-8"), "utf-8", f"charset {label!r} declared but the text is UTF-8")
    if codec is not None:
        try:
            return Decoded(data.decode(codec), codec)
        except (UnicodeDecodeError, LookupError, ValueError):
            pass
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    else:
        problem = None if label is None else f"charset {label!r} did not decode; UTF-8 used"
        return Decoded(text, "utf-8", problem)
    guessed = guess_codec(data)
    text = data.decode(guessed, errors="replace")
    if label is None:
        problem = f"no charset declared for 8-bit text; guessed {guessed}"
    elif codec is None:
        problem = f"unknown charset {label!r}; guessed {guessed}"
    else:
        problem = f"charset {label!r} did not decode; guessed {guessed}"
    return Decoded(text, guessed, problem)


def guess_codec(data: bytes) -> str:
    """Best codec for 8-bit `data` of unknown charset (never raises)."""
    sample = data[:_MAX_GUESS_BYTES]
    by_script = _script_codec(sample)
    if by_script:
        return by_script
    codec = _statistical_guess(sample)
    if codec and (b"\x00" in sample or not codec.startswith(("utf-16", "utf-32"))):
        if codec in _EAST_ASIAN_LOOKALIKES and decodes(sample, "gb18030"):
            # Short Chinese runs look Korean/Japanese to statistics; GB18030 is
            # by far the most frequent East Asian legacy charset in our mail.
            return "gb18030"
        return codec
    for fallback in _FALLBACKS:
        if decodes(sample, fallback):
            return fallback
    return "cp1252"


def _statistical_guess(sample: bytes) -> str | None:
    """charset-normalizer's verdict, when there is enough 8-bit text for statistics.

    Limited to the codecs mail really uses: that is both faster and less
    likely to pick an exotic code page for a few stray bytes.
    """
    if sum(1 for byte in sample[:4096] if byte >= 0x80) < _MIN_STATISTICAL_BYTES:
        return None
    try:
        best = from_bytes(sample[:8192], steps=4, chunk_size=256, cp_isolation=list(_LIKELY)).best()
    except Exception:  # the guesser is a heuristic; a failure just means "no guess"
        return None
    return codec_for(best.encoding) if best is not None else None


def _script_codec(sample: bytes) -> str | None:
    """koi8-r, cp1251 or cp1256 when the 8-bit bytes are clearly one of them.

    All three put letters in 0xC0-0xFF, and statistics libraries need far
    more text than a subject line to tell them apart.  Russian decoded with
    the right table is made mostly of its most frequent letters; with the
    wrong one the letters are a random mix.  Arabic in cp1256 spreads over
    both halves of the range (alef low, lam/meem/noon/yeh high), which
    Russian in either table does not.
    """
    high = [b for b in sample if b >= 0x80]
    if high and _isolated_share(sample) >= 0.8:
        # Accented letters between ASCII ones: Western European text.
        return "cp1252"
    letters = [b for b in high if b >= 0xC0]
    if len(letters) < 2 or len(letters) < 0.8 * len(high):
        return None
    upper_share = sum(1 for b in letters if b >= 0xE0) / len(letters)
    koi8 = _russian_score(sample.decode("koi8_r", errors="replace"))
    cp1251 = _russian_score(sample.decode("cp1251", errors="replace"))
    if max(koi8, cp1251) >= _RUSSIAN_THRESHOLD:
        if abs(koi8 - cp1251) < 0.15:
            # Too short to tell by letters: running text is mostly lower-case,
            # which cp1251 keeps above 0xE0 and KOI8-R below.
            return "cp1251" if upper_share > 0.5 else "koi8_r"
        return "koi8_r" if koi8 > cp1251 else "cp1251"
    if len(letters) >= 8 and 0.2 <= upper_share <= 0.6 and decodes(sample, "cp1256"):
        return "cp1256"
    return None


def _russian_score(text: str) -> float:
    """Share of Cyrillic letters that are among Russian's most frequent ones."""
    letters = [c for c in text.lower() if "а" <= c <= "я" or c == "ё"]
    return sum(c in _RUSSIAN_COMMON for c in letters) / len(letters) if letters else 0.0


def _isolated_share(sample: bytes) -> float:
    """Share of 8-bit bytes whose neighbours are both ASCII."""
    high = isolated = 0
    last = len(sample) - 1
    for index, byte in enumerate(sample):
        if byte < 0x80:
            continue
        high += 1
        before = sample[index - 1] if index else 0
        after = sample[index + 1] if index < last else 0
        isolated += before < 0x80 and after < 0x80
    return isolated / high if high else 0.0


def decodes(data: bytes, codec: str) -> bool:
    """True when `data` decodes strictly under `codec`."""
    try:
        data.decode(codec)
    except (UnicodeDecodeError, LookupError):
        return False
    return True


@lru_cache(maxsize=None)  # one entry per codec name, and codec names are few
def _ascii_compatible(codec: str) -> bool:
    """True for codecs where ASCII bytes mean ASCII characters."""
    try:
        return b"Az09 <>=?+-".decode(codec) == "Az09 <>=?+-"
    except (UnicodeDecodeError, LookupError, ValueError):
        return False
