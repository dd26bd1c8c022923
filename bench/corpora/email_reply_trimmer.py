"""discourse/email_reply_trimmer: expected trimmed text, elided part, embedded mail.

Cases per input: `trimmed` (exact, after strip, as upstream compares);
`elided` (compared with whitespace and `>`/`|` quote markers removed, because
upstream re-flows wrapped attribution lines and rewrites `Name>` quote
prefixes inside the elided part: presentation, not what was cut); `embedded` (embedded-mail extraction, ours only, through
`parsers.forward.extract_embedded` since upstream counts Outlook reply blocks
as embedded mails too, which `detect_forward` only calls a forward under a
Fwd subject: the note must equal
`before/` exactly; the recovered original's text must end the expected
embedded mail and its sender must appear in it).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from bench.corpora.base import CaseResult, Split, diff_note, judge_all
from parsers.forward import extract_embedded

NAME = "email_reply_trimmer"

_QUOTE_MARKS = re.compile(r"(?m)^[ \t]*(?:[\w.-]{1,20}>|\|)")
_SPACES_AND_MARKS = re.compile(r"[\s>]+")


def run(corpus_dir: Path) -> list[CaseResult]:
    expected = json.loads((corpus_dir / "expected.json").read_text(encoding="utf-8"))
    results: list[CaseResult] = []
    for name, facts in sorted(expected.items()):
        if not name.startswith("emails/"):
            continue
        body = (corpus_dir / name).read_bytes().decode("utf-8").strip()
        case = name.removeprefix("emails/")
        if "expected_trimmed_file" in facts:
            trimmed = _read(corpus_dir, facts["expected_trimmed_file"])
            results.append(judge_all(f"{case} trimmed", body, lambda s, t=trimmed: diff_note("trimmed", t, s.text)))
        if "expected_elided_file" in facts:
            elided = _read(corpus_dir, facts["expected_elided_file"])
            results.append(judge_all(f"{case} elided", body, lambda s, e=elided: _elided_note(e, s)))
        if "expected_embedded_file" in facts:
            results.append(_embedded_case(case, body, _read(corpus_dir, facts["expected_embedded_file"]),
                                          _read(corpus_dir, facts["expected_before_file"])))
    return results


def _read(corpus_dir: Path, relative: str) -> str:
    return (corpus_dir / relative).read_text(encoding="utf-8").strip()


def _flatten(text: str) -> str:
    return _SPACES_AND_MARKS.sub(" ", _QUOTE_MARKS.sub("", text)).strip()


def _elided_note(expected: str, split: Split) -> str | None:
    return diff_note("elided (whitespace and quote marks normalised)", _flatten(expected), _flatten(split.elided))


def _embedded_case(case: str, body: str, embedded: str, before: str) -> CaseResult:
    forward = extract_embedded(body)
    libs: dict[str, bool | None] = {"email-reply-parser": None, "mail-parser-reply": None, "talon": None}
    if forward is None:
        return CaseResult(f"{case} embedded", False, libs, "no embedded message found")
    problems = [diff_note("note", before, forward.note.strip())]
    if not _flatten(embedded).endswith(_flatten(forward.original.text)) or not forward.original.text.strip():
        problems.append(diff_note("original text (tail of embedded)", _flatten(embedded)[-200:], _flatten(forward.original.text)[-200:]))
    sender = forward.original.sender
    if sender is None or sender.email.lower() not in embedded.lower():
        problems.append(f"sender {sender} not in the embedded header block")
    notes = [p for p in problems if p]
    return CaseResult(f"{case} embedded", not notes, libs, "; ".join(notes))
