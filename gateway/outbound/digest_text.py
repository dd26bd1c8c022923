"""Wording of the daily digest: one mail per agent, overdue work first.

Only text lives here; gateway/flows/digests.py decides who gets it and
when, and gateway/desk/digest_content.py what is in it.
"""

from __future__ import annotations

from gateway.desk.digest_content import DigestContent, Item
from gateway.outbound.deadline_notices import local_time

MAX_LINES = 50  # per section; the rest is counted, not listed
_STATE = {"breached": "OVERDUE", "at_risk": "due soon", "paused": "paused", "on_track": "on track"}


def digest(content: DigestContent, account_name: str, zone: str, day: str) -> tuple[str, str]:
    sections = [
        ("Waiting on partners", content.on_partners),
        ("Waiting on you", content.on_us),
        ("Ratings not yet given", content.to_rate),
        ("Parked mail (`relaydesk replay ID` once the cause is fixed)", content.parked),
        ("Failed deliveries in the last day", content.failed),
    ]
    lines = [f"{account_name} — what needs attention on {day}.", ""]
    for title, items in sections:
        if not items:
            continue
        lines += [f"{title} ({len(items)}):"]
        lines += [_line(item, zone) for item in items[:MAX_LINES]]
        if len(items) > MAX_LINES:
            lines.append(f"  … and {len(items) - MAX_LINES} more")
        lines.append("")
    lines.append("Reply with #digest off to stop these mails (#digest on to have them again).")
    return f"Daily digest {day}: {account_name}", "\n".join(lines)


def _line(item: Item, zone: str) -> str:
    state = _STATE.get(item.state or "", "")
    due = f", due {local_time(item.due_at, zone)}" if item.due_at is not None else ""
    mark = f" [{state}{due}]" if state else ""
    return f"  {item.ref} {item.subject} — {item.detail}{mark}"
