"""Quoted history in HTML mail, found by the markup each client writes.

Clients mark the quoted part of an HTML reply far more reliably than its
plain-text rendering shows, so quotes are cut at these markers before the
HTML is turned into text.  Outlook Web renames ids with an `x_` prefix when
it re-quotes a message, hence the prefix-tolerant id matching.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bs4 import BeautifulSoup, Tag

from parsers.html_text import parse_html

_QUOTE_CLASSES = re.compile(
    r"^(?:x_)*(?:gmail_quote|gmail_extra|gmail_attr|yahoo_quoted|ydp[0-9a-f]+yahoo_quoted|moz-cite-prefix|"
    r"protonmail_quote|zmail_extra|AppleOriginalContents|OutlookMessageHeader|tutanota_quote)$",
    re.IGNORECASE,
)
_QUOTE_IDS = re.compile(
    r"^(?:x_)*(?:divRplyFwdMsg|appendonsend|OLK_SRC_BODY_SECTION|yahoo_quoted_\d+|isForwardContent|"
    r"mail-editor-reference-message-container|zwchr)$",
    re.IGNORECASE,
)
_SIGNATURE_CLASSES = re.compile(r"^(?:x_)*(?:gmail_signature|moz-signature|signature|yahoo-signature)$", re.IGNORECASE)
_SIGNATURE_IDS = re.compile(r"^(?:x_)*(?:Signature|signature|ms-outlook-mobile-signature|AppleMailSignature)$")
_SEPARATOR_STYLE = re.compile(r"border-top\s*:\s*(?:solid|[0-9.]+(?:pt|px)\s+solid)", re.IGNORECASE)


@dataclass(frozen=True)
class HtmlSplit:
    """The HTML without history and signature, and each removed part as HTML."""

    kept: str
    quote: str
    signature: str


def split_html_quote(html: str) -> HtmlSplit:
    """Cut the quoted history (and a client-marked signature) out of `html`; never raises."""
    soup = parse_html(html)
    signature = _extract_signature(soup)
    start = _first_marker(soup)
    if start is None and not signature:
        return HtmlSplit(html, "", "")
    removed = _cut_from(start) if start is not None else []
    return HtmlSplit(str(soup), "".join(str(node) for node in removed), signature)


def _extract_signature(soup: BeautifulSoup) -> str:
    """Detach the first signature block a client marked as such, outside quotes."""
    for tag in soup.find_all(True):
        classes = tag.get("class") or []
        ident = tag.get("id")
        if any(_SIGNATURE_CLASSES.match(name) for name in classes) or (
            isinstance(ident, str) and _SIGNATURE_IDS.match(ident)
        ):
            if any(_is_marker(parent) for parent in tag.parents if isinstance(parent, Tag)):
                continue
            return str(tag.extract())
    return ""


def _first_marker(soup: BeautifulSoup) -> Tag | None:
    """The first element in document order that opens the quoted history."""
    for tag in soup.find_all(True):
        if _is_marker(tag):
            return tag
    return None


def _is_marker(tag: Tag) -> bool:
    classes = tag.get("class") or []
    if any(_QUOTE_CLASSES.match(name) for name in classes):
        return True
    ident = tag.get("id")
    if isinstance(ident, str) and _QUOTE_IDS.match(ident):
        return True
    if tag.name == "blockquote" and str(tag.get("type", "")).lower() == "cite":
        return True
    if tag.get("data-marker") in ("__QUOTED_TEXT__", "__HEADERS__"):  # Zimbra's web client
        return True
    if tag.name == "hr" and (tag.get("id") or "").lower().startswith(("stopspelling", "x_stopspelling")):
        return True
    style = tag.get("style")
    if tag.name in ("div", "hr") and isinstance(style, str) and _SEPARATOR_STYLE.search(style):
        return _looks_like_reply_separator(tag)
    return False


def _looks_like_reply_separator(tag: Tag) -> bool:
    """An Outlook `border-top` div/hr only counts when a header block follows it."""
    text = tag.get_text(" ", strip=True)[:300] if tag.name == "div" else ""
    following = "".join(s for s in tag.find_all_next(string=True, limit=12))[:400]
    probe = text or following
    return bool(re.search(r"(?:^|\s)[^\s:]{1,20}\s?:\s", probe))


def _cut_from(start: Tag) -> list[Tag]:
    """Detach `start` and everything after it in document order."""
    removed: list = []
    node = start
    while node is not None and node.name not in ("body", "html", "[document]"):
        sibling = node.next_sibling
        while sibling is not None:
            following = sibling.next_sibling
            removed.append(sibling.extract())
            sibling = following
        node = node.parent
    removed.insert(0, start.extract())
    return removed
