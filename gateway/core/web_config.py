"""The `[web]` section: where the web desk listens, its public address, who may operate it, its limits."""

from __future__ import annotations

import re

from pydantic import Field, field_validator

from gateway.core.config_types import HostPort, Section, host_port


class WebConfig(Section):
    """The web desk and the customers' status pages (SPEC §12)."""

    listen: HostPort = "127.0.0.1:8025"
    base_url: str | None = None  # public address used in links inside mail; None: no links in mail
    operators: tuple[str, ...] = ()  # addresses that may open /ops
    sign_in_link_minutes: int = Field(default=15, ge=1, le=24 * 60)
    session_hours: float = Field(default=12.0, gt=0, le=24 * 30)
    sign_in_per_address_per_hour: int = Field(default=5, ge=1)
    sign_in_per_client_per_hour: int = Field(default=20, ge=1)
    status_page_per_client_per_minute: int = Field(default=30, ge=1)

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

    @property
    def address(self) -> tuple[str, int]:
        return host_port(self.listen)

    @property
    def secure_cookies(self) -> bool:
        """Cookies marked Secure when the desk is reached over https."""
        return (self.base_url or "").startswith("https://")
