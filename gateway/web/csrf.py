"""Every form post is checked twice: its origin, and the session's form token.

SameSite=Lax already keeps the session cookie off cross-site posts in
current browsers; the Origin check refuses them where that is not enough
(older browsers, a sibling subdomain), and the per-session token refuses a
post built anywhere the page was not rendered.
"""

from __future__ import annotations

import hmac
from urllib.parse import urlsplit

from fastapi import HTTPException, Request
from starlette.datastructures import FormData

from gateway.web.auth import read_session
from gateway.web.forwarded import forwarded_value
from gateway.web.requests import peer_of, runtime_of

_DEFAULT_PORTS = {"http": 80, "https": 443}


class CrossSiteRequest(HTTPException):
    def __init__(self, why: str) -> None:
        super().__init__(status_code=403, detail=f"refused: {why}")


def _origin(scheme: str, netloc: str) -> str:
    """`scheme://host[:port]` as browsers write Origin: lower case, without the scheme's default port."""
    scheme, netloc = scheme.lower(), netloc.lower()
    if scheme in _DEFAULT_PORTS:
        netloc = netloc.removesuffix(f":{_DEFAULT_PORTS[scheme]}")
    return f"{scheme}://{netloc}"


def _origin_of(url: str) -> str:
    parts = urlsplit(url)
    return _origin(parts.scheme, parts.netloc)


def allowed_origins(request: Request) -> set[str]:
    """This desk as the browser addressed it, its configured public address, and what a trusted proxy says.

    Behind a TLS-terminating proxy the desk sees http and the proxy's Host, while the browser posts
    from https://desk.example: X-Forwarded-Proto and -Host name that origin, believed only from
    `[web] trusted_proxies` (gateway.web.forwarded), as anyone else could name any origin.
    """
    web = runtime_of(request).config.web
    scheme, host = request.url.scheme, request.headers.get("host", request.url.netloc)
    peer, headers = peer_of(request), request.headers
    proto = (forwarded_value(peer, headers.getlist("x-forwarded-proto"), web.trusted_proxies) or scheme).lower()
    forwarded_host = forwarded_value(peer, headers.getlist("x-forwarded-host"), web.trusted_proxies)
    public = _origin(proto if proto in _DEFAULT_PORTS else scheme, forwarded_host or host)
    return {_origin(scheme, host), public} | ({_origin_of(web.base_url)} if web.base_url else set())


def check_origin(request: Request) -> None:
    """Refuse a post whose Origin (or, without one, Referer) is another site."""
    origin = request.headers.get("origin")
    if origin is None and request.headers.get("referer"):
        origin = _origin_of(request.headers["referer"])
    if origin is not None and origin.lower() not in allowed_origins(request):
        raise CrossSiteRequest(f"a form posted from {origin}")


async def checked_form(request: Request) -> FormData:
    """The posted form, after the origin and the form token were checked (a FastAPI dependency)."""
    check_origin(request)
    form = await request.form()
    token = form.get("csrf")
    expected = read_session(request).csrf
    if not isinstance(token, str) or not hmac.compare_digest(token.encode(), expected.encode()):
        raise CrossSiteRequest("the form's token does not belong to this session; reload the page and try again")
    return form
