"""Behind trusted reverse proxies: the client's address (X-Forwarded-For read from the right) and the origin it
used (X-Forwarded-Proto and -Host), each read only from the proxies named in `[web] trusted_proxies`."""

from __future__ import annotations

from contextlib import ExitStack
from ipaddress import ip_network
from pathlib import Path

import httpx
import pytest

from gateway.core.runtime import Runtime
from gateway.web.forwarded import client_address, counted_as, forwarded_value
from tests.conftest import demo_config
from tests.web.desk_client import client, form_token, start_desk

PROXIES = (ip_network("10.0.0.0/8"), ip_network("192.0.2.10"), ip_network("fd00::/8"))
PUBLIC = "https://desk.vendor.example"  # where the browser is; the TLS proxy on 127.0.0.1 passes on to the desk
FROM_THE_PROXY = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "desk.vendor.example"}


def _desk(stack: ExitStack, tmp_path: Path, web: dict) -> str:
    """A desk on the demo world with these `[web]` settings, closed with `stack`; its base URL."""
    return start_desk(stack, stack.enter_context(Runtime.open(demo_config(tmp_path, web=web))))


def test_without_trusted_proxies_the_peer_is_the_client() -> None:
    assert client_address("198.51.100.4", ["203.0.113.7"], ()) == "198.51.100.4"
    assert client_address("198.51.100.4", [], PROXIES) == "198.51.100.4"


def test_a_header_from_a_peer_that_is_no_trusted_proxy_is_ignored() -> None:
    assert client_address("198.51.100.4", ["203.0.113.7, 10.0.0.5"], PROXIES) == "198.51.100.4"


def test_the_rightmost_untrusted_hop_through_two_trusted_proxies() -> None:
    """The client wrote 1.1.1.1 itself; the first proxy saw 203.0.113.7, the second saw the first (10.0.0.5)."""
    assert client_address("192.0.2.10", ["1.1.1.1, 203.0.113.7, 10.0.0.5"], PROXIES) == "203.0.113.7"
    assert client_address("192.0.2.10", ["1.1.1.1", "203.0.113.7, 10.0.0.5"], PROXIES) == "203.0.113.7", \
        "several headers are one list"


def test_a_trusted_proxy_without_the_header_is_the_client() -> None:
    assert client_address("10.0.0.5", [], PROXIES) == "10.0.0.5"
    assert client_address("10.0.0.5", ["10.0.0.9"], PROXIES) == "10.0.0.9", "all trusted: the leftmost is the origin"


def test_entries_that_are_no_address_are_skipped() -> None:
    for header in ("203.0.113.7, unknown", "203.0.113.7,,", "203.0.113.7, 999.1.1.1", "203.0.113.7, [::1",
                   "203.0.113.7, _hidden", "203.0.113.7, 10.0.0.5:http"):
        assert client_address("10.0.0.5", [header], PROXIES) == "203.0.113.7", header
    assert client_address("10.0.0.5", ["garbage"], PROXIES) == "10.0.0.5"
    assert client_address("unknown", ["203.0.113.7"], PROXIES) == "unknown", "no peer address: nothing to trust"


def test_ipv6_hops_ports_and_mapped_ipv4() -> None:
    assert client_address("fd00::1", ["2001:db8::7, fd00::2"], PROXIES) == "2001:db8::7"
    assert client_address("fd00::1", ["2001:DB8:0:0::7"], PROXIES) == "2001:db8::7", "one spelling, one key"
    assert client_address("fd00::1", ["[2001:db8::7]:4711"], PROXIES) == "2001:db8::7"
    assert client_address("10.0.0.5", ["203.0.113.7:4711"], PROXIES) == "203.0.113.7"
    assert client_address("::ffff:10.0.0.5", ["203.0.113.7"], PROXIES) == "203.0.113.7", "a dual-stack listener"
    assert client_address("::ffff:198.51.100.4", ["203.0.113.7"], PROXIES) == "198.51.100.4"
    assert client_address("2001:db8::9", ["203.0.113.7"], PROXIES) == "2001:db8::9"


