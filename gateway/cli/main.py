"""`relaydesk` command line: one typer app, each command a thin shell.

Commands parse options, load the config and call into the module that does
the work, so the same work is reachable from tests without a subprocess.
`--json` output is the stable, documented shape of SPEC §10.
"""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path
from typing import Annotated, Optional

import typer

from gateway.cli import api_tokens, web, webhooks
from gateway.cli.common import ConfigOption, JsonOption
from gateway.cli.common import load as _config
from gateway.cli.common import session_of
from gateway.core.runtime import Runtime
from gateway.cli.common import print_json as _print_json
from gateway.cli.common import run_until_stopped as _run_until_stopped

app = typer.Typer(no_args_is_help=True, add_completion=False, help="relaydesk: mail and chat threads become linked tickets.")



@app.command()
def parse(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="A raw RFC 5322 message.")],
    as_json: JsonOption = False,
) -> None:
    """Parse one mail file and show what relaydesk reads from it (no database needed)."""
    from parsers import parse_message

    result = parse_message(file.read_bytes())
    if as_json:
        _print_json(result.to_json())
        return
    from gateway.cli.tables import print_parsed

    print_parsed(result)


@app.command()
def chain(
    ref: Annotated[str, typer.Argument(help="Any ticket of the chain, e.g. VND-1042.")],
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """The whole chain of a ticket from its root, with the time held at each link.

    --json gives {"ref", "root", "tickets": [...]}; each ticket, depth first:
    {"ref", "account", "account_name", "status", "depth", "parent", "children",
    "assignee", "held_by" (account that holds the work now: the partner of an
    open handoff, else the ticket's own account), "created_at",
    "time_to_first_response_seconds", "time_to_resolve_seconds",
    "link": null for the root, else {"state", "accept_due_at", "resolve_due_at",
    "deadline_state" (on_track | at_risk | breached | met | paused; null without terms),
    "handed_off_at", "accepted_at",
    "resolved_at", "rated_at", "rating", "rating_comment",
    "time_to_accept_seconds", "time_to_resolve_seconds", "held_seconds"}}.
    Seconds are numbers or null when the stage has not happened; times are UTC ISO 8601.
    """
    from gateway.desk.timings import TicketNotFound, chain_timings

    try:
        with session_of(_config(config)) as session:
            timings = chain_timings(session, ref)
    except TicketNotFound:
        typer.echo(f"error: no ticket {ref}", err=True)
        raise typer.Exit(1) from None
    if as_json:
        _print_json(timings.to_json())
        return
    from gateway.cli.timing_tables import print_chain

    print_chain(timings)


@app.command("tickets")
def list_tickets(
    config: ConfigOption = None,
    account: Annotated[Optional[str], typer.Option("--account", help="Only this account (slug).")] = None,
    status: Annotated[Optional[str], typer.Option("--status", help="Only this status (new, open, …).")] = None,
    as_json: JsonOption = False,
) -> None:
    """List tickets. --json gives [{"ref", "account", "status", "subject", "parent", "created_at", "updated_at"}]."""
    from gateway.desk.views import ticket_list

    with session_of(_config(config)) as session:
        rows = ticket_list(session, account=account, status=status)
    if as_json:
        _print_json(rows)
        return
    from gateway.cli.tables import print_ticket_list

    print_ticket_list(rows)


@app.command()
def show(
    ref: Annotated[str, typer.Argument(help="Ticket ref, e.g. VND-1042.")],
    config: ConfigOption = None,
    as_json: JsonOption = False,
) -> None:
    """One ticket with its requester, chain, links, messages and events.

    --json gives {"ref", "account", "status", "subject", "parent", "created_at",
    "updated_at", "requester": {"name", "email", "telegram"} or null, "asset",
    "external_id", "assignee", "related" (the closed ticket this one follows up),
    "children", "chain": [{"ref", "account", "status", "depth"}] from the root,
    depth first, "links": [{"parent", "child", "state", "rating", "rating_comment",
    "accept_due_at", "resolve_due_at", "deadline_state"}] (partner terms; null without),
    "participants": [{"role", "name", "email", "telegram"}],
    "messages": [{"id", "direction", "visibility", "channel", "message_id", "from",
    "from_name", "to", "cc", "subject", "text", "elided", "unverified",
    "attachments": [{"filename", "content_type", "size", "sha256", "inline", "stored"}],
    "created_at"}], "events": [{"at", "type", "detail"}],
    "outbound": [{"id", "kind", "channel", "recipient", "message_id", "subject",
    "status", "attempts", "error", "created_at", "sent_at"}]}.  Times are UTC ISO 8601.
    """
    from gateway.desk.views import ticket_detail

    with session_of(_config(config)) as session:
        detail = ticket_detail(session, ref)
    if detail is None:
        typer.echo(f"error: no ticket {ref}", err=True)
        raise typer.Exit(1)
    if as_json:
        _print_json(detail)
        return
    from gateway.cli.tables import print_ticket_detail

    print_ticket_detail(detail)


@app.command()
def ingest(
    path: Annotated[Path, typer.Argument(help="A .eml or .mbox file, a maildir, or a folder of them.")],
    config: ConfigOption = None,
    account: Annotated[Optional[str], typer.Option("--account", help="Receive as this hosted account (slug).")] = None,
    history: Annotated[bool, typer.Option("--history/--live", help="History: each mail keeps its own Date and "
                                          "nothing is sent for it (an old mailbox). Live (default): as if it "
                                          "arrived now, acknowledged and relayed.")] = False,
    resolve_after_days: Annotated[Optional[int], typer.Option(
        "--resolve-after-days", min=0, help="With --history: tickets whose last mail is older are imported resolved.",
    )] = None,
) -> None:
    """Feed mail files through the gateway as if received; outbound mail is left for the server to deliver."""
    from gateway.cli.ingest import IngestError, history_envelope, ingest_with_bar, mail_files, summary_line

    try:
        with Runtime.open(_config(config)) as runtime:
            results, seconds = ingest_with_bar(runtime, mail_files(path), account,
                                               history_envelope(resolve_after_days) if history else None)
    except IngestError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    failed = [r for r in results if r.status != "done"]
    for result in failed:
        typer.echo(f"{result.source}: inbox item {result.inbox_id} {result.status}: {result.error}", err=True)
    typer.echo(summary_line(results, seconds, history))
    if failed:
        raise typer.Exit(1)


@app.command()
def inbox(
    config: ConfigOption = None,
    status: Annotated[Optional[str], typer.Option("--status", help="pending, done or parked.")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, help="At most this many, newest first.")] = 200,
    as_json: JsonOption = False,
) -> None:
    """Inbound items as received, newest first; parked ones carry the reason they could not be applied.

    --json gives [{"id", "channel", "status", "attempts", "error", "problems", "received_at", "recipients"}].
    """
    from gateway.cli.inbox import inbox_rows

    with Runtime.open(_config(config)) as runtime:
        rows = inbox_rows(runtime, status, limit)
    if as_json:
        _print_json(rows)
        return
    from gateway.cli.tables import print_inbox

    print_inbox(rows)


