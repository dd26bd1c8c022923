"""Health over HTTP: `/healthz` (the process answers) and the API's `/health` (can the installation work?).

`/health` runs `relaydesk doctor`'s probes that concern a running
installation (database, broker, what waits) and adds each channel's last
activity against its expected interval and each partner relationship's last
mail in and out.  The answer is Up, Slow or Down overall (the worst of its
parts); Down answers 503, so a load balancer or a blackbox probe needs no
parsing.  No token: it tells counts and account slugs, never ticket content.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Literal

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.routing import Route

from gateway.app.activity import DOWN, SLOW, UP, channel_activity, partner_traffic, worst
from gateway.app.checks import Check, attempt, check_broker, check_database, check_work
from gateway.core.runtime import Runtime
from parsers.message import iso_utc
from storage.models import utcnow

State = Literal["up", "slow", "down"]


class Component(BaseModel):
    name: str
    state: State
    detail: str
    last_activity: str | None = None
    seconds_since_activity: float | None = None
    expected_interval_seconds: float | None = None


class PartnerLink(BaseModel):
    account: str
    partner: str
    open_links: int
    last_mail_in: str | None
    last_mail_out: str | None


class Health(BaseModel):
    state: State
    checked_at: str
    components: list[Component]
    partner_links: list[PartnerLink]


def health_router() -> APIRouter:
    router = APIRouter(tags=["health"])

    @router.get("/health", response_model=Health, responses={503: {"model": Health, "description": "Down"}},
                summary="Database, broker, waiting work, each channel's last activity, partner mail (no token)")
    def health(request: Request) -> JSONResponse:
        report = check_health(request.app.state.runtime)
        return JSONResponse(report.model_dump(mode="json"), status_code=503 if report.state == DOWN else 200)

    return router


def check_health(runtime: Runtime) -> Health:
    """The probes run side by side (each has its own timeout); then what the database says of the channels."""
    config = runtime.config
    probes = {
        "database": lambda: check_database(config.storage.url),
        "broker": lambda: check_broker(config.queue.broker),
        "work": lambda: check_work(config.storage.url),
    }
    with ThreadPoolExecutor(max_workers=len(probes)) as pool:
        futures = {name: pool.submit(attempt, name, probe) for name, probe in probes.items()}
        components = [_from_check(future.result()) for future in futures.values()]
    now = utcnow()
    partners: list[PartnerLink] = []
    if components[0].state != DOWN:
        with runtime.db.reading() as session:
            components += [
                Component(name=a.name, state=a.state, detail=a.detail, last_activity=iso_utc(a.last_activity),
                          seconds_since_activity=a.seconds_since(now), expected_interval_seconds=a.expected_seconds)
                for a in channel_activity(session, config, now)
            ]
            partners = [PartnerLink(account=p.account, partner=p.partner, open_links=p.open_links,
                                    last_mail_in=iso_utc(p.last_in), last_mail_out=iso_utc(p.last_out))
                        for p in partner_traffic(session)]
    return Health(state=worst([c.state for c in components]), checked_at=iso_utc(now), components=components,
                  partner_links=partners)


def _from_check(check: Check) -> Component:
    state = DOWN if not check.ok else SLOW if check.attention else UP
    return Component(name=check.name, state=state, detail=check.detail)


async def healthz(request: Request) -> JSONResponse:
    """Alive: the process answers HTTP (nothing else is checked, so a slow database never restarts it)."""
    return JSONResponse({"status": "alive"})


HEALTHZ = Route("/healthz", healthz, methods=["GET"])