@pytest.mark.parametrize("trusted", [["127.0.0.1"], []], ids=["behind-a-trusted-proxy", "no-trusted-proxy"])
def test_sign_in_requests_are_throttled_per_forwarded_client(tmp_path: Path, trusted: list[str]) -> None:
    """Two sign-in requests per client: behind the proxy on 127.0.0.1 each forwarded client has its own two."""
    web = {"trusted_proxies": trusted, "sign_in_per_client_per_hour": 2, "base_url": "http://desk.test"}
    with ExitStack() as stack:
        base = _desk(stack, tmp_path, web)

        def ask(forwarded_for: str) -> int:
            desk = client(stack, base)
            desk.client.headers["X-Forwarded-For"] = forwarded_for
            return desk.post("/sign-in", {"email": "mallory@evil.example"}).status_code

        first = [ask("203.0.113.7") for _ in range(3)]
        other = ask("1.1.1.1, 203.0.113.8")
        rotating = [ask(f"2001:db8:1:2::{n}") for n in range(1, 4)]  # one subscriber's /64
        next_door = ask("2001:db8:1:3::1")
    assert first == [200, 200, 429]
    assert other == (200 if trusted else 429), "another client, or the same peer with a made-up header"
    if trusted:
        assert rotating == [200, 200, 429], "new addresses in the same /64 are the same client"
        assert next_door == 200, "another /64 is another client"


def test_ipv6_clients_count_per_64_and_ipv4_per_address() -> None:
    assert counted_as("203.0.113.7") == "203.0.113.7"
    assert counted_as("2001:db8:1:2::7") == counted_as("2001:db8:1:2:ffff::1") == "2001:db8:1:2::/64"
    assert counted_as("2001:db8:1:3::7") != counted_as("2001:db8:1:2::7")
    assert counted_as("unknown") == "unknown"


def test_forwarded_proto_and_host_are_read_from_trusted_proxies_only() -> None:
    assert forwarded_value("10.0.0.5", ["https"], PROXIES) == "https"
    assert forwarded_value("198.51.100.4", ["https"], PROXIES) is None, "anyone else could name any origin"
    assert forwarded_value("unknown", ["https"], PROXIES) is None
    assert forwarded_value("10.0.0.5", ["evil.example, desk.vendor.example"], PROXIES) == "desk.vendor.example", \
        "the rightmost entry is the one the trusted peer wrote"
    assert forwarded_value("10.0.0.5", ["evil.example", "desk.vendor.example"], PROXIES) == "desk.vendor.example"
    assert forwarded_value("10.0.0.5", [], PROXIES) is None
    assert forwarded_value("10.0.0.5", ["https, "], PROXIES) is None


def _sign_out(base: str, origin: str, headers: dict[str, str]) -> httpx.Response:
    """A form posted from `origin` with the session's own form token, arriving with `headers`."""
    page = httpx.get(f"{base}/sign-in", timeout=30)
    cookie = page.headers["set-cookie"].partition(";")[0]  # sent by hand: a Secure cookie stays off plain http
    return httpx.post(f"{base}/sign-out", data={"csrf": form_token(page)}, timeout=30,
                      headers={"Origin": origin, "Cookie": cookie, **headers})


@pytest.mark.parametrize("base_url", [PUBLIC, f"{PUBLIC}:443", None], ids=["base_url", "base_url-443", "no-base_url"])
def test_form_posts_through_a_trusted_tls_proxy_are_taken(tmp_path: Path, base_url: str | None) -> None:
    """The desk sees http://127.0.0.1 from the proxy, the browser posts from https://desk.vendor.example."""
    web = {"trusted_proxies": ["127.0.0.1"], **({"base_url": base_url} if base_url else {})}
    with ExitStack() as stack:
        base = _desk(stack, tmp_path, web)
        forwarded = _sign_out(base, PUBLIC, FROM_THE_PROXY)
        proto_only = _sign_out(base, PUBLIC, {"X-Forwarded-Proto": "https", "Host": "desk.vendor.example"})
        cross_site = _sign_out(base, "https://evil.example", FROM_THE_PROXY)
        direct = _sign_out(base, base, {})
    assert forwarded.status_code == 303
    assert proto_only.status_code == 303, "a proxy that passes the Host on and sets only X-Forwarded-Proto"
    assert cross_site.status_code == 403
    assert direct.status_code == 303, "the desk reached directly, without the proxy"
    assert ("Secure" in forwarded.headers["set-cookie"]) == bool(base_url), "Secure by base_url, not the scheme seen"


@pytest.mark.parametrize("base_url", [PUBLIC, None], ids=["base_url", "no-base_url"])
def test_forwarded_headers_from_an_untrusted_peer_are_ignored(tmp_path: Path, base_url: str | None) -> None:
    web = {"trusted_proxies": ["10.0.0.0/8"], **({"base_url": base_url} if base_url else {})}
    with ExitStack() as stack:
        base = _desk(stack, tmp_path, web)
        forged = _sign_out(base, "https://evil.example",
                           {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "evil.example"})
        public = _sign_out(base, PUBLIC, FROM_THE_PROXY)
        cross_site = _sign_out(base, "https://evil.example", {})
        direct = _sign_out(base, base, FROM_THE_PROXY)
    assert forged.status_code == 403
    assert public.status_code == (303 if base_url else 403), "only base_url names the public origin here"
    assert cross_site.status_code == 403
    assert direct.status_code == 303
