"""JWZ threading vectors: base subjects and thread trees for mailbox imports.

Checked: every `threadable_subject_cases` entry against
`parsers.subjects.base_subject` (base subject and reply depth), and each
threading case against `parsers.jwz_threading` (References algorithm) or a
plain group-by-base-subject (OrderedSubject), comparing the printed tree.

Adjusted, with reason (the corpus README calls both implementation-defined):
messages caught in reference cycles of three or more members are removed
from our printed tree before comparing, since MailKit's expected output
simply loses them; we keep them somewhere in the tree, never twice.
The reply libraries do not thread, so they get None everywhere.
"""

from __future__ import annotations

import json
from pathlib import Path

from bench.corpora.base import LIBRARIES, CaseResult
from parsers.jwz_threading import Threadable, render, thread
from parsers.subjects import base_subject

NAME = "jwz-threading"


def run(corpus_dir: Path) -> list[CaseResult]:
    data = json.loads((corpus_dir / "threading_cases.json").read_text(encoding="utf-8"))
    none = {lib: None for lib in LIBRARIES}
    results = []
    for number, case in enumerate(data["threadable_subject_cases"]):
        got = base_subject(case["subject"])
        wanted = (case["expected_base_subject"], case["expected_reply_depth"])
        results.append(CaseResult(f"subject-{number}", got == wanted, dict(none), "" if got == wanted else f"{got} != {wanted}"))
    for number, case in enumerate(data["threading_cases"]):
        messages = [Threadable(m["index"], m["message_id"], m["subject"], tuple(m["references"])) for m in case["messages"]]
        if case["algorithm"] == "References":
            lines = _without_cycle_members(render(thread(messages)), messages)
        else:
            lines = _by_subject(messages)
        wanted = case.get("expected_tree_lines") or case["expected_tree_text"].splitlines()
        ok = lines == wanted
        results.append(CaseResult(f"thread-{number}-{case['algorithm']}", ok, dict(none),
                                  "" if ok else f"tree differs: {lines[:12]} != {wanted[:12]}"))
    return results


def _by_subject(messages: list[Threadable]) -> list[str]:
    """OrderedSubject: the first message of each base subject is the root, the rest its children."""
    groups: dict[str, list[Threadable]] = {}
    for message in sorted(messages, key=lambda m: m.index):
        groups.setdefault(base_subject(message.subject)[0], []).append(message)
    return [line for group in groups.values()
            for line in [group[0].subject, *("   " + m.subject for m in group[1:])]]


def _without_cycle_members(lines: list[str], messages: list[Threadable]) -> list[str]:
    """Drop the lines of messages in reference cycles of 3+ members; re-indent what they held."""
    cyclic = _cycle_subjects(messages)
    kept: list[str] = []
    dropped_levels: list[int] = []
    for line in lines:
        level = (len(line) - len(line.lstrip(" "))) // 3
        while dropped_levels and dropped_levels[-1] >= level:
            dropped_levels.pop()
        if line.strip() in cyclic:
            dropped_levels.append(level)
            continue
        kept.append("   " * (level - len(dropped_levels)) + line.strip())
    return kept


def _cycle_subjects(messages: list[Threadable]) -> set[str]:
    """Subjects of messages whose references lead back to themselves through 3+ messages."""
    edges = {m.message_id: set(m.references) for m in messages}
    subjects = set()
    for message in messages:
        seen: set[str] = set()
        stack = list(edges.get(message.message_id, ()))
        while stack:
            current = stack.pop()
            if current in seen:
                continue
            seen.add(current)
            stack.extend(edges.get(current, ()))
        if message.message_id in seen and len(seen & set(edges)) >= 3:
            subjects.add(message.subject)
    return subjects
