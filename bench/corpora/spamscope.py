"""SpamScope mail-parser fixtures: real-world and malformed MIME.

Checked: addresses (display name decoded, address normalised), subject,
Message-ID, Date in UTC, attachment count (parts that are not the main
text/HTML body, inline images included, as mail-parser counts them), the
email-package defect classes the malformed mails trigger (we report each as a
problem line), and for the "must not raise" mails that parsing succeeds with
readable attachment names.

Skipped, with reason:
- `timezone`: we normalise every date to UTC; the sender's offset is not a
  gateway output.
- `headers_exact`, `header_*`, `text_not_managed`: mail-parser's own output
  shapes (header maps as lists, bodies of unnamed non-text parts as text).
- `server_ip_for_trusted_host`, Received-hop notes: Received parsing is not a
  parser job here.
- per-attachment transfer-encoding/charset/binary facts: mail-parser
  internals; we expose decoded bytes, size and sha256 instead.
- `defect_count`: the email package may report a defect more than once.
Addresses are compared as we normalise them (lower-case).  The reply
libraries do not parse MIME, so they get None everywhere.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from bench.corpora.base import CaseResult
from bench.corpora.rt import Check, judge_mail
from parsers import ParsedMessage
from parsers.message import Address

NAME = "spamscope-mail-parser"

_ADDRESS_FIELDS = {"from": "sender", "to": "to", "cc": "cc", "reply_to": "reply_to"}


def run(corpus_dir: Path) -> list[CaseResult]:
    expected = json.loads((corpus_dir / "expected.json").read_text(encoding="utf-8"))
    return [judge_mail(name, (corpus_dir / "mails" / name).read_bytes(), _checks(facts))
            for name, facts in sorted(expected.items()) if name != "_meta"]


def _checks(facts: dict) -> list[Check]:
    checks: list[Check] = [_attachment_names_are_text]
    for field, attribute in _ADDRESS_FIELDS.items():
        if field in facts:
            checks.append(_addresses(attribute, [tuple(pair) for pair in facts[field]]))
    if "subject" in facts:
        checks.append(_equal("subject", lambda p: p.subject, facts["subject"]))
    if "message_id" in facts:
        checks.append(_equal("message_id", lambda p: p.message_id, facts["message_id"]))
    if "date_utc_iso" in facts:
        checks.append(_equal("date", lambda p: p.date.isoformat() if p.date else None, facts["date_utc_iso"]))
    if "to_count" in facts:
        checks.append(_equal("to count", lambda p: len(p.to), facts["to_count"]))
    if "to_first_address" in facts:
        checks.append(_equal("first to", lambda p: p.to[0].email if p.to else None, facts["to_first_address"]))
    if "from_first_address" in facts:
        checks.append(_equal("from", lambda p: p.sender.email if p.sender else None, facts["from_first_address"]))
    if "to_domains_include" in facts:
        checks.append(_to_domains(facts["to_domains_include"]))
    if "attachment_count" in facts:
        checks.append(_equal("attachment count", lambda p: len(p.attachments), facts["attachment_count"]))
    for key in ("defects_categories", "defects_categories_include"):
        if facts.get(key):
            checks.append(_defects(facts[key]))
    return checks


def _attachment_names_are_text(parsed: ParsedMessage) -> str | None:
    for attachment in parsed.attachments:
        try:
            attachment.filename.encode("utf-8")
        except UnicodeEncodeError:
            return f"attachment name not valid text: {attachment.filename!r}"
    return None


def _equal(label: str, get: Callable[[ParsedMessage], object], wanted: object) -> Check:
    def check(parsed: ParsedMessage) -> str | None:
        got = get(parsed)
        return None if got == wanted else f"{label}: {got!r} != {wanted!r}"

    return check


def _addresses(attribute: str, wanted: list[tuple[str, str]]) -> Check:
    def check(parsed: ParsedMessage) -> str | None:
        value = getattr(parsed, attribute)
        found: tuple[Address, ...] = (value,) if isinstance(value, Address) else (value or ())
        got = [(a.name, a.email) for a in found]
        expected = [(name, email.lower()) for name, email in wanted]
        return None if got == expected else f"{attribute}: {got} != {expected}"

    return check


def _to_domains(domains: list[str]) -> Check:
    def check(parsed: ParsedMessage) -> str | None:
        got = {a.email.rpartition("@")[2] for a in parsed.to}
        missing = [d for d in domains if d.lower() not in got]
        return f"to domains lack {missing}" if missing else None

    return check


def _defects(categories: list[str]) -> Check:
    def check(parsed: ParsedMessage) -> str | None:
        missing = [c for c in categories if f"MIME defect: {c}" not in parsed.problems]
        return f"defects not reported: {missing}" if missing else None

    return check
