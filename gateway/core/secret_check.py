"""Which channel secrets cannot be read now: `serve`, `worker` and `doctor` say so at start, by key."""

from __future__ import annotations

from gateway.core.config_types import reveal
from gateway.core.config import Config


def missing_secrets(config: Config, *, pollers: bool = True) -> list[str]:
    """`key: reason` for each channel secret that cannot be read now (without `pollers`: IMAP and the bot's
    polling left to other processes, yet the bot's token still sends)."""
    wanted: list[tuple[str, str | None]] = [("outbound.password", config.outbound.password)]
    wanted += [(f"smtp.auth_users.{user}", secret) for user, secret in config.smtp.auth_users.items()]
    wanted += [(f"accounts[{i}].webhooks[{j}].secret", hook.secret)
               for i, account in enumerate(config.accounts) for j, hook in enumerate(account.webhooks)]
    if pollers:
        wanted += [(f"imap[{i}].password", box.password) for i, box in enumerate(config.imap)]
    if config.telegram is not None:
        wanted.append(("telegram.token", config.telegram.token))
    missing = []
    for key, secret in wanted:
        if secret is None:
            continue
        try:
            reveal(secret)
        except ValueError as exc:
            missing.append(f"{key}: {exc}")
    return missing
