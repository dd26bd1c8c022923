"""mailgun/talon fixtures: plain and HTML quotation removal, signatures.

Plain cases ignore trailing spaces at line ends.  talon's quotation tests check the reply with quotes removed and the
signature still in place (signature extraction is a separate step there),
so those cases compare `Split.without_quotes`.  HTML cases: we and talon
get the HTML; the text-only libraries get it converted by our
`html_to_text`, as a gateway would feed them.  Expected HTML outputs are
compared as text (whitespace removed), since we return text, not HTML.
Signature cases compare the signature and the text without it (stripped).
The classifier's training examples (P/) carry no extraction facts and are
not cases.
"""

from __future__ import annotations

import email
import email.policy
import json
import re
from collections.abc import Callable
from pathlib import Path

from bench.corpora.base import LIB_SPLITTERS, CaseResult, Split, safe_check, diff_note, judge_all, ours, talon_html
from parsers.html_text import html_to_text

NAME = "talon"

_SPACE = re.compile(r"\s+")


def run(corpus_dir: Path) -> list[CaseResult]:
    expected = json.loads((corpus_dir / "expected.json").read_text(encoding="utf-8"))
    fixtures = corpus_dir / "fixtures"
    results: list[CaseResult] = []
    for name, facts in sorted(expected.items()):
        kind = facts.get("kind") if isinstance(facts, dict) else None
        if kind == "plain_reply_extraction":
            results.append(_plain_case(fixtures, name, facts))
        elif kind == "html_reply_extraction":
            results.append(_html_case(fixtures, name, facts))
        elif kind == "signature_extraction":
            results.append(_signature_case(fixtures, name, facts))
    return results


def _plain_case(fixtures: Path, name: str, facts: dict) -> CaseResult:
    raw = (fixtures / name).read_bytes()
    if "whole raw file" in facts.get("input", ""):
        body = raw.decode("utf-8", errors="replace")
        rules = facts["expected"]

        def check(split: Split) -> str | None:
            reply = split.without_quotes
            if rules.get("result_non_empty") and not reply.strip():
                return "empty reply"
            if rules.get("result_must_not_contain", "\0") in reply:
                return f"reply contains {rules['result_must_not_contain']!r}"
            return None

        return judge_all(name, body, check)
    body = _first_plain_part(raw)
    wanted = facts["expected_reply_text"].strip()
    return judge_all(name, body, lambda s: diff_note("reply without quotes", _rstrip_lines(wanted), _rstrip_lines(s.without_quotes)))


def _rstrip_lines(text: str) -> str:
    """Trailing spaces on a line are invisible; they are not what is tested."""
    return "\n".join(line.rstrip() for line in text.strip().split("\n"))


def _first_plain_part(raw: bytes) -> str:
    message = email.message_from_bytes(raw, policy=email.policy.default)
    for part in message.walk():
        if part.get_content_type() == "text/plain":
            return part.get_content()
    return ""


def _html_case(fixtures: Path, name: str, facts: dict) -> CaseResult:
    html = (fixtures / name).read_bytes().decode("utf-8", errors="replace")
    if "expected_reply_html" in facts:
        wanted = _squash(html_to_text(facts["expected_reply_html"]))
    else:
        wanted = _squash(facts["expected_reply_text"])

    def check(split: Split) -> str | None:
        return diff_note("reply text (whitespace removed)", wanted, _squash(split.without_quotes))

    note = safe_check(check, lambda: ours("", html))
    plain = html_to_text(html)
    libs: dict[str, bool | None] = {}
    for lib, splitter in LIB_SPLITTERS.items():
        produce: Callable[[], Split] = (
            (lambda: Split(html_to_text(talon_html(html)), "")) if lib == "talon" else (lambda f=splitter: f(plain))
        )
        libs[lib] = safe_check(check, produce) is None
    return CaseResult(name, note is None, libs, note or "")


def _signature_case(fixtures: Path, name: str, facts: dict) -> CaseResult:
    body = (fixtures / name).read_bytes().decode("utf-8", errors="replace")
    signature = facts["expected_signature"].strip()
    rest = facts["expected_text_without_signature"].strip()

    def check(split: Split) -> str | None:
        notes = [
            diff_note("signature", signature, (split.signature or "").strip()),
            diff_note("text without signature", rest, split.text.strip()),
        ]
        return "; ".join(n for n in notes if n) or None

    return judge_all(name, body, check)


def _squash(text: str) -> str:
    return _SPACE.sub("", text)
