"""The web application: the desk's screens, the customers' status pages, and the services beside them.

`create_app(runtime)` builds one FastAPI app around a process's Runtime;
`relaydesk serve` runs it in-process, `relaydesk web` on its own.  Routes
hold no state between requests (sessions are signed cookies, used sign-in
links are in the database), so any number of processes can answer.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException

from gateway.core.runtime import Runtime
from gateway.web import chains, ops, partners, sign_in, status_page, ticket
from gateway.web.api import api_app
from gateway.web.auth import NotSignedIn
from gateway.core.rate_window import SlidingWindow
from gateway.web.monitoring import ops_app
from gateway.web.render import HERE, page


def create_app(runtime: Runtime) -> FastAPI:
    web = runtime.config.web
    app = FastAPI(title="relaydesk", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.runtime = runtime
    app.state.sign_in_limit = SlidingWindow(web.sign_in_per_client_per_hour, 3600)
    app.state.status_page_limit = SlidingWindow(web.status_page_per_client_per_minute, 60)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    for screen in (sign_in, chains, ticket, partners, ops, status_page):
        app.include_router(screen.router)
    _mount_services(app, runtime)
    app.middleware("http")(_server_timing)
    app.add_exception_handler(NotSignedIn, _to_sign_in)
    app.add_exception_handler(HTTPException, _error_page)
    return app


def _mount_services(app: FastAPI, runtime: Runtime) -> None:
    """The machine-facing services beside the desk: the REST API at /api/v1, /metrics and /healthz."""
    app.mount("/api/v1", api_app(runtime))
    app.router.routes.extend(ops_app(runtime).routes)


# Every answer: no framing by other sites (clickjacking), no type guessing, no full URLs (tokens) in Referer.
SECURITY_HEADERS = {"X-Frame-Options": "DENY", "Content-Security-Policy": "frame-ancestors 'none'",
                    "X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin"}


async def _server_timing(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
    """How long the server worked on the answer (for the browser's tools and the benchmark), and the security headers."""
    started = time.perf_counter()
    response = await call_next(request)
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    response.headers["Server-Timing"] = f"app;dur={(time.perf_counter() - started) * 1000:.1f}"
    return response


async def _to_sign_in(request: Request, exc: Exception) -> Response:
    if request.method == "GET":
        return RedirectResponse("/sign-in", status_code=303)
    return page(request, "sign_in.html", status_code=401, error="Your session ended; sign in again.")


async def _error_page(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 404:
        return page(request, "not_found.html", status_code=404)
    return page(request, "error.html", status_code=exc.status_code, detail=exc.detail)
