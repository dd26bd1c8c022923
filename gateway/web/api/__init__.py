"""The REST API, `/api/v1`: a FastAPI application of its own, mounted by the web app.

    app.mount("/api/v1", api_app(runtime))

Its OpenAPI document is at `/openapi.json` of this application (so
`/api/v1/openapi.json` once mounted), shown by Swagger UI at `/docs` with
scripts and styles served by this application (`fastapi_offline`): an
installation behind a firewall cannot reach a CDN.  Writes enqueue their
outbound work through `enqueue_outbox` (by default the process's task
queue; without one the sweeper of a worker finds the rows).
"""

from __future__ import annotations

from collections.abc import Callable

from fastapi import FastAPI
from fastapi_offline import FastAPIOffline

from gateway.app import tasks
from gateway.core.runtime import Runtime
from gateway.web.api import actions, events, inbox, messages, reports, tickets
from gateway.web.api.errors import ERROR_RESPONSES, install_error_handlers
from gateway.web.health import health_router

VERSION = "1"


def api_app(runtime: Runtime, enqueue_outbox: Callable[[int], None] = tasks.enqueue_outbox) -> FastAPI:
    app = FastAPIOffline(
        title="relaydesk API", version=VERSION, openapi_url="/openapi.json", docs_url="/docs", redoc_url=None,
        description="Tickets, chains, messages and actions of one account, read with a bearer token "
                    "(`relaydesk api-token create`). Errors are {\"error\": {\"code\", \"message\"}}.",
        responses=ERROR_RESPONSES,
    )
    app.state.runtime = runtime
    app.state.enqueue_outbox = enqueue_outbox
    install_error_handlers(app)
    for module in (tickets, messages, actions, reports, inbox, events):
        app.include_router(module.router)
    app.include_router(health_router())
    return app
