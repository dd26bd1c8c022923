"""`/healthz` and `/metrics` for the operator's monitoring, as one small application.

The web app mounts it last at the root (`app.mount("/", ops_app(runtime))`)
or adds its `routes` to its own; the API's `/health` lives in the API.
"""

from __future__ import annotations

from starlette.applications import Starlette

from gateway.core.runtime import Runtime
from gateway.web.health import HEALTHZ
from gateway.web.metrics import metrics_route


def ops_app(runtime: Runtime) -> Starlette:
    return Starlette(routes=[HEALTHZ, metrics_route(runtime)])
