"""Sign-in links, sessions and form protection, over HTTP against a running desk."""

from __future__ import annotations

import time
from contextlib import ExitStack
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from sqlalchemy import select

from gateway.core.runtime import Runtime
from gateway.outbound.outbox import rendered_mail
from gateway.web.auth import SESSION_COOKIE, sign_in_token
from storage.models import OutboxItem
from tests.conftest import demo_config
from tests.e2e.harness import free_port
from tests.web.conftest import OPERATOR, World
from tests.web.desk_client import form_token, start_desk

DANA = "dana@vendor.example"


def _sign_in_mails(world: World, to: str) -> list[bytes]:
    """The sign-in mail queued to `to` as it will leave, oldest first."""
    with world.runtime.db.transaction() as session:
        items = session.scalars(select(OutboxItem).where(OutboxItem.recipient == to, OutboxItem.kind == "sign_in")
                                .order_by(OutboxItem.id)).all()
        return [rendered_mail(world.runtime.blobs, item) for item in items]


def _mailed_links(world: World, to: str) -> list[str]:
    """The sign-in links in the mail queued to `to`, oldest first."""
    links = []
    for raw in _sign_in_mails(world, to):
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


@pytest.mark.parametrize("base_url", ["http://desk.test", None], ids=["base_url", "listen"])
def test_a_forged_host_header_never_reaches_the_mailed_link(tmp_path: Path, base_url: str | None) -> None:
    """Anyone may ask for dana's link with `Host: evil.example`; her mail still points at this desk only."""
    port = free_port()
    web = {"listen": f"127.0.0.1:{port}", **({"base_url": base_url} if base_url else {})}
    runtime = Runtime.open(demo_config(tmp_path, web=web))
    with ExitStack() as stack:
        stack.callback(runtime.close)
        world = World(runtime, start_desk(stack, runtime), stack)
        desk = world.browser()
        forged = desk.client.post("/sign-in", data={"email": DANA, "csrf": desk.token()},
                                  headers={"Host": "evil.example", "Origin": "http://evil.example"})
        assert forged.status_code == 200 and "Check your mail" in forged.text
        [raw] = _sign_in_mails(world, DANA)
        [link] = _mailed_links(world, DANA)
    assert b"evil.example" not in raw
    assert link.startswith(f"{base_url or f'http://127.0.0.1:{port}'}/sign-in/")


def test_with_no_address_to_link_to_the_form_asks_for_base_url(tmp_path: Path) -> None:
    """Listening on port 0 (or on 0.0.0.0) names no address: nothing is mailed, and everybody is told why."""
    runtime = Runtime.open(demo_config(tmp_path))  # web.listen 127.0.0.1:0, no base_url
    with ExitStack() as stack:
        stack.callback(runtime.close)
        world = World(runtime, start_desk(stack, runtime), stack)
        answers = [world.browser().post("/sign-in", {"email": email}) for email in (DANA, "mallory@evil.example")]
        assert _sign_in_mails(world, DANA) == []
    for answer in answers:  # the same for an agent and a stranger: it tells nobody who works here
        assert answer.status_code == 503 and "[web] base_url" in answer.text


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
