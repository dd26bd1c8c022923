"""The HMAC secret of an installation that configured none: generated once, kept in the data directory.

Reply tokens, VERP addresses and body markers are signed with it; a secret
shared by every installation on defaults (the example config's) would let
anyone forge them.  So without `security.secret` (and without
$RELAYDESK_SECRET) the first start writes a random one next to the data,
readable by the owner only, says so, and every later start reads it back.
It belongs with the data: a new secret invalidates the tokens in mail
already sent.
"""

from __future__ import annotations

import logging
import os
import secrets
from pathlib import Path

from gateway.core.config import Config

log = logging.getLogger("relaydesk")

FILE_NAME = "relaydesk.secret"


def secret_path(config: Config) -> Path:
    """Where the generated secret lives: beside the blob store, in the data directory."""
    return Path(config.storage.blobs).parent / FILE_NAME


def with_secret(config: Config) -> Config:
    """`config` with a secret: as configured, else the data directory's (made now if there is none)."""
    if config.security.secret is not None:
        return config
    secret = read_or_create(secret_path(config))
    return config.model_copy(update={"security": config.security.model_copy(update={"secret": secret})})


def read_or_create(path: Path) -> str:
    """The secret in `path`; a new random one written there first if the file does not exist.

    O_EXCL makes two processes starting at once agree: one writes, the other reads.
    """
    try:
        return _read(path)
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_urlsafe(32)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return _read(path)
    with os.fdopen(descriptor, "w", encoding="ascii") as file:
        file.write(secret + "\n")
        file.flush()
        os.fsync(file.fileno())
    log.warning("relaydesk: no security.secret configured; generated a random one into %s (keep it with the "
                "data: reply tokens in mail already sent depend on it)", path)
    return secret


def _read(path: Path) -> str:
    secret = path.read_text(encoding="ascii").strip()
    if len(secret) < 16:
        raise ValueError(f"{path}: the secret in it is shorter than 16 characters")
    return secret
