"""The doctor's safety rows: the HMAC secret, the channels' secrets, an SMTP listener open to the world,
where the links the desk mails point.

Each function returns the row's detail, raises NeedsAttention for a WARN
(the installation works, but not safely) or another exception for a FAIL.
"""

from __future__ import annotations

import ipaddress

from gateway.core.secret_check import missing_secrets
from gateway.app.checks import NeedsAttention
from gateway.core.config import Config
from gateway.core.secret_file import secret_path

# The secret config.example.toml once shipped with: published, so anyone can sign reply tokens with it.
EXAMPLE_SECRETS = frozenset({"change-me-to-a-long-random-string"})


def check_secret(config: Config) -> str:
    """Where the HMAC secret comes from; WARN when it is the example config's, known to everybody."""
    secret = config.security.secret
    if secret is None:
        path = secret_path(config)
        if path.exists():
            return f"generated at first start, kept in {path}"
        return f"none configured: relaydesk generates a random one into {path} at first start"
    if secret in EXAMPLE_SECRETS:
        raise NeedsAttention("security.secret is the example config's, which anyone can read: remove the line "
                             "(relaydesk then generates one) or set it to env:RELAYDESK_SECRET")
    return "configured"


def check_channel_secrets(config: Config) -> str:
    """Every channel secret written as env:NAME can be read now (serve needs them all at start)."""
    missing = missing_secrets(config)
    if missing:
        raise RuntimeError("; ".join(missing))
    return "every channel secret can be read"


def check_smtp_exposure(config: Config) -> str:
    """WARN on a listener beyond this machine that neither encrypts nor asks who is sending."""
    host, port = config.smtp.address
    if _is_loopback(host):
        return f"{host}:{port} is reachable from this machine only"
    guards = [name for name, on in (("STARTTLS", config.smtp.tls_cert is not None),
                                    ("AUTH", bool(config.smtp.auth_users))) if on]
    if not guards:
        raise NeedsAttention(f"smtp.listen {host}:{port} is reachable from other machines without TLS or AUTH: "
                             "set tls_cert/tls_key and auth_users, or listen on 127.0.0.1 behind your MTA")
    return f"{host}:{port} with {' and '.join(guards)}"


def check_mail_links(config: Config) -> str:
    """Where sign-in and status links in mail point; WARN when the desk cannot mail a sign-in link at all.

    Links are built from configuration only (never a request's Host header), so a desk bound to a
    wildcard address or port 0 without `base_url` answers every sign-in request with an error.
    """
    web = config.web
    if web.base_url:
        return f"sign-in and status page links point at {web.base_url}"
    base = web.sign_in_base
    if base is None:
        raise NeedsAttention(f"agents cannot sign in: {web.no_link_address()} (the desk's public address)")
    return f"sign-in links point at {base} (web.listen); customers get status page links once base_url is set"


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
