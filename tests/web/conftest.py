"""A live API per test over the demo world, on SQLite and PostgreSQL, mail going to an SMTP sink."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from gateway.core.runtime import Runtime
from tests.e2e.mail_clients import new_mail
from tests.e2e.people import ALICE, VENDOR
from tests.smtp_sink import SmtpSink
from tests.web.live import LiveApi, web_config


@pytest.fixture
def api(db_url: str, tmp_path: Path, sink: SmtpSink) -> Iterator[LiveApi]:
    runtime = Runtime.open(web_config(tmp_path, db_url, sink.port))
    try:
        with LiveApi(runtime) as live:
            yield live
    finally:
        runtime.close()


def open_ticket(api: LiveApi, subject: str = "Printer jams", sender=ALICE, to: str = VENDOR) -> None:
    """A customer's mail opens a ticket, as over SMTP."""
    api.receive(new_mail(sender, [to], subject, "It jams on every page."))
    api.settle()
