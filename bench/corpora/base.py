"""What every corpus module shares: the case result and the contestants.

Each corpus module turns its expectation file into cases and judges every
contestant with the same check: relaydesk's parsers ("ours") and the reply
libraries it is measured against.  A library gets `None` for a case that is
not its job (MIME facts, forwards, bounces).
"""

from __future__ import annotations

import importlib.util
import re
import sys
import time
import types
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from parsers.reply import split_reply

LIBRARIES = ("email-reply-parser", "mail-parser-reply", "talon")


@dataclass
class CaseResult:
    """One expectation of one corpus, judged for us and for each library."""

    case: str
    ours: bool
    libs: dict[str, bool | None] = field(default_factory=dict)
    detail: str = ""


@dataclass(frozen=True)
class Split:
    """Any contestant's answer: visible text, what it removed, the signature."""

    text: str
    elided: str
    signature: str | None = None

    @property
    def without_quotes(self) -> str:
        """The reply with quotes removed but the signature kept, as quote-only tools return it."""
        if self.signature and self.signature not in self.text:
            return f"{self.text}\n\n{self.signature}".strip()
        return self.text


Splitter = Callable[[str], Split]


def ours(text: str, html: str | None = None) -> Split:
    """relaydesk's own reply extraction."""
    result = split_reply(text, html)
    return Split(result.text, result.elided, result.signature)


def email_reply_parser(text: str) -> Split:
    """github/zapier email_reply_parser: hidden fragments are what it removes."""
    from email_reply_parser import EmailReplyParser

    message = EmailReplyParser.read(text)
    visible = EmailReplyParser.parse_reply(text)
    hidden = [f.content for f in message.fragments if f.hidden]
    signature = "\n".join(f.content for f in message.fragments if f.signature and f.hidden).strip()
    return Split(visible.strip(), "\n".join(hidden).strip(), signature or None)


@cache
def _mail_parser_reply(languages: tuple[str, ...]):
    from mailparser_reply import EmailReplyParser

    return EmailReplyParser(languages=list(languages))


def mail_parser_reply(text: str, languages: tuple[str, ...] | None = None) -> Split:
    """alfonsrv/mail-parser-reply with the given (default: all) languages."""
    from mailparser_reply.constants import MAIL_LANGUAGES

    chosen = languages or tuple(lang for lang in MAIL_LANGUAGES if lang != "david")
    mail = _mail_parser_reply(chosen).read(text)
    if not mail.replies:
        return Split("", text.strip(), None)
    latest = mail.replies[0]
    body = (latest.body or "").strip()
    signature = (latest.signatures or "").strip() or None
    elided = text.strip()[len((latest.content or "").strip()):].strip() if text.strip().startswith((latest.content or "").strip()) else ""
    return Split(body, "\n\n".join(p for p in (signature, elided) if p), signature)


@cache
def _talon_modules() -> tuple[types.ModuleType, types.ModuleType]:
    """talon's quotations and its brute-force signature module.

    `talon.signature`'s package init loads a scikit-learn classifier through
    an import removed from scikit-learn, so the brute-force module is loaded
    on its own under a bare package shell.
    """
    import talon
    from talon import quotations

    talon.init = getattr(talon, "init", lambda: None)
    package_dir = Path(talon.__file__).parent / "signature"
    if "talon.signature" not in sys.modules:
        shell = types.ModuleType("talon.signature")
        shell.__path__ = [str(package_dir)]
        sys.modules["talon.signature"] = shell
    spec = importlib.util.spec_from_file_location("talon.signature.bruteforce", package_dir / "bruteforce.py")
    assert spec and spec.loader
    bruteforce = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bruteforce)
    return quotations, bruteforce


def talon_split(text: str) -> Split:
    """mailgun/talon: quotation removal, then its brute-force signature cut."""
    quotations, bruteforce = _talon_modules()
    reply = quotations.extract_from_plain(text)
    body, signature = bruteforce.extract_signature(reply)
    return Split((body or "").strip(), text.strip()[len(body or ""):].strip(), (signature or "").strip() or None)


def talon_html(html: str) -> str:
    """talon's HTML quote removal (returns HTML)."""
    quotations, _ = _talon_modules()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # html5lib complains about Word's XML namespaces
        return quotations.extract_from_html(html)


LIB_SPLITTERS: dict[str, Splitter] = {
    "email-reply-parser": email_reply_parser,
    "mail-parser-reply": mail_parser_reply,
    "talon": talon_split,
}


