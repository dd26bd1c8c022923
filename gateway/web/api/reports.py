"""The partner report (`relaydesk report partners`) for the token's account: as partner or as the one handing over."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query

from gateway.desk.reports import PartnerRow, Period, partner_report
from gateway.web.api.auth import Reader, RuntimeDep

router = APIRouter(tags=["reports"])


@router.get("/reports/partners", response_model=list[PartnerRow],
            summary="Per partner and handing account: handed over, resolved, times to accept and resolve, ratings")
def partners(
    runtime: RuntimeDep, who: Reader,
    since: Annotated[date | None, Query(description="First day (UTC) of handoffs counted.")] = None,
    until: Annotated[date | None, Query(description="Last day (UTC, included).")] = None,
) -> list[PartnerRow]:
    with runtime.db.reading() as session:
        rows = partner_report(session, Period.from_dates(since, until), account=who.account_slug)
    return rows
