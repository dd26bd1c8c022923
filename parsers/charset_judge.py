"""How plausible a decoded text is as something a person wrote: the judge of charset recovery.

A wrong charset rarely fails to decode: cp1251 bytes read as Latin-1 give
runs of accented capitals, KOI8-R read as cp1251 flips letter case, GBK
read as Shift_JIS gives half-width katakana, Big5 read as GBK gives rare
ideographs and stray kana, Chinese read as EUC-KR gives Hanja among
Hangul.  charset-normalizer measures the mess of alphabetic text
(`mess_ratio`) and knows each language's most frequent characters; East
Asian text is judged by whether its characters are among the commonly used
ones of the script the rest of the text is in (the first levels of GB2312,
Big5, JIS X 0208 and KS X 1001, which list them); `_word_mess` finds what
misreads leave inside words.  A short text can still read well in two
charsets: recovery settles those close calls with the message's evidence.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from functools import lru_cache

from charset_normalizer.constant import FREQUENCIES
from charset_normalizer.md import mess_ratio

# Plausible enough to take without comparing other readings.
ACCEPT = 0.75
_SAMPLE_CHARS = 4096
_MIN_MESS_CHARS = 32
_FREQUENT = frozenset(char for letters in FREQUENCIES.values() for char in letters if not char.isascii())
_FREQUENT_BONUS = 0.15
# The non-ASCII punctuation and symbols people do type: quotes, dashes, currency, bullets.
_COMMON_MARKS = frozenset("«»„“”‘’‚‹›–—…€£¥№•°©®™§¡¿†‰")
_RARE_CYRILLIC = frozenset("ЂЃЉЊЌЋЏђѓљњќћџЈјЅѕЎў")
_HANGUL = ("\uac00", "\ud7a3")
_JAMO = ("\u3131", "\u318e")
_KANA = ("\u3041", "\u30ff")
_HALFWIDTH_KANA = ("\uff61", "\uff9f")
_CJK_PUNCTUATION = ("\u3000", "\u303f")
_FULLWIDTH = ("\uff01", "\uff5e")


def plausibility(text: str) -> float:
    """About 1.0 for text a person wrote, far less for a misread; 1.0 for ASCII.

    Scores each non-ASCII character by what it is (see module doc), adds a
    bonus for the languages' most frequent characters and subtracts
    charset-normalizer's mess ratio.
    """
    sample = text[:_SAMPLE_CHARS]
    if sample.isascii():
        return 1.0
    others = [char for char in sample if not char.isascii() and not char.isspace()]
    if not others:
        return 1.0
    hangul = any(_HANGUL[0] <= char <= _HANGUL[1] or _JAMO[0] <= char <= _JAMO[1] for char in others)
    kana = any(_KANA[0] <= char <= _KANA[1] for char in others)
    score = sum(_char_score(char, hangul, kana) for char in others) / len(others)
    # Not for Latin letters: which accents a language's list holds says nothing about the table.
    frequent = sum(char >= "\u0370" and char.lower() in _FREQUENT for char in others) / len(others)
    # charset-normalizer's mess detector is made for alphabets (it finds traditional Chinese
    # "suspicious") and is noise on a few words: East Asian text is judged by the character
    # scores above, short text by those and _word_mess.
    east_asian = sum(char >= "\u3000" for char in others) > len(others) / 2
    mess = 0.0 if east_asian or len(sample) < _MIN_MESS_CHARS else mess_ratio(sample)
    # Word mess counts per ten characters: a short name gets the full weight, a long body its rate.
    return score + _FREQUENT_BONUS * frequent - mess - _word_mess(sample) / max(1.0, len(others) / 10)


@lru_cache(maxsize=16384)
def _char_score(char: str, hangul: bool, kana: bool) -> float:
    """One character's plausibility, given the scripts the whole text shows."""
    if _HANGUL[0] <= char <= _HANGUL[1]:
        return _hangul_score(char)
    if _JAMO[0] <= char <= _JAMO[1]:
        return 0.3  # loose jamo: KS X 1001 has them, Korean text hardly uses them
    if _KANA[0] <= char <= _KANA[1] or _CJK_PUNCTUATION[0] <= char <= _CJK_PUNCTUATION[1]:
        return 1.0 if not hangul else 0.3
    if _HALFWIDTH_KANA[0] <= char <= _HALFWIDTH_KANA[1]:
        return 0.0  # a relic of 1980s terminals; in mail it means Chinese bytes read as Shift_JIS
    if _FULLWIDTH[0] <= char <= _FULLWIDTH[1]:
        return 0.9
    if _is_ideograph(char):
        if hangul:
            return 0.2  # modern Korean rarely mixes Hanja into Hangul text
        if kana:
            return 1.0 if _in_level_one(char, "shift_jis") else 0.3
        return 0.95 if _in_level_one(char, "gb2312") or _in_level_one(char, "big5") else 0.3
    if char in _RARE_CYRILLIC:
        return 0.5  # Serbian and Macedonian letters: what KOI8-R lower case becomes in cp1251
    category = unicodedata.category(char)
    if category in ("No", "Mn") and not "\u0600" <= char <= "\u06ff":
        return 0.3  # superscripts, fractions, stray combining marks: table noise, not words
    if category[0] in "LMN":
        return 1.0
    if category in ("Cc", "Cn", "Co", "Cs") or char == "\ufffd":
        return 0.0
    if char in _COMMON_MARKS or (char >= "\u2000" and not "\u2500" <= char <= "\u259f"):
        return 0.8  # quotes, dashes, currency; arrows, emoji: what people type
    return 0.1  # ¦ ¤ ± ² ¼ ÷ ˘, box drawing: what double-byte text becomes in a single-byte table


