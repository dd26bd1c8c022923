"""The building blocks of the config's sections: frozen models, HOST:PORT strings, secrets from the environment."""

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
