"""The building blocks of the config's sections: frozen models, HOST:PORT strings, secrets from the environment.

Secrets are written as `env:NAME` or literally.  The HMAC secret (`Secret`)
is read when the config loads: every command that signs or checks a reply
token needs it.  A channel's secrets (`ChannelSecret`: an IMAP password, the
bot token, the smarthost's and SMTP AUTH passwords) are kept as written and
read by `reveal` when the channel connects, so a command that never connects
(`relaydesk tickets`) does not need them; `serve`, `worker` and `doctor`
check them all at start (gateway.core.secret_check).
"""

from __future__ import annotations

import os
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict


class Section(BaseModel):
    """A config table: unknown keys are errors, values never change after loading."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def _resolve_secret(value: str) -> str:
    """`env:NAME` → the variable's value; anything else is taken literally."""
    if not value.startswith("env:"):
        return value
    name = value[4:]
    if name not in os.environ:
        raise ValueError(f"environment variable {name} is not set")
    return os.environ[name]


def _secret_form(value: str) -> str:
    if value.startswith("env:") and not value[4:]:
        raise ValueError("env: needs the name of an environment variable")
    return value


def reveal(value: str) -> str:
    """A channel's secret as configured: `env:NAME` read from the environment now (ValueError when unset)."""
    return _resolve_secret(value)


def host_port(value: str) -> tuple[str, int]:
    host, sep, port = value.rpartition(":")
    if not sep or not port.isdigit():
        raise ValueError(f"expected HOST:PORT, got {value!r}")
    return host.strip("[]") or "127.0.0.1", int(port)


def _checked_host_port(value: str) -> str:
    host_port(value)
    return value


HostPort = Annotated[str, AfterValidator(_checked_host_port)]
"""A `HOST:PORT` string, checked when the config loads."""

Secret = Annotated[str, AfterValidator(_resolve_secret)]
"""A secret: `env:NAME` is read from the environment, anything else is taken literally."""

ChannelSecret = Annotated[str, AfterValidator(_secret_form)]
"""A channel's secret, kept as written (`env:NAME`) and read by `reveal` when the channel connects."""
