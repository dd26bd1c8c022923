"""Tables for people: `relaydesk chain` and `relaydesk report partners` without --json."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from gateway.desk.reports import PartnerRow
from gateway.desk.timings import ChainTimings, LinkTimes


def duration(seconds: float | None) -> str:
    """`2d 3h`, `4h 05m`, `12m 30s`, `45s`, or `—` when unknown."""
    if seconds is None:
        return "—"
    whole = int(round(seconds))
    days, rest = divmod(whole, 86_400)
    hours, rest = divmod(rest, 3_600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes:02d}m"
    if minutes:
        return f"{minutes}m {secs:02d}s"
    return f"{secs}s"


def print_chain(timings: ChainTimings, console: Console | None = None) -> None:
    table = Table(title=f"Chain of {timings.ref}")
    for column in ("ticket", "account", "status", "held by", "first response", "accept", "resolve (link)", "held", "rating", "resolved in", "terms"):
        table.add_column(column)
    for node in timings.nodes:
        link = node.link
        table.add_row(
            "  " * node.depth + node.ref,
            node.account_name,
            node.status + (f" / link {link.state.replace('_', ' ')}" if link else ""),
            node.held_by,
            duration(node.time_to_first_response),
            duration(link.time_to_accept) if link else "",
            duration(link.time_to_resolve) if link else "",
            duration(link.held) if link else "",
            str(link.rating) if link and link.rating is not None else "",
            duration(node.time_to_resolve),
            _terms(link),
        )
    (console or Console()).print(table)


def _terms(link: LinkTimes | None) -> str:
    """`at risk, due 14:05Z`: how the link stands against its partner terms (empty without terms)."""
    if link is None or link.deadline_state is None:
        return ""
    due = link.accept_due_at if link.accepted_at is None else link.resolve_due_at
    when = f", due {due:%Y-%m-%d %H:%M}Z" if due is not None and link.deadline_state in ("on_track", "at_risk") else ""
    return link.deadline_state.replace("_", " ") + when


def print_partner_report(rows: list[PartnerRow], console: Console | None = None) -> None:
    table = Table(title="Partners")
    for column in ("partner", "handed by", "tickets", "resolved", "accept median", "accept p90",
                   "resolve median", "resolve p90", "rating", "rated", "within terms", "breaches a/r"):
        table.add_column(column)
    for row in rows:
        total = row.handed_by is None
        table.add_row(
            row.partner_name if total else "",
            "all" if total else row.handed_by_name,
            str(row.tickets),
            str(row.resolved),
            duration(row.accept_median_seconds),
            duration(row.accept_p90_seconds),
            duration(row.resolve_median_seconds),
            duration(row.resolve_p90_seconds),
            "—" if row.rating_avg is None else f"{row.rating_avg:.2f}",
            str(row.rated),
            "—" if row.within_terms_share is None else f"{row.within_terms_share:.0%} of {row.under_terms}",
            f"{row.accept_breaches}/{row.resolve_breaches}",
            style="bold" if total else None,
        )
    (console or Console()).print(table)
