"""Sign-in links, sessions and form protection, over HTTP against a running desk."""

from __future__ import annotations

import time
from email import message_from_bytes, policy

import pytest
from sqlalchemy import select

from gateway.web.auth import SESSION_COOKIE, sign_in_token
from storage.models import OutboxItem
from tests.web.conftest import OPERATOR, World
from tests.web.desk_client import form_token

DANA = "dana@vendor.example"


def _mailed_links(world: World, to: str) -> list[str]:
    """The sign-in links in the mail queued to `to`, oldest first."""
    with world.runtime.db.transaction() as session:
        items = session.scalars(select(OutboxItem).where(OutboxItem.recipient == to, OutboxItem.kind == "sign_in")
                                .order_by(OutboxItem.id)).all()
        payloads = [world.runtime.blobs.get(item.payload_sha256) for item in items]
    links = []
    for raw in payloads:
        mail = message_from_bytes(raw, policy=policy.default)
        assert mail["From"].addresses[0].addr_spec == "support@vendor.example"
        assert mail["Auto-Submitted"] == "auto-replied"
        body = mail.get_body(("plain",)).get_content()
        links += [word for word in body.split() if "/sign-in/" in word]
    return links


def test_a_mailed_link_signs_in_once(world: World) -> None:
    desk = world.browser()
    assert desk.get("/").headers["location"] == "/sign-in"
    asked = desk.post("/sign-in", {"email": "Dana@Vendor.example"})
    assert asked.status_code == 200 and "Check your mail" in asked.text
    [link] = _mailed_links(world, DANA)
    assert link.startswith("http://desk.test/sign-in/"), "links in mail use [web] base_url"
    path = link.removeprefix("http://desk.test")
    confirm = desk.get(path)
    assert confirm.status_code == 200, "opening the link only shows a button (mail scanners fetch links)"
    assert desk.get("/").status_code == 303
    signed = desk.post(path, token=form_token(confirm))
    assert signed.status_code == 303 and signed.headers["location"] == "/"
    cookie = signed.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Secure" not in cookie
    assert desk.get("/").status_code == 200

    again = world.browser()
    refused = again.post(path, token=form_token(again.get(path)))
    assert refused.status_code == 403 and "not valid" in refused.text, "a link works once"
    assert again.get("/").status_code == 303

    desk.post("/sign-out")
    assert desk.get("/").status_code == 303


def test_strangers_get_the_same_answer_and_no_mail(world: World) -> None:
    desk = world.browser()
    answer = desk.post("/sign-in", {"email": "mallory@evil.example"})
    assert answer.status_code == 200 and "Check your mail" in answer.text
    assert _mailed_links(world, "mallory@evil.example") == []


def test_forged_and_expired_links_are_refused(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    config = world.runtime.config
    genuine = sign_in_token(config, DANA)
    real_time = time.time
    monkeypatch.setattr("itsdangerous.timed.time.time", lambda: real_time() - 3600)
    expired = sign_in_token(config, DANA)
    monkeypatch.undo()
    tampered = genuine[:-2] + ("AA" if not genuine.endswith("AA") else "BB")
    other_key = sign_in_token(config.model_copy(update={"security": config.security.model_copy(
        update={"secret": "another-secret-of-another-desk"})}), DANA)
    for token in (expired, tampered, other_key, "nonsense"):
        desk = world.browser()
        path = f"/sign-in/{token}"
        answer = desk.post(path, token=form_token(desk.get(path)))
        assert answer.status_code == 403, token
        assert desk.get("/").status_code == 303


def test_sign_in_requests_are_rate_limited_per_address(world: World) -> None:
    limit = world.runtime.config.web.sign_in_per_address_per_hour
    for _ in range(limit + 2):
        world.browser().post("/sign-in", {"email": DANA})
    assert len(_mailed_links(world, DANA)) == limit


def test_cross_site_posts_are_refused(world: World) -> None:
    desk = world.browser()
    desk.sign_in(world.runtime.config, DANA)
    token = desk.token()
    evil = desk.post("/t/VND-1/status", {"status": "closed"}, token=token, origin="http://evil.example")
    assert evil.status_code == 403
    no_token = desk.client.post("/sign-out", data={}, headers={"Origin": desk.base})
    assert no_token.status_code == 403
    stolen = world.browser()
    stolen_token = stolen.token()  # a token of another session does not pass for this one
    assert desk.post("/sign-out", token=stolen_token).status_code == 403
    assert desk.get("/").status_code == 200, "still signed in: the refused posts did nothing"


def test_the_operator_screen_is_for_operators_only(world: World) -> None:
    dana = world.browser()
    dana.sign_in(world.runtime.config, DANA)
    assert dana.get("/ops").status_code == 404
    olga = world.browser()
    olga.sign_in(world.runtime.config, OPERATOR)
    assert olga.get("/").headers["location"] == "/ops", "an operator who is no agent has no chains"
    page = olga.get("/ops")
    assert page.status_code == 200 and "Parked mail" in page.text and "SMTP" in page.text
    assert olga.get("/t/VND-1").status_code == 404


def test_session_cookie_is_signed(world: World) -> None:
    desk = world.browser()
    desk.sign_in(world.runtime.config, DANA)
    value = desk.client.cookies[SESSION_COOKIE]
    assert world.browser().client.get("/", headers={"Cookie": f"{SESSION_COOKIE}={value}"}).status_code == 200
    forged = value[:-3] + ("xyz" if not value.endswith("xyz") else "abc")
    assert world.browser().client.get("/", headers={"Cookie": f"{SESSION_COOKIE}={forged}"}).status_code == 303
