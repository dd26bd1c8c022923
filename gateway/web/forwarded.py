"""What reverse proxies (`[web] trusted_proxies`) say of the client: its address, the scheme and host it used.

Behind a proxy every request comes from the proxy's address, so one
client's requests and everybody else's would share one window.  Each proxy
appends the address it was reached from to X-Forwarded-For, so the header
is read from the right: past the trusted proxies, the first address is the
one a trusted proxy saw, the client.  Everything to its left was written by
the client and proves nothing; from a peer that is not a trusted proxy the
header is not read at all, or anyone could choose the address they are
counted under.

Behind a TLS-terminating proxy the desk is asked for http://127.0.0.1:8025
while the browser is on https://desk.example; X-Forwarded-Proto and
X-Forwarded-Host say so, and are believed on the same terms.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address

Address = IPv4Address | IPv6Address
Network = IPv4Network | IPv6Network


def client_address(peer: str, forwarded_for: Iterable[str], trusted: Sequence[Network]) -> str:
    """The address a request counts under: `peer`, or when it is a trusted proxy, the rightmost untrusted hop.

    `forwarded_for` holds the X-Forwarded-For headers as received (several are one list, in order).
    Entries that are no address (a proxy's `unknown`, garbage) are skipped.  When every hop is trusted,
    the leftmost is the origin.  Addresses come back in one spelling, so one client has one key.
    """
    hop = _parse(peer)
    if hop is None:
        return peer
    if not _is_trusted(hop, trusted):
        return str(hop)
    entries = [entry for header in forwarded_for for entry in header.split(",")]
    for entry in reversed(entries):
        parsed = _parse(entry.strip())
        if parsed is None:
            continue
        hop = parsed
        if not _is_trusted(hop, trusted):
            break
    return str(hop)


def counted_as(address: str) -> str:
    """The share of the limits an address counts under: itself, or for IPv6 its /64.

    An IPv6 client is handed a whole /64 and may rotate through it at will
    (privacy addresses do so on their own), so per address it could dodge
    every per-client limit; the /64 is one subscriber.
    """
    parsed = _parse(address)
    if isinstance(parsed, IPv6Address):
        return str(IPv6Network((parsed, 64), strict=False))
    return address


def forwarded_value(peer: str, headers: Iterable[str], trusted: Sequence[Network]) -> str | None:
    """X-Forwarded-Proto's or -Host's value as the trusted peer wrote it; None from any other peer, or unsent.

    `headers` as received (several are one list).  The rightmost entry is the peer's own; any to its
    left were written farther away, by a proxy or by the client.
    """
    hop = _parse(peer)
    if hop is None or not _is_trusted(hop, trusted):
        return None
    entries = [entry.strip() for header in headers for entry in header.split(",")]
    return entries[-1] if entries and entries[-1] else None


def _is_trusted(address: Address, trusted: Sequence[Network]) -> bool:
    return any(address.version == network.version and address in network for network in trusted)


def _parse(text: str) -> Address | None:
    """An address as proxies write it: bare, `[v6]`, or with a port (`v4:port`, `[v6]:port`); None if it is none.

    An IPv4 address in IPv6 form (a dual-stack listener's `::ffff:10.0.0.5`) is taken as the IPv4 address,
    so that `10.0.0.0/8` covers it.
    """
    if text.startswith("["):
        text, closed, port = text[1:].partition("]")
        if not closed or (port and not (port.startswith(":") and port[1:].isdigit())):
            return None
    elif text.count(":") == 1:
        text, _, port = text.partition(":")
        if not port.isdigit():
            return None
    try:
        address = ip_address(text)
    except ValueError:
        return None
    if isinstance(address, IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address
