"""`relaydesk serve`/`worker` refuse to start with a clear message instead of a traceback."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from gateway.app.process import ServeError
from gateway.app.serve import run_serve
from tests.conftest import demo_config


def test_busy_smtp_port_is_reported_by_its_key(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(ServeError, match=rf"smtp.listen: cannot listen on 127.0.0.1:{port}"):
            run_serve(demo_config(tmp_path, smtp_port=port))


def test_unreachable_database_is_reported_by_its_key(tmp_path: Path) -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]  # bound, never listening: connections are refused
        config = demo_config(tmp_path, f"postgresql+psycopg://nobody@127.0.0.1:{port}/none")
        with pytest.raises(ServeError, match="storage.url: cannot open the database"):
            run_serve(config)
