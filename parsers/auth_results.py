"""Authentication-Results header fields (RFC 8601) read into method results.

    Authentication-Results: mx.vendor.example; dkim=pass header.d=vendor.example;
        spf=pass smtp.mailfrom=dana@vendor.example; dmarc=pass header.from=vendor.example

Only what deciding "did our MTA verify this sender's domain" needs: the
authserv-id and each method's result with its properties.  Comments in
parentheses are dropped.  Never raises: an unreadable field gives None.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_COMMENT = re.compile(r"\([^()]*\)")
_RESULT = re.compile(r"^\s*([A-Za-z0-9_.-]+)\s*=\s*([A-Za-z]+)\b(.*)$", re.DOTALL)
_PROPERTY = re.compile(r"([A-Za-z0-9_-]+\.[A-Za-z0-9_.-]+)\s*=\s*(\"[^\"]*\"|[^\s;]+)")
_MAX_FIELD = 8192


@dataclass(frozen=True)
class MethodResult:
    method: str  # dkim | spf | dmarc | …, lower-case
    result: str  # pass | fail | none | …, lower-case
    properties: dict[str, str] = field(default_factory=dict)  # "header.d" -> "vendor.example"


@dataclass(frozen=True)
class AuthResults:
    authserv_id: str  # lower-case
    results: tuple[MethodResult, ...]


def parse_auth_results(value: str) -> AuthResults | None:
    """One Authentication-Results field, or None when it is not one."""
    text = _COMMENT.sub(" ", _COMMENT.sub(" ", value[:_MAX_FIELD]))  # nested comments, one level deep
    authserv, *parts = text.split(";")
    authserv_id = authserv.strip().split()[0].lower() if authserv.strip() else ""
    if not authserv_id:
        return None
    results = []
    for part in parts:
        found = _RESULT.match(part)
        if found is None or found.group(1).lower() == "none":
            continue
        properties = {name.lower(): raw.strip('"').lower() for name, raw in _PROPERTY.findall(found.group(3))}
        results.append(MethodResult(found.group(1).lower(), found.group(2).lower(), properties))
    return AuthResults(authserv_id, tuple(results))
