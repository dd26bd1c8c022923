"""Did a trusted MTA verify that the sender's domain sent this mail (DKIM, SPF or DMARC pass)?

With `security.require_dkim_for_commands`, agents' privileged actions by
mail (commands, handoffs) count only when this holds, so a forged From:
cannot move tickets.  Only the first Authentication-Results field from one
of `security.trusted_authserv_ids` is believed: the receiving MTA adds its
own field on top (and should strip incoming ones bearing its id), while a
forger's fields sit further down.
"""

from __future__ import annotations

from gateway.core.config import SecurityConfig
from parsers.auth_results import AuthResults, MethodResult, parse_auth_results
from parsers.message import ParsedMessage


def sender_verified(parsed: ParsedMessage, security: SecurityConfig) -> bool:
    """True when no verification is required, or the trusted MTA verified the From: domain."""
    if not security.require_dkim_for_commands:
        return True
    if parsed.sender is None or "@" not in parsed.sender.email:
        return False
    verdict = _trusted_results(parsed, {i.lower() for i in security.trusted_authserv_ids})
    domain = parsed.sender.email.rpartition("@")[2].lower()
    return verdict is not None and any(_vouches_for(result, domain) for result in verdict.results)


def _trusted_results(parsed: ParsedMessage, trusted: set[str]) -> AuthResults | None:
    for value in parsed.headers.get("authentication-results", []):
        found = parse_auth_results(value)
        if found is not None and found.authserv_id in trusted:
            return found
    return None


def _vouches_for(result: MethodResult, domain: str) -> bool:
    """A pass for the From: domain itself (or, for DKIM, a parent domain that signed for it)."""
    if result.result != "pass":
        return False
    if result.method == "dkim":
        signer = result.properties.get("header.d", "")
        return bool(signer) and (domain == signer or domain.endswith("." + signer))
    if result.method == "dmarc":
        return result.properties.get("header.from", "") == domain
    if result.method == "spf":
        return result.properties.get("smtp.mailfrom", "").rpartition("@")[2] == domain
    return False
