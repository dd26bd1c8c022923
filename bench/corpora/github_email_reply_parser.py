"""github/email_reply_parser (Ruby) fixtures: fragments mapped onto text/elided."""

from __future__ import annotations

import json
from pathlib import Path

from bench.corpora.base import CaseResult, timed_cases

NAME = "github-email_reply_parser"


def run(corpus_dir: Path) -> list[CaseResult]:
    expected = json.loads((corpus_dir / "expected.json").read_text(encoding="utf-8"))
    return timed_cases(corpus_dir, "emails", expected, ruby=True)
