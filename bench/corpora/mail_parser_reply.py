"""alfonsrv/mail-parser-reply fixtures: per-reply checks mapped onto a split.

Reply 0 is the new message: its `body` checks apply to our visible text,
its `signatures` checks to our signature, its `content` checks to the text
with the signature.  Older replies are history, which a gateway elides but
keeps: their `content`/`body`/`headers` must-contain checks apply to the
elided part (whitespace collapsed, since upstream re-flows wrapped lines).
`reply_count`, line counts, negative checks on older replies and the
`keep_hyphen_lists` option variant describe that library's own thread
segmentation and are not mapped.  The library itself runs with the
languages each fixture names; the other contestants need no language.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import partial
from pathlib import Path

from bench.corpora.base import LIB_SPLITTERS, CaseResult, Split, safe_check, mail_parser_reply, ours

NAME = "mail-parser-reply"


def run(corpus_dir: Path) -> list[CaseResult]:
    expected = json.loads((corpus_dir / "expected.json").read_text(encoding="utf-8"))
    results: list[CaseResult] = []
    for name, facts in sorted(expected.items()):
        if name == "_meta" or "replies" not in facts:
            continue
        probes = _probes(facts["replies"])
        if not probes:
            continue
        body = (corpus_dir / "emails" / name).read_bytes().decode("utf-8", errors="replace")

        def check(split: Split, probes=probes) -> str | None:
            notes = [note for probe in probes if (note := probe(split))]
            return "; ".join(notes) or None

        note = safe_check(check, lambda body=body: ours(body))
        libs: dict[str, bool | None] = {}
        for lib, splitter in LIB_SPLITTERS.items():
            if lib == "mail-parser-reply":
                splitter = partial(mail_parser_reply, languages=tuple(facts.get("languages") or ("en",)))
            libs[lib] = safe_check(check, lambda f=splitter, body=body: f(body)) is None
        results.append(CaseResult(name, note is None, libs, note or ""))
    return results


Probe = Callable[[Split], str | None]


def _probes(replies: dict) -> list[Probe]:
    probes: list[Probe] = []
    for index, checks in replies.items():
        for key, wanted in checks.items():
            field, _, how = key.rpartition("_")
            if field.endswith("_not"):
                field, how = field.removesuffix("_not"), "not_contains"
            if index == "0":
                probes.extend(_latest_probe(field, how, item) for item in _items(wanted))
            elif how == "contains":
                probes.extend(_history_probe(item) for item in _items(wanted))
    return [p for p in probes if p is not None]


def _items(wanted) -> list[str]:
    return wanted if isinstance(wanted, list) else [wanted]


def _latest_probe(field: str, how: str, wanted: str) -> Probe | None:
    pick: Callable[[Split], str] | None = {
        "body": lambda s: s.text,
        "signatures": lambda s: s.signature or "",
        "content": lambda s: s.without_quotes,
    }.get(field)
    if pick is None:
        return None

    def probe(split: Split) -> str | None:
        value = pick(split)
        ok = {
            "equals": value.strip() == wanted.strip(),
            "contains": wanted in value,
            "not_contains": wanted not in value,
            "startswith": value.strip().startswith(wanted.strip()),
        }[how]
        return None if ok else f"reply 0 {field} {how} {wanted[:60]!r}; got {value[:120]!r}"

    return probe


def _history_probe(wanted: str) -> Probe:
    flat = " ".join(wanted.split())

    def probe(split: Split) -> str | None:
        return None if flat in " ".join(split.elided.split()) else f"history {flat[:60]!r} not in elided"

    return probe
