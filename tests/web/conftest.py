"""Fixtures of the web tests: the demo world with its desk on a free port (`world`), a live API (`api`).

Both run on SQLite and PostgreSQL (the `db_url` fixture).
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import pytest

from gateway.core.config import parse_config
from gateway.core.runtime import Runtime
from tests.conftest import demo_config_text
from tests.e2e.mail_clients import new_mail
from tests.e2e.people import ALICE, VENDOR
from tests.smtp_sink import SmtpSink
from tests.web.desk_client import Desk, client, start_desk
from tests.web.live import LiveApi, web_config

OPERATOR = "olga@ops.example"
RIVAL_AGENT = "rita@rival.example"


@dataclass
class World:
    runtime: Runtime
    base: str
    stack: ExitStack

    def browser(self) -> Desk:
        """A new client with no cookies: one more browser."""
        return client(self.stack, self.base)


@pytest.fixture
def world(db_url: str, tmp_path: Path) -> Iterator[World]:
    """demo.toml plus an unrelated hosted account (rival) and an operator, with the desk running."""
    data = tomllib.loads(demo_config_text(tmp_path))
    data["storage"]["url"] = db_url
    data["accounts"].append({"slug": "rival", "name": "Rival Service", "prefix": "RIV",
                             "addresses": ["help@rival.example"],
                             "agents": [{"name": "Rita Rival", "email": RIVAL_AGENT}]})
    data["web"] = {"listen": "127.0.0.1:0", "base_url": "http://desk.test", "operators": [OPERATOR]}
    runtime = Runtime.open(parse_config(data))
    with ExitStack() as stack:
        stack.callback(runtime.close)
        yield World(runtime, start_desk(stack, runtime), stack)


@pytest.fixture
def api(db_url: str, tmp_path: Path, sink: SmtpSink) -> Iterator[LiveApi]:
    """The API of the demo world over HTTP, its mail going to the sink."""
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
