"""`/api/v1/health`: Up while everything answers; an IMAP folder that stops answering is Down (503)."""

from __future__ import annotations

from contextlib import ExitStack
from pathlib import Path

from gateway.channels.imap.poller import ImapChannel
from gateway.core.runtime import Runtime
from tests.channels.imap.dovecot import PASSWORD, dovecot
from tests.e2e.harness import wait_until
from tests.smtp_sink import SmtpSink
from tests.web.live import LiveApi, web_config

SUPPORT = "support@vendor.example"
POLL_SECONDS = 0.5


def _folder(health: dict) -> dict:
    return next(c for c in health["components"] if c["name"].startswith("imap ") and c["name"].endswith("/INBOX"))


def test_an_imap_folder_that_stops_answering_is_down(db_url: str, tmp_path: Path, sink: SmtpSink) -> None:
    with ExitStack() as imap:
        server = imap.enter_context(dovecot([SUPPORT]))
        box = {"account": "vendor", "host": server.host, "port": server.port, "security": "none", "user": SUPPORT,
               "password": PASSWORD, "poll_seconds": POLL_SECONDS}
        runtime = Runtime.open(web_config(tmp_path, db_url, sink.port, imap=[box]))
        channel = ImapChannel(runtime, enqueue=lambda _: None)
        live = LiveApi(runtime).__enter__()
        try:
            channel.start()
            client = live.client()
            up = wait_until(lambda: (h := client.get("/api/v1/health")).status_code == 200
                            and _folder(h.json())["state"] == "up" and h.json(), 20, "the folder to answer")
            assert up["state"] in ("up", "slow")  # the smarthost has sent nothing yet: no rhythm to miss
            assert {c["name"] for c in up["components"]} >= {"database", "broker", "work", "smtp in", "smtp out"}
            assert _folder(up)["expected_interval_seconds"] == POLL_SECONDS
            imap.close()  # Dovecot goes away; the poller keeps trying
            down = wait_until(lambda: (h := client.get("/api/v1/health")).status_code == 503 and h.json(), 30,
                              "the folder to be reported down")
            assert down["state"] == "down" and _folder(down)["state"] == "down"
            assert _folder(down)["seconds_since_activity"] > 10 * POLL_SECONDS
        finally:
            channel.stop()
            live.__exit__(None, None, None)
            runtime.close()
