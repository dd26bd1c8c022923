"""HTML mail bodies to readable plain text.

Mail HTML is converted block by block so that a ticket shows the same
paragraphs, lists, links and quotes the sender saw; scripts, styles and the
document head never reach the text.
"""

from __future__ import annotations

import re
import warnings

from bs4 import BeautifulSoup, XMLParsedAsHTMLWarning, Comment, Declaration, Doctype, NavigableString, ProcessingInstruction, Tag

_DROP = {"script", "style", "head", "title", "meta", "link", "noscript", "template", "xml", "o:p"}
_BLOCK = {
    "p", "div", "section", "article", "header", "footer", "main", "aside", "nav",
    "h1", "h2", "h3", "h4", "h5", "h6", "table", "tr", "form", "fieldset",
    "address", "center", "pre", "dl", "dt", "dd", "figure", "figcaption",
}
_PARAGRAPHS = {"p", "h1", "h2", "h3", "h4", "h5", "h6", "pre", "table"}
_MAX_DEPTH = 200
# Markup bs4 keeps as strings that are not text a person wrote (<!DOCTYPE …>, <?xml …?>, comments).
_NOT_TEXT = (Comment, Declaration, Doctype, ProcessingInstruction)
# Spaces inside <pre> survive line trimming under this private-use stand-in.
_PRE_SPACE = "\ue000"
_SPACES = re.compile(r"[ \t\r\f\v\u00a0]+")
_BLANK_RUNS = re.compile(r"\n{3,}")


def html_to_text(html: str) -> str:
    """Render `html` as plain text; never raises on broken markup."""
    if not html or not html.strip():
        return ""
    soup = parse_html(html)
    out: list[str] = []
    _render(soup, out, pre=False, depth=0)
    return _tidy("".join(out)).replace(_PRE_SPACE, " ")


def parse_html(html: str) -> BeautifulSoup:
    """Parse mail HTML leniently; XHTML and Word markup are still read as HTML."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", XMLParsedAsHTMLWarning)
        try:
            return BeautifulSoup(html, "lxml")
        except Exception:  # lxml refuses some inputs outright; fall back, keep text
            return BeautifulSoup(html, "html.parser")


def _render(node: Tag, out: list[str], pre: bool, depth: int) -> None:
    """Append the text of `node`'s children to `out`, inserting block breaks.

    Below `_MAX_DEPTH` nested elements the rest is rendered flat: hostile
    markup nests thousands deep, and the text matters more than its layout.
    """
    if depth > _MAX_DEPTH:
        out.append(_SPACES.sub(" ", node.get_text(" ").replace("\n", " ")))
        return
    for child in node.children:
        if isinstance(child, _NOT_TEXT):
            continue
        if isinstance(child, NavigableString):
            text = str(child)
            out.append(text.replace(" ", _PRE_SPACE) if pre else _SPACES.sub(" ", text.replace("\n", " ")))
            continue
        if not isinstance(child, Tag):
            continue
        _render_tag(child, out, pre, depth + 1)


def _render_tag(tag: Tag, out: list[str], pre: bool, depth: int) -> None:
    """Render one element according to its role in the document."""
    name = (tag.name or "").lower()
    if name in _DROP:
        return
    if name == "br":
        out.append("\n")
    elif name == "hr":
        out.append("\n\n")
    elif name in ("ul", "ol"):
        _render_list(tag, out, ordered=name == "ol", pre=pre, depth=depth)
    elif name == "blockquote":
        inner: list[str] = []
        _render(tag, inner, pre, depth)
        quoted = _tidy("".join(inner))
        out.append("\n\n" + "\n".join("> " + line if line else ">" for line in quoted.split("\n")) + "\n\n")
    elif name == "a":
        inner = []
        _render(tag, inner, pre, depth)
        label = "".join(inner)
        href = (tag.get("href") or "").strip() if isinstance(tag.get("href"), str) else ""
        out.append(_link(label, href))
    elif name in ("td", "th"):
        _render(tag, out, pre, depth)
        out.append(" ")
    elif name == "img":
        alt = tag.get("alt")
        if isinstance(alt, str) and alt.strip():
            out.append(alt.strip())
    elif name in _BLOCK:
        gap = "\n\n" if name in _PARAGRAPHS and not _is_outlook_line(tag) else "\n"
        _break(out, gap)
        _render(tag, out, pre or name == "pre", depth)
        _break(out, gap)
    else:
        _render(tag, out, pre, depth)


def _is_outlook_line(tag: Tag) -> bool:
    """Word/Outlook writes every line as a margin-less `<p class="MsoNormal">`."""
    return any(name.lower() == "msonormal" for name in tag.get("class") or [])


def _break(out: list[str], gap: str) -> None:
    """End the current line (or paragraph) once, however many blocks close here."""
    tail = "".join(out[-3:]).rstrip(" ")
    have = len(tail) - len(tail.rstrip("\n"))
    if have < len(gap):
        out.append(gap[have:])


def _render_list(tag: Tag, out: list[str], ordered: bool, pre: bool, depth: int) -> None:
    """Items as `- text` or `1. text`, one per line."""
    out.append("\n")
    number = 0
    for item in tag.find_all("li", recursive=False):
        number += 1
        inner: list[str] = []
        _render(item, inner, pre, depth)
        text = _tidy("".join(inner)).replace("\n", "\n   ")
        out.append(f"{number}. {text}\n" if ordered else f"- {text}\n")
    out.append("\n")


def _link(label: str, href: str) -> str:
    """Keep the link target next to its text unless they say the same thing."""
    label = label.strip()
    if not href or href.startswith(("#", "javascript:", "cid:")):
        return label
    target = href[len("mailto:"):] if href.startswith("mailto:") else href
    if not label:
        return target
    if label.rstrip("/") == target.rstrip("/") or label == href:
        return label
    return f"{label} ({target})"


def _tidy(text: str) -> str:
    """Trim each line, collapse runs of blank lines, strip the ends."""
    lines = [line.strip() for line in text.split("\n")]
    return _BLANK_RUNS.sub("\n\n", "\n".join(lines)).strip()
