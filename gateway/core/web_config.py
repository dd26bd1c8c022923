"""The `[web]` section: where the web desk listens, its public address, who may operate it, its limits,
and the reverse proxies in front of it."""

from __future__ import annotations

import re
from ipaddress import IPv4Network, IPv6Network, ip_address, ip_network

from pydantic import Field, field_validator

from gateway.core.config_types import HostPort, Section, host_port


class WebConfig(Section):
    """The web desk and the customers' status pages (SPEC §12)."""

    listen: HostPort = "127.0.0.1:8025"
    base_url: str | None = None  # public address for links in mail; None: sign-in links on `listen`, no status links
    operators: tuple[str, ...] = ()  # addresses that may open /ops
    sign_in_link_minutes: int = Field(default=15, ge=1, le=24 * 60)
    session_hours: float = Field(default=12.0, gt=0, le=24 * 30)
    sign_in_per_address_per_hour: int = Field(default=5, ge=1)
    sign_in_per_client_per_hour: int = Field(default=20, ge=1)
    status_page_per_client_per_minute: int = Field(default=30, ge=1)
    trusted_proxies: tuple[IPv4Network | IPv6Network, ...] = ()  # whose X-Forwarded-For/-Proto/-Host are believed

    @field_validator("base_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not re.match(r"^https?://[^/\s]+(/\S*)?$", value):
            raise ValueError("must be an http:// or https:// address, e.g. https://desk.example.com")
        return value.rstrip("/")

    @field_validator("operators")
    @classmethod
    def _addresses(cls, values: tuple[str, ...]) -> tuple[str, ...]:
        lowered = tuple(v.strip().lower() for v in values)
        for value in lowered:
            if "@" not in value:
                raise ValueError(f"{value!r} is not an email address")
        return lowered

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _networks(cls, values: object) -> object:
        """Addresses and CIDR networks; one with host bits set (10.0.0.1/8) is refused as a likely typo."""
        if not isinstance(values, list | tuple):
            return values  # pydantic says what the value should be
        networks = []
        for value in values:
            try:
                networks.append(ip_network(str(value).strip()))
            except ValueError:
                raise ValueError(f"{value!r} is neither an address (10.0.0.5) nor a network (10.0.0.0/8)") from None
        return tuple(networks)

    @property
    def address(self) -> tuple[str, int]:
        return host_port(self.listen)

    @property
    def sign_in_base(self) -> str | None:
        """Where mailed sign-in links point: `base_url`, else `listen` when it names one address, else None.

        Only ever configuration, never a request's Host header: anyone can send one, and a sign-in link
        to a host of their choosing would hand them the token.  A wildcard bind (0.0.0.0, ::) or port 0
        names no address a link could point at.  (Customers' status links need `base_url`: an agent may
        reach the listen address, a customer will not.)
        """
        if self.base_url:
            return self.base_url
        host, port = self.address
        if port == 0 or _is_wildcard(host):
            return None
        return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"

    def no_link_address(self) -> str:
        """Why `sign_in_base` is None, in the words the log, `web-link` and the doctor all use."""
        return f"web.listen {self.listen} names no address a link could point at: set web.base_url"

    @property
    def secure_cookies(self) -> bool:
        """Cookies marked Secure when the desk is reached over https."""
        return (self.base_url or "").startswith("https://")


def _is_wildcard(host: str) -> bool:
    try:
        return ip_address(host).is_unspecified
    except ValueError:  # a name, such as localhost
        return False
