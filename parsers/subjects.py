"""The base subject of a mail: without reply/forward prefixes and list tags.

Used to group messages of one conversation when References are missing
(importing old mailboxes, JWZ step 5) and wherever two subjects must be
compared "as the same topic".  Prefixes come in many languages and shapes:
"Re:", "RE[3]:", "AW:", "Sv:", "Ответ:", "回复：", "Fwd:", "WG:", "TR:" …
"""

from __future__ import annotations

import re

# Reply and forward prefixes seen in mail clients' own languages.
_PREFIX_WORDS = (
    "re", "aw", "sv", "vs", "antw", "antwort", "odp", "ynt", "res", "ref", "rif", "r", "ris", "atb", "bls", "vá",
    "ответ", "отв", "رد", "回复", "回覆", "答复", "返信", "trả lời",
    "fwd", "fw", "wg", "tr", "rv", "doorst", "pd", "enc", "i", "vl", "fs", "vb", "továbbítás", "İlt", "ilt",
    "пересл", "пересылка", "转发", "轉寄", "إعادة توجيه", "πρθ", "σχετ",
)
_PREFIX = re.compile(
    r"^\s*(?:" + "|".join(sorted(_PREFIX_WORDS, key=len, reverse=True)) + r")"
    r"\s*(?:\[(\d{1,4})\]|\((\d{1,4})\)|\^(\d{1,4}))?\s*[:：]\s*",
    re.IGNORECASE,
)
# A list or ticket tag: "[Mailing-List]", "[rt-users]", "[VND-1042]".
_TAG = re.compile(r"^\s*\[[^\]\[\s:]{1,64}\]\s*")
_TRAILER = re.compile(r"\s*\((?:fwd|fw)\)\s*$", re.IGNORECASE)
_SPACES = re.compile(r"\s+")


def base_subject(subject: str) -> tuple[str, int]:
    """The subject without prefixes and tags, and how many reply levels were stripped.

    "Re: Re[4]: x" is depth 5 ("Re[N]:" counts N); forward prefixes count
    one level each, since a forward is also a step away from the original.
    """
    text = subject or ""
    depth = 0
    while True:
        trailer = _TRAILER.search(text)
        if trailer:
            text = text[: trailer.start()]
            depth += 1
            continue
        tag = _TAG.match(text)
        if tag:
            text = text[tag.end():]
            continue
        prefix = _PREFIX.match(text)
        if prefix and prefix.end() < len(text.rstrip()):
            count = next((int(group) for group in prefix.groups() if group), 1)
            depth += count
            text = text[prefix.end():]
            continue
        break
    return _SPACES.sub(" ", text).strip(), depth
