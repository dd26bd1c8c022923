"""Request Tracker's mail-gateway fixtures: what a gateway parser must deliver.

Checked: the decoded subject, decoded body content (regex/substring, over the
new text and what reply splitting elided, since RT stores the whole body),
attachment filenames (RFC 2231, attached mail named from its Subject), an
HTML-only body, the uuencoded Lotus Notes attachment, the sender of the
umlaut mail, and that every mail without expectations parses.

Skipped, with reason:
- `rt_entity_count` and `entities` order: RT stores every MIME entity,
  multipart containers included; that is RT's storage layout, not something
  a gateway exposes (the user-visible attachments are checked instead).
- `top_entity_content_type` other than text/html: same storage detail.
- `header_must_be_removed` (RT-Send-Cc): an RT control header; relaydesk acts
  on no inbound header of that kind.
- the 200-character subject truncation: RT's database limit; we keep the full
  subject and check that its first 200 characters match.
- `lorem-ipsum`: not a mail.
The reply libraries do not parse MIME, so they get None everywhere.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

from bench.corpora.base import LIBRARIES, CaseResult
from parsers import ParsedMessage, parse_message

NAME = "rt"

Check = Callable[[ParsedMessage], str | None]


def run(corpus_dir: Path) -> list[CaseResult]:
    expected = json.loads((corpus_dir / "expected.json").read_text(encoding="utf-8"))
    return [judge_mail(name, (corpus_dir / "emails" / name).read_bytes(), _checks(facts))
            for name, facts in sorted(expected.items()) if name not in ("_meta", "lorem-ipsum")]


def judge_mail(case: str, raw: bytes, checks: list[Check]) -> CaseResult:
    """Parse one raw mail and run the checks; libraries get None (they do not parse MIME)."""
    parsed = parse_message(raw)
    notes = [note for check in [parsed_without_failure, *checks] if (note := check(parsed))]
    return CaseResult(case, not notes, {lib: None for lib in LIBRARIES}, "; ".join(notes))


def _checks(facts: dict) -> list[Check]:
    checks: list[Check] = []
    if "ticket_subject" in facts:
        checks.append(_subject(facts["ticket_subject"]))
    for entity in facts.get("entities", []):
        if "subject" in entity:
            checks.append(_subject(entity["subject"]))
        if "attachment_filename" in entity:
            checks.append(_filename(entity["attachment_filename"]))
    if "content_matches" in facts:
        checks.append(_content(lambda body, p=facts["content_matches"]: re.search(p, body) is not None, facts["content_matches"]))
    extra = facts.get("also_from_t/api/attachment.t", {})
    for word in (facts.get("content_contains"), extra.get("text_content_contains")):
        if word:
            checks.append(_content(lambda body, w=word: w in body, word))
    if "headers_contain" in extra:
        checks.append(_sender_matches(extra["headers_contain"]))
    if "attachment_filename" in facts:
        checks.append(_filename(facts["attachment_filename"]))
    if "message_rfc822_attachment_filename" in facts:
        checks.append(_filename(facts["message_rfc822_attachment_filename"], "message/rfc822"))
    if facts.get("top_entity_content_type") == "text/html":
        checks.append(lambda p: None if p.html and p.text else "HTML-only body not turned into text")
    if "uuencoded" in facts.get("note", ""):
        checks.append(lambda p: None if p.attachments else "uuencoded attachment not split out")
    return checks


def parsed_without_failure(parsed: ParsedMessage) -> str | None:
    """A note when the parser had to give up on the mail."""
    failures = [p for p in parsed.problems if p.startswith("parser failure")]
    return failures[0] if failures else None


def _subject(wanted: str) -> Check:
    def check(parsed: ParsedMessage) -> str | None:
        got = parsed.subject[:200] if len(wanted) == 200 else parsed.subject
        return None if got == wanted else f"subject {parsed.subject[:80]!r} != {wanted[:80]!r}"

    return check


def _content(test: Callable[[str], bool], label: str) -> Check:
    def check(parsed: ParsedMessage) -> str | None:
        body = "\n".join(part for part in (parsed.text, parsed.elided, parsed.signature or "") if part)
        return None if test(body) else f"content lacks {label!r}"

    return check


def _filename(wanted: str, content_type: str | None = None) -> Check:
    def check(parsed: ParsedMessage) -> str | None:
        names = [a.filename for a in parsed.attachments if content_type is None or a.content_type == content_type]
        return None if wanted in names else f"no attachment named {wanted!r} (got {names})"

    return check


def _sender_matches(header: str) -> Check:
    name, _, address = header.rpartition("<")
    name, address = name.strip().strip('"'), address.rstrip(">").lower()

    def check(parsed: ParsedMessage) -> str | None:
        sender = parsed.sender
        if sender and sender.name == name and sender.email == address:
            return None
        return f"sender {sender} != {name!r} <{address}>"

    return check