@app.command()
def replay(
    ids: Annotated[Optional[list[int]], typer.Argument(help="Inbox item ids (see `relaydesk inbox --status parked`).")] = None,
    config: ConfigOption = None,
    all_parked: Annotated[bool, typer.Option("--all-parked", help="Replay every parked item.")] = False,
) -> None:
    """Process parked inbox items again, after the cause was fixed; exit 1 if any is still not applied."""
    from gateway.cli.inbox import parked_ids
    from gateway.cli.inbox import replay as replay_one

    if not ids and not all_parked:
        typer.echo("error: name inbox item ids or use --all-parked", err=True)
        raise typer.Exit(2)
    with Runtime.open(_config(config)) as runtime:
        results = [replay_one(runtime, inbox_id) for inbox_id in (parked_ids(runtime) if all_parked else ids or [])]
    for result in results:
        detail = f": {result.error}" if result.error else ""
        typer.echo(f"inbox item {result.inbox_id}: {result.status}{detail}")
    if any(r.status != "done" for r in results):
        raise typer.Exit(1)


@app.command("telegram-code")
def telegram_code(
    email: Annotated[str, typer.Argument(help="The agent's email address, as in the config.")],
    config: ConfigOption = None,
    account: Annotated[Optional[str], typer.Option("--account", help="The account, when the address is an agent of several.")] = None,
) -> None:
    """A one-time code that links the agent's Telegram account: they send `/link CODE` to the bot."""
    from sqlalchemy import select

    from bots.linking import VALID_DAYS, link_code
    from storage.models import Account, Agent, utcnow

    with Runtime.open(_config(config)) as runtime, runtime.db.transaction() as session:
        query = select(Agent).join(Account).where(Agent.email == email.strip().lower())
        agents = session.scalars(query.where(Account.slug == account) if account else query).all()
        if len(agents) != 1:
            problem = "is no agent" if not agents else "is an agent of several accounts; add --account SLUG"
            typer.echo(f"error: {email} {problem}", err=True)
            raise typer.Exit(2)
        agent = agents[0]
        code = link_code(runtime.config.security.secret, agent, utcnow().date())
        typer.echo(f"{agent.name} ({agent.account.name}): send  /link {code}  to the bot in a private chat "
                   f"(good for {VALID_DAYS} days, once).")


