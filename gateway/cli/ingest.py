"""Feed mail files (.eml, .mbox, a maildir, or a folder of them) through intake and the pipeline.

For imports, replays and tests: each mail is stored durably by
`intake.accept_raw` exactly as if it had arrived (channel `cli`, keyed by its
bytes so ingesting a file twice changes nothing), then processed at once.
Outbound mail it causes stays in the outbox for the running server's
delivery sweeper.  Imported as history (`--history`), as IMAP's first sync
imports a mailbox's past, each mail keeps its own Date and nothing is sent
for it (gateway.pipeline.history).
"""

from __future__ import annotations

import hashlib
import mailbox
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from gateway.app.processing import process_inbox_item
from gateway.channels.intake import accept_raw
from gateway.core.runtime import Runtime
from storage.models import InboxItem

MAIL_SUFFIXES = (".eml", ".mbox")


class IngestError(ValueError):
    """The paths or the account given cannot be ingested (named in the message)."""


@dataclass(frozen=True)
class RawMail:
    """One mail read from disk; `source` names the file (and the mbox position)."""

    source: str
    raw: bytes


@dataclass(frozen=True)
class IngestResult:
    source: str
    inbox_id: int
    status: str  # done | pending (will be retried) | parked
    error: str | None
    outbox_ids: tuple[int, ...]


def mail_files(path: Path) -> list[Path]:
    """The .eml/.mbox files and maildirs at `path` (a file, a maildir, or a folder searched recursively, sorted)."""
    if path.is_file():
        if path.suffix.lower() not in MAIL_SUFFIXES:
            raise IngestError(f"{path}: not a .eml or .mbox file")
        return [path]
    if _is_maildir(path):
        return [path]
    if path.is_dir():
        maildirs = sorted(p for p in path.rglob("*") if _is_maildir(p))
        files = [p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in MAIL_SUFFIXES]
        return sorted(maildirs + files)
    raise IngestError(f"{path}: no such file or folder")


def count_mails(files: list[Path]) -> int:
    return sum(_mbox_size(f) if f.suffix.lower() == ".mbox" else _maildir_size(f) if f.is_dir() else 1
               for f in files)


def history_envelope(resolve_older_than_days: int | None = None) -> dict:
    """The envelope block that makes a mail history: its own Date, nothing sent (gateway.pipeline.history)."""
    return {"history": {"received_at": None, "resolve_older_than_days": resolve_older_than_days, "send": []}}


def read_mails(files: list[Path]) -> Iterator[RawMail]:
    for file in files:
        if file.is_dir():
            folder = mailbox.Maildir(file, factory=None, create=False)
            for key in sorted(folder.iterkeys()):
                yield RawMail(f"{file}/{key}", folder.get_bytes(key))
        elif file.suffix.lower() == ".mbox":
            box = mailbox.mbox(file, create=False)
            try:
                for position, key in enumerate(box.iterkeys(), start=1):
                    yield RawMail(f"{file}#{position}", box.get_bytes(key))
            finally:
                box.close()
        else:
            yield RawMail(str(file), file.read_bytes())


def envelope_for(runtime: Runtime, account_slug: str | None) -> dict:
    """As if delivered to the account's first address; without an account the headers decide."""
    if account_slug is None:
        return {"mail_from": "", "rcpt_tos": []}
    try:
        account = runtime.config.account(account_slug)
    except KeyError:
        raise IngestError(f"--account {account_slug}: no such account") from None
    if account.kind != "hosted":
        raise IngestError(f"--account {account_slug}: an external account receives no mail")
    return {"mail_from": "", "rcpt_tos": [account.addresses[0]], "account": account.slug}


def ingest_mail(runtime: Runtime, mail: RawMail, envelope: dict) -> IngestResult:
    """Store one mail through intake, process it, and report what became of it."""
    key = hashlib.sha256(mail.raw).hexdigest() + ":" + ",".join(envelope["rcpt_tos"])
    inbox_id = accept_raw(runtime, channel="cli", raw=mail.raw, envelope=envelope, dedupe_key=key)
    outbox_ids = process_inbox_item(runtime, inbox_id)
    with runtime.db.transaction() as session:
        item = session.get(InboxItem, inbox_id)
        return IngestResult(mail.source, inbox_id, item.status, item.error, tuple(outbox_ids))


def ingest(runtime: Runtime, files: list[Path], account_slug: str | None,
           progress: Callable[[IngestResult], None] = lambda _: None, history: dict | None = None
           ) -> list[IngestResult]:
    """Every mail of `files`, in order; `history` (see `history_envelope`) imports them as history."""
    envelope = {**envelope_for(runtime, account_slug), **(history or {})}
    results = []
    for mail in read_mails(files):
        result = ingest_mail(runtime, mail, envelope)
        progress(result)
        results.append(result)
    return results


def ingest_with_bar(runtime: Runtime, files: list[Path], account_slug: str | None, history: dict | None
                    ) -> tuple[list[IngestResult], float]:
    """`ingest` with a progress bar on stderr (count, rate, time left); the results and the seconds taken."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    started = time.monotonic()
    columns = (TextColumn("ingesting"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task("ingesting", total=count_mails(files))
        results = ingest(runtime, files, account_slug, progress=lambda _: bar.advance(task), history=history)
    return results, time.monotonic() - started


def summary_line(results: list[IngestResult], seconds: float, history: bool) -> str:
    """The final line: processed, queued, time and rate."""
    done = sum(r.status == "done" for r in results)
    queued = sum(len(r.outbox_ids) for r in results)
    rate = len(results) / seconds if seconds > 0 else 0.0
    return (f"{done} of {len(results)} mail(s) processed{' as history' if history else ''}, {queued} outbound "
            f"mail(s) queued, in {seconds:.1f} s ({rate:.1f} mails/s)")


def _is_maildir(path: Path) -> bool:
    return path.is_dir() and (path / "cur").is_dir() and (path / "new").is_dir()


def _maildir_size(path: Path) -> int:
    return len(mailbox.Maildir(path, factory=None, create=False))


def _mbox_size(file: Path) -> int:
    box = mailbox.mbox(file, create=False)
    try:
        return len(box)
    finally:
        box.close()
