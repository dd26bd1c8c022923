"""Partner fingerprints: thread enterprise service-desk notifications by their own ids.

A ServiceNow or Jira instance mails us about *its* incident `INC0012345` or
issue `OPS-12`; it neither keeps our Message-IDs nor our subject tag.  A
profile recognises such mail by a header and finds the partner's id in the
subject (or body); the id is kept on our ticket as `external_id`
(`<profile>:<id>`), so every later notification about it threads there.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from gateway.core.config import FingerprintConfig
from gateway.desk.tickets import fit
from parsers.message import ParsedMessage
from storage.models import Ticket


@dataclass(frozen=True)
class Fingerprint:
    name: str
    header: str
    header_pattern: re.Pattern[str]
    id_pattern: re.Pattern[str]

    @classmethod
    def from_config(cls, spec: FingerprintConfig) -> "Fingerprint":
        return cls(spec.name, spec.header.lower(), re.compile(spec.header_pattern, re.I), re.compile(spec.id_pattern))


BUILT_IN = (
    Fingerprint("servicenow", "x-servicenow-generated", re.compile(".*"), re.compile(r"\b(INC\d{7,})\b")),
    Fingerprint("jira", "x-jira-fingerprint", re.compile(".*"), re.compile(r"\[JIRA\]\s*\(([A-Z][A-Z0-9_]+-\d+)\)")),
)


def profiles(configured: Iterable[FingerprintConfig]) -> tuple[Fingerprint, ...]:
    """Operator profiles first (they may refine a built-in), then the built-ins."""
    return tuple(Fingerprint.from_config(spec) for spec in configured) + BUILT_IN


def external_id(parsed: ParsedMessage, fingerprints: Iterable[Fingerprint]) -> str | None:
    """`<profile>:<id>` of the first profile whose header and id both match, else None."""
    for profile in fingerprints:
        values = parsed.headers.get(profile.header)
        if not values or not any(profile.header_pattern.search(v) for v in values):
            continue
        for text in (parsed.subject, parsed.text):
            match = profile.id_pattern.search(text or "")
            if match:
                found = match.group(1) if match.groups() else match.group(0)
                return fit(Ticket.external_id, f"{profile.name}:{found}")
    return None