app.add_typer(api_tokens.app, name="api-token")
app.add_typer(webhooks.app, name="webhook")
report_app = typer.Typer(no_args_is_help=True, help="Reports for settlements between participants.")
app.add_typer(report_app, name="report")


def _day(value: str | None, option: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        typer.echo(f"error: {option} expects a date like 2026-01-31, got {value!r}", err=True)
        raise typer.Exit(2) from None


@report_app.command("partners")
def report_partners(
    since: Annotated[Optional[str], typer.Option(help="First day (UTC, YYYY-MM-DD) of handoffs counted.")] = None,
    until: Annotated[Optional[str], typer.Option(help="Last day (UTC, YYYY-MM-DD, included).")] = None,
    account: Annotated[Optional[str], typer.Option(help="Only links where this account is the partner or hands over.")] = None,
    output: Annotated[str, typer.Option("--format", help="table | json | csv")] = "table",
    config: ConfigOption = None,
) -> None:
    """Per partner and per handing account: tickets handed over, median/p90 time to accept
    and to resolve (seconds), average rating and how many were rated.

    Rows with an empty handed_by are the partner's totals. Columns (json keys):
    partner, partner_name, handed_by, handed_by_name, tickets, resolved,
    accept_median_seconds, accept_p90_seconds, resolve_median_seconds,
    resolve_p90_seconds, rating_avg, rated, under_terms (links with deadlines),
    within_terms_share (of the decided ones, kept within terms; null when none
    decided), accept_breaches, resolve_breaches. Percentiles are nearest-rank.
    """
    from gateway.desk.reports import Period, partner_report, rows_to_csv, rows_to_json

    if output not in ("table", "json", "csv"):
        typer.echo(f"error: --format must be table, json or csv, not {output!r}", err=True)
        raise typer.Exit(2)
    period = Period.from_dates(_day(since, "--since"), _day(until, "--until"))
    with session_of(_config(config)) as session:
        rows = partner_report(session, period, account)
    if output == "json":
        _print_json(rows_to_json(rows))
    elif output == "csv":
        sys.stdout.write(rows_to_csv(rows))
    else:
        from gateway.cli.timing_tables import print_partner_report

        print_partner_report(rows)


@app.command()
def serve(
    config: ConfigOption = None,
    no_worker: Annotated[bool, typer.Option("--no-worker", help="Ingress only; workers run as `relaydesk worker` (redis/amqp brokers).")] = False,
    smtp_only: Annotated[bool, typer.Option("--smtp-only", help="Leave the IMAP mailboxes and the Telegram bot to the other `serve` processes.")] = False,
    no_web: Annotated[bool, typer.Option("--no-web", help="Leave the web desk to `relaydesk web` processes.")] = False,
) -> None:
    """Receive mail over SMTP (and IMAP, Telegram), serve the web desk and, unless --no-worker, process and
    deliver the mail in this process."""
    from gateway.app.serve import run_serve
    from gateway.web.server import start_web_desk

    _run_until_stopped(lambda: run_serve(_config(config), with_worker=not no_worker, with_pollers=not smtp_only,
                                         also=() if no_web else (start_web_desk,)))


@app.command()
def worker(
    config: ConfigOption = None,
    threads: Annotated[Optional[int], typer.Option("--threads", min=1, max=64, help="Actor threads (default queue.worker_threads).")] = None,
) -> None:
    """Process inbox items and deliver outbox items from a shared broker (redis/amqp)."""
    from gateway.app.worker import run_worker

    _run_until_stopped(lambda: run_worker(_config(config), threads=threads))


@app.command()
def doctor(config: ConfigOption = None) -> None:
    """Check config, database, blob store, broker, smarthost, IMAP and Telegram, and what waits; exit 1 on any FAIL."""
    from gateway.cli.doctor import print_checks, run_checks

    checks = run_checks(config)
    print_checks(checks)
    if not all(check.ok for check in checks):
        raise typer.Exit(1)


web.register(app)

if __name__ == "__main__":
    app()