def judge_all(case: str, text: str, check: Callable[[Split], str | None], limit: float | None = None) -> CaseResult:
    """Run every contestant on a plain-text body; `check` returns a failure note or None."""
    note = safe_check(check, lambda: ours(text), limit)
    libs = {
        name: safe_check(check, lambda f=splitter: f(text), limit) is None for name, splitter in LIB_SPLITTERS.items()
    }
    return CaseResult(case, note is None, libs, note or "")


def safe_check(
    check: Callable[[Split], str | None], produce: Callable[[], Split], limit: float | None = None
) -> str | None:
    """Judge one contestant: a crash fails the case (the crash is the note), so does exceeding `limit` seconds."""
    started = time.perf_counter()
    try:
        split = produce()
    except Exception as error:  # a library bug must not stop the benchmark
        return f"raised {type(error).__name__}: {error}"
    elapsed = time.perf_counter() - started
    if limit is not None and elapsed > limit:
        return f"took {elapsed:.2f}s, limit {limit}s"
    return check(split)


def diff_note(label: str, expected: str, got: str) -> str | None:
    """None when equal, else a short two-line note for `--failures`."""
    if expected == got:
        return None
    return f"{label}\n    expected: {expected[:300]!r}\n    got:      {got[:300]!r}"


def fragment_check(facts: dict, ruby: bool) -> Callable[[Split], str | None] | None:
    """Map an email_reply_parser-style expectation onto a (text, elided) split.

    Those suites describe fragments; a gateway has a visible side and an
    elided side.  A fragment's expected content (equals/contains/regex) must
    be on the side its `hidden` flag names; without flags, fragment 0 is the
    visible reply and later fragments are hidden.  `fragment_count == 1`
    means nothing is hidden.  Whole-reply expectations compare the visible
    text (right-stripped).  Counts and quoted/signature flags alone are not
    mapped: they describe the library's internal segmentation.  Returns None
    when nothing maps.
    """
    checks: list[Callable[[Split], str | None]] = []
    hidden = facts.get("fragments_hidden")
    for key in ("visible_text", "parse_reply_equals", "reply_stripped_equals"):
        if key in facts:
            checks.append(lambda s, e=facts[key]: diff_note(key, e.strip(), s.text.strip()))
    for word in facts.get("reply_contains", []):
        checks.append(lambda s, w=word: None if w in s.text else f"visible text lacks {w!r}")
    for word in facts.get("reply_not_contains", []):
        checks.append(lambda s, w=word: f"visible text has {w!r}" if w in s.text else None)
    if facts.get("fragment_count") == 1 and not facts.get("fragments_hidden"):
        checks.append(lambda s: diff_note("nothing elided", "", s.elided))
    for key in ("fragment_equals", "fragment_contains", "fragment_matches", "fragment_startswith_regex"):
        for index, wanted in facts.get(key, {}).items():
            position = int(index)
            is_hidden = hidden[position] if hidden and position < len(hidden) else position > 0
            for item in wanted if isinstance(wanted, list) else [wanted]:
                checks.append(_fragment_probe(key, item, is_hidden, ruby))
    if "max_seconds" in facts:
        checks.append(lambda s: None)  # the time limit itself is enforced by judge_all
    if not checks:
        return None

    def check(split: Split) -> str | None:
        notes = [note for probe in checks if (note := probe(split))]
        return "; ".join(notes) or None

    return check


def _fragment_probe(key: str, wanted: str, hidden: bool, ruby: bool) -> Callable[[Split], str | None]:
    side = "elided" if hidden else "text"

    def probe(split: Split) -> str | None:
        haystack = split.elided if hidden else split.text
        if key == "fragment_equals":
            found = " ".join(wanted.split()) in " ".join(haystack.split())
        elif key == "fragment_contains":
            found = wanted in haystack
        else:
            pattern = wanted.replace("\\A", "^") if ruby else wanted
            found = re.search(pattern, haystack, re.MULTILINE) is not None
        return None if found else f"{key} {wanted[:60]!r} not in {side}"

    return probe


def timed_cases(corpus_dir: Path, subfolder: str, expected: dict, ruby: bool) -> list[CaseResult]:
    """One case per fixture of an email_reply_parser-style suite."""
    results = []
    for name, facts in sorted(expected.items()):
        if name == "_meta":
            continue
        check = fragment_check(facts, ruby)
        if check is None:
            continue
        body = (corpus_dir / subfolder / name).read_bytes().decode("utf-8", errors="replace")
        results.append(judge_all(name, body, check, facts.get("max_seconds")))
    return results