def _is_ideograph(char: str) -> bool:
    return "\u4e00" <= char <= "\u9fff" or "\u3400" <= char <= "\u4dbf" or "\uf900" <= char <= "\ufaff"


# The lead-byte range of each standard's level of common characters: GB2312
# level 1 (3,755 hanzi), Big5 level 1 (5,401), JIS X 0208 level 1 in
# Shift_JIS (2,965 kanji), KS X 1001's 2,350 hangul syllables.
_LEVEL_ONE = {"gb2312": (0xB0, 0xD7), "big5": (0xA4, 0xC6), "shift_jis": (0x88, 0x98), "euc_kr": (0xB0, 0xC8)}


@lru_cache(maxsize=8192)
def _in_level_one(char: str, codec: str) -> bool:
    """Whether the standard behind `codec` counts `char` among its commonly used characters."""
    try:
        encoded = char.encode(codec)
    except UnicodeEncodeError:
        return False
    low, high = _LEVEL_ONE[codec]
    return len(encoded) == 2 and low <= encoded[0] <= high


# Hangul syllable = (initial * 21 + vowel) * 28 + final.  Korean text rarely
# uses these vowels (ㅒ ㅞ), double finals or the tense ㅃ ㅉ initials;
# Chinese or Japanese bytes read as EUC-KR land on them all the time.
_RARE_VOWELS = frozenset((3, 15))
_RARE_FINALS = frozenset((3, 5, 6, 9, 10, 11, 12, 13, 14, 15, 18))
_RARE_INITIALS = frozenset((8, 13))


def _hangul_score(char: str) -> float:
    if not _in_level_one(char, "euc_kr"):
        return 0.3  # outside KS X 1001's 2,350: written by Unicode-era software, never by a legacy charset
    index = ord(char) - 0xAC00
    initial, vowel, final = index // 588, index % 588 // 28, index % 28
    if vowel in _RARE_VOWELS or final in _RARE_FINALS or initial in _RARE_INITIALS:
        return 0.4
    return 0.95


def _class_of(test: Callable[[str], bool], first: int, last: int) -> str:
    """A regex character class of the characters in [first, last] that pass `test`."""
    return "".join(re.escape(chr(code)) for code in range(first, last + 1) if test(chr(code)))


# Character classes for the checks of _word_mess, built once from the Unicode database:
# letters of the alphabets misreads mix, their non-ASCII capitals and small letters, and the
# non-ASCII symbols and punctuation of the range the legacy tables map to.
_ALPHABET_RANGES = {"latin": (0x41, 0x24F), "greek": (0x370, 0x3FF), "cyrillic": (0x400, 0x52F),
                    "hebrew": (0x5D0, 0x5EA), "arabic": (0x620, 0x6D3)}
_LETTERS = {name: _class_of(str.isalpha, *span) for name, span in _ALPHABET_RANGES.items()}
_ALL_LETTERS = "".join(_LETTERS.values())
_EAST_ASIAN = "\u3041-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7a3\uf900-\ufaff"
_UPPER = _class_of(str.isupper, 0x80, 0x52F)
_LOWER = _class_of(str.islower, 0x80, 0x52F)
_MARKS = _class_of(lambda char: unicodedata.category(char)[0] in "SP", 0x80, 0x2FFF)
_SYMBOLS = _class_of(lambda char: unicodedata.category(char)[0] == "S", 0x80, 0x2FFF)
_NON_ASCII_LETTERS = _class_of(str.isalpha, 0x80, 0x6FF) + _EAST_ASIAN
_MIXED_ALPHABETS = re.compile("|".join(
    f"(?=[{letters}][{''.join(other for name_, other in _LETTERS.items() if name_ != name)}])"
    for name, letters in _LETTERS.items()))
_MESS = {
    # A lone East Asian character inside a Latin word ("Ü" + "b" read as one GBK character).
    re.compile(f"(?<=[A-Za-z])[{_EAST_ASIAN}](?=[A-Za-z])"): 0.5,
    # Three accented Latin letters in a row ("Èâàí").
    re.compile(f"[{_class_of(str.isalpha, 0xC0, 0x24F)}]{{3,}}"): 0.3,
    # A symbol or punctuation between letters, or a symbol next to a non-ASCII letter ("»ъ»µ", "ХЕО°").
    re.compile(f"(?<=[{_ALL_LETTERS}])[{_MARKS}](?=[{_ALL_LETTERS}])|(?<=[{_NON_ASCII_LETTERS}])[{_SYMBOLS}]"
               f"|[{_SYMBOLS}](?=[{_NON_ASCII_LETTERS}])"): 0.3,
    # A capital after a small letter where either is not ASCII ("Josй" read as KOI8-R).
    re.compile(f"(?=[{_LOWER}][A-Z{_UPPER}]|[a-z{_LOWER}][{_UPPER}])"): 0.5,
    # Small letters after a run of capitals ("ОКМв").
    re.compile(f"[{_UPPER}]{{2,}}[{_LOWER}]"): 0.3,
    # A word of non-ASCII capitals: KOI8-R's small letters are cp1251's capitals.
    re.compile(f"[{_UPPER}]{{4,}}"): 0.15,
}


def _word_mess(text: str) -> float:
    """Penalty for what a misread leaves inside words and no writer does (see `_MESS`), and for
    letters of two alphabets side by side ("Josй")."""
    penalty = 0.5 * len(_MIXED_ALPHABETS.findall(text))
    for pattern, weight in _MESS.items():
        penalty += weight * len(pattern.findall(text))
    return penalty
