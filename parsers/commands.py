"""`#word args` command lines at the top of the new text (SPEC §6).

Only the leading block counts: once a line of prose appears, later `#…`
lines are just text.  A command name is letters only, so "#1 priority" or
"# Heading" stay prose.  Unknown names are still returned: the gateway
answers them with an error instead of silently ignoring a typo.
"""

from __future__ import annotations

import re

from parsers.message import Command

KNOWN = frozenset({"status", "internal", "handoff", "recall", "rate", "assign", "asset", "approve"})

# How many leading words each command splits off before the rest becomes one
# free-text argument (a comment or a note may contain any spaces).
_FIXED_WORDS = {"rate": 1, "handoff": 1, "asset": 0}

_LINE = re.compile(r"^#([^\W\d_]+)(?:[ \t]+(.*))?$")


def extract_commands(text: str) -> tuple[tuple[Command, ...], str]:
    """Commands from the top of `text`, and the text without those lines."""
    lines = text.split("\n")
    commands: list[Command] = []
    index = 0
    while index < len(lines):
        line = lines[index].strip()
        if not line:
            index += 1
            continue
        match = _LINE.match(line)
        if match is None:
            break
        commands.append(_command(match.group(1).lower(), (match.group(2) or "").strip()))
        index += 1
    if not commands:
        return (), text
    return tuple(commands), "\n".join(lines[index:]).strip("\n")


def _command(name: str, rest: str) -> Command:
    """Split arguments; commands with a free-text tail keep it as one argument."""
    if not rest:
        return Command(name)
    fixed = _FIXED_WORDS.get(name)
    if fixed is None:
        return Command(name, tuple(rest.split()))
    head = rest.split(None, fixed) if fixed else []
    words = head[:fixed]
    tail = head[fixed] if len(head) > fixed else ("" if fixed else rest)
    return Command(name, tuple(words) + ((tail.strip(),) if tail.strip() else ()))
