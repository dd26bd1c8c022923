"""What every answer of the desk carries, and file names that cannot break a header."""

from __future__ import annotations

from gateway.web.ticket import content_disposition
from tests.web.conftest import World


def test_file_names_cannot_break_the_header() -> None:
    header = content_disposition('re"port\r\nSet-Cookie: x=1.pdf')
    assert "\r" not in header and "\n" not in header
    assert header.startswith('attachment; filename="re_port__Set-Cookie: x=1.pdf"; filename*=UTF-8\'\'')
    assert content_disposition("Störung.pdf").endswith("filename*=UTF-8''St%C3%B6rung.pdf")


def test_pages_refuse_framing_and_say_how_long_they_took(world: World) -> None:
    answer = world.browser().get("/sign-in")
    assert answer.headers["x-frame-options"] == "DENY"
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert answer.headers["server-timing"].startswith("app;dur=")
