"""`/metrics` scraped over HTTP and read with prometheus_client's own parser."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

from tests.web.conftest import open_ticket
from tests.web.live import LiveApi


def _samples(api: LiveApi) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = api.client().get("/metrics")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(response.text) for s in family.samples}


def test_metrics_show_the_mail_just_taken_in(api: LiveApi) -> None:
    before = _samples(api)
    assert before.get(("relaydesk_inbound_total", (("channel", "smtp"), ("outcome", "done")))) is None
    for number in range(3):
        open_ticket(api, f"Request {number}")
    after = _samples(api)
    assert after[("relaydesk_inbound_total", (("channel", "smtp"), ("outcome", "done")))] == 3
    assert after[("relaydesk_deliveries_total", (("channel", "email"), ("outcome", "sent")))] == 1  # one ack per sender and hour
    assert after[("relaydesk_tickets", (("account", "vendor"), ("status", "new")))] == 3
    assert after[("relaydesk_processed_last_hour", ())] == 3
    assert ("relaydesk_processing_latency_seconds", (("quantile", "0.95"),)) in after
    assert after[("relaydesk_channel_state", (("channel", "smtp in"),))] == 0
    assert after[("relaydesk_channel_seconds_since_activity", (("channel", "smtp in"),))] < 60
    assert api.client().get("/healthz").json() == {"status": "alive"}


def test_metrics_count_rejections_open_links_and_never_show_content(api: LiveApi) -> None:
    open_ticket(api, "Secret printer model X-9000")
    client = api.client(api.token("vendor"))
    client.post("/api/v1/tickets/VND-1/handoff", json={"partner": "partner"})
    text = api.client().get("/metrics").text
    samples = _samples(api)
    assert samples[("relaydesk_open_links", (("account", "vendor"), ("partner", "partner")))] == 1
    assert "X-9000" not in text and "alice" not in text
