"""Tables for people: the same views as the JSON ones, rendered with rich.

Takes the JSON-shaped dicts of `gateway.desk.views` (and a ParsedMessage for
`relaydesk parse`), so the text output can never show something the JSON
does not.
"""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table

from parsers.message import ParsedMessage

_STATUS_STYLE = {"new": "bold cyan", "open": "bold yellow", "pending": "magenta", "resolved": "green",
                 "closed": "dim", "cancelled": "dim strike"}


def _status(status: str) -> str:
    return f"[{_STATUS_STYLE.get(status, '')}]{escape(status)}[/]"


def print_ticket_list(rows: list[dict[str, Any]], console: Console | None = None) -> None:
    console = console or Console()
    if not rows:
        console.print("No tickets.")
        return
    table = Table(title=f"{len(rows)} ticket(s)")
    for column in ("Ref", "Account", "Status", "Subject", "Parent", "Updated"):
        table.add_column(column)
    for row in rows:
        table.add_row(row["ref"], row["account"], _status(row["status"]), escape(row["subject"]),
                      row["parent"] or "", _short_time(row["updated_at"]))
    console.print(table)


def print_inbox(rows: list[dict[str, Any]], console: Console | None = None) -> None:
    console = console or Console()
    if not rows:
        console.print("No inbox items.")
        return
    table = Table(title=f"{len(rows)} inbox item(s)")
    for column in ("Id", "Channel", "Status", "Tries", "Received", "To", "Reason"):
        table.add_column(column, overflow="fold" if column == "Reason" else "ellipsis")
    for row in rows:
        table.add_row(str(row["id"]), row["channel"], escape(row["status"]), str(row["attempts"]),
                      _short_time(row["received_at"]), escape(", ".join(row["recipients"])), escape(_reason(row)))
    console.print(table)


def _reason(row: dict[str, Any]) -> str:
    """Why the item is where it is: the error of a failed or held run, else what was kept aside and why."""
    return row["error"] or "; ".join(row["problems"])


def print_ticket_detail(detail: dict[str, Any], console: Console | None = None) -> None:
    console = console or Console()
    requester = detail["requester"]
    who = f"{requester['name']} <{requester['email']}>" if requester and requester["email"] else "—"
    head = [
        f"[bold]{detail['ref']}[/] {escape(detail['subject'])}",
        f"account {detail['account']} · status {_status(detail['status'])} · requester {escape(who)}",
    ]
    if detail["asset"]:
        head.append(f"asset {escape(detail['asset'])}")
    if detail.get("external_id"):
        head.append(f"external id {escape(detail['external_id'])}")
    console.print(Panel("\n".join(head), expand=False))
    if len(detail["chain"]) > 1:
        console.print("Chain:")
        for row in detail["chain"]:
            indent = "  " * row["depth"] + ("└ " if row["depth"] else "")
            name = f"[bold]{row['ref']}[/]" if row["ref"] == detail["ref"] else row["ref"]
            console.print(f"  {indent}{name} ({row['account']}, {_status(row['status'])})")
    if detail["links"]:
        links = Table(title="Links")
        for column in ("Parent", "Child", "State", "Rating"):
            links.add_column(column)
        for link in detail["links"]:
            rating = "" if link["rating"] is None else f"{link['rating']}/5 {escape(link['rating_comment'] or '')}"
            links.add_row(link["parent"], link["child"], link["state"], rating)
        console.print(links)
    messages = Table(title="Messages", show_lines=True)
    for column in ("#", "When", "Dir", "Visibility", "From", "Text"):
        messages.add_column(column, overflow="fold")
    for message in detail["messages"]:
        visibility = message["visibility"] + (" (unverified)" if message.get("unverified") else "")
        files = "".join(f"\n📎 {escape(a['filename'])} ({a['size']} B)" for a in message["attachments"])
        messages.add_row(str(message["id"]), _short_time(message["created_at"]), message["direction"], visibility,
                         escape(message["from"] or ""), escape(message["text"].strip()) + files)
    console.print(messages)
    if detail.get("outbound"):
        sent = Table(title="Outbound")
        for column in ("#", "When", "Kind", "To", "Status"):
            sent.add_column(column, overflow="fold")
        for item in detail["outbound"]:
            state = item["status"] + (f" ({escape(item['error'])})" if item["error"] else "")
            sent.add_row(str(item["id"]), _short_time(item["created_at"]), item["kind"], escape(item["recipient"]), state)
        console.print(sent)
    events = Table(title="Events")
    for column in ("When", "Event", "Detail"):
        events.add_column(column)
    for event in detail["events"]:
        detail_text = ", ".join(f"{k}={v}" for k, v in event["detail"].items() if v is not None)
        events.add_row(_short_time(event["at"]), event["type"], escape(detail_text))
    console.print(events)


def print_parsed(parsed: ParsedMessage, console: Console | None = None) -> None:
    """What relaydesk reads from one mail, for an operator debugging it."""
    console = console or Console()
    data = parsed.to_json()
    sender = data["from"]
    facts = Table.grid(padding=(0, 2))
    facts.add_column(style="bold")
    facts.add_column(overflow="fold")
    facts.add_row("From", escape(f"{sender['name']} <{sender['email']}>" if sender else "—"))
    facts.add_row("To", escape(", ".join(data["to"]) or "—"))
    if data["cc"]:
        facts.add_row("Cc", escape(", ".join(data["cc"])))
    facts.add_row("Subject", escape(data["subject"]))
    facts.add_row("Date", data["date"] or "—")
    facts.add_row("Message-ID", escape(data["message_id"] or "—"))
    facts.add_row("Kind", data["kind"])
    if data["commands"]:
        facts.add_row("Commands", escape("; ".join(" ".join([c["name"], *c["args"]]) for c in data["commands"])))
    if data["bounce"]:
        bounce = data["bounce"]
        facts.add_row("Bounce", escape(f"{bounce['recipient']} {bounce['status']} {bounce['diagnostic'] or ''}"))
    console.print(facts)
    console.print(Panel(escape(data["text"] or "(empty)"), title="New text", expand=False))
    if data["forward"]:
        original = data["forward"]["original"]
        who = original["from"]["email"] if original["from"] else "?"
        console.print(Panel(escape(original["text"]), title=f"Forwarded from {escape(who)}: {escape(original['subject'])}",
                            expand=False))
    if data["elided"]:
        console.print(Panel(escape(data["elided"]), title="Elided (quotes, signature)", style="dim", expand=False))
    for attachment in data["attachments"]:
        console.print(f"📎 {escape(attachment['filename'])}  {attachment['content_type']}  {attachment['size']} B"
                      f"  sha256 {attachment['sha256'][:12]}…")
    for problem in data["problems"]:
        console.print(f"[yellow]problem:[/] {escape(problem)}")


def _short_time(value: str | None) -> str:
    return (value or "")[:19].replace("T", " ")
