"""Tokens: 401 without a valid one, 403 for a read token writing, 404 for another account's tickets."""

from __future__ import annotations

from gateway.core.api_tokens import revoke
from storage.api_models import ApiToken
from sqlalchemy import select
from tests.e2e.people import PARTNER, PAUL
from tests.web.conftest import open_ticket
from tests.web.live import LiveApi


def _error(response) -> tuple[int, str]:
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message"}, body
    return response.status_code, body["error"]["code"]


def test_missing_unknown_and_revoked_tokens_are_401(api: LiveApi) -> None:
    open_ticket(api)
    assert _error(api.client().get("/api/v1/tickets")) == (401, "unauthenticated")
    assert _error(api.client("rdk_not-a-token").get("/api/v1/tickets")) == (401, "unauthenticated")
    token = api.token("vendor", "read")
    assert api.client(token).get("/api/v1/tickets").status_code == 200
    with api.runtime.db.transaction() as session:
        revoke(session, max(session.scalars(select(ApiToken.id))))
    response = api.client(token).get("/api/v1/tickets/VND-1")
    assert _error(response) == (401, "unauthenticated")
    assert response.headers["www-authenticate"] == "Bearer"


def test_a_read_token_cannot_write(api: LiveApi) -> None:
    open_ticket(api)
    reader = api.client(api.token("vendor", "read"))
    assert reader.get("/api/v1/tickets/VND-1").status_code == 200
    for path, body in (("/messages", {"text": "hello"}), ("/status", {"status": "pending"}),
                       ("/handoff", {"partner": "partner"}), ("/rating", {"rating": 5})):
        assert _error(reader.post(f"/api/v1/tickets/VND-1{path}", json=body)) == (403, "forbidden"), path
    with api.runtime.db.transaction() as session:
        assert session.scalar(select(ApiToken.last_used_at)) is not None


def test_another_accounts_tickets_are_404_for_reading_and_writing(api: LiveApi) -> None:
    open_ticket(api)
    open_ticket(api, "Partner's own customer", to=PARTNER)
    vendor = api.client(api.token("vendor"))
    partner = api.client(api.token("partner"))
    assert [t["ref"] for t in vendor.get("/api/v1/tickets").json()["items"]] == ["VND-1"]
    assert [t["ref"] for t in partner.get("/api/v1/tickets").json()["items"]] == ["PTN-1"]
    for path in ("/api/v1/tickets/VND-1", "/api/v1/tickets/VND-1/chain"):
        assert _error(partner.get(path)) == (404, "not_found")
    assert _error(partner.post("/api/v1/tickets/VND-1/messages", json={"text": "mine now"})) == (404, "not_found")
    assert _error(partner.post("/api/v1/tickets/VND-1/status", json={"status": "closed"})) == (404, "not_found")
    assert _error(vendor.get("/api/v1/tickets/PTN-1")) == (404, "not_found")
    # The same object as a missing one: nothing tells another account's ticket exists.
    assert partner.get("/api/v1/tickets/VND-1").json() == partner.get("/api/v1/tickets/VND-999").json() | {
        "error": {"code": "not_found", "message": "no ticket VND-1"}}
    assert vendor.get("/api/v1/tickets/VND-1").json()["messages"][0]["from"] == "alice@client.example"
    assert PAUL.email not in str(partner.get("/api/v1/events").json())
    assert "VND-1" not in str(partner.get("/api/v1/events").json())
