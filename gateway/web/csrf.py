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

from gateway.core.config import Config
from gateway.web.auth import read_session


class CrossSiteRequest(HTTPException):
    def __init__(self, why: str) -> None:
        super().__init__(status_code=403, detail=f"refused: {why}")


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def allowed_origins(request: Request) -> set[str]:
    """This desk's own origin as the browser addressed it, and the configured public one."""
    config: Config = request.app.state.runtime.config
    own = {f"{request.url.scheme}://{request.headers.get('host', request.url.netloc)}".lower()}
    return own | ({_origin(config.web.base_url)} if config.web.base_url else set())


def check_origin(request: Request) -> None:
    """Refuse a post whose Origin (or, without one, Referer) is another site."""
    origin = request.headers.get("origin")
    if origin is None and request.headers.get("referer"):
        origin = _origin(request.headers["referer"])
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
