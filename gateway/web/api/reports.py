"""The partner report (`relaydesk report partners`) for the token's account: as partner or as the one handing over."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query

from gateway.desk.reports import Period, partner_report, rows_to_json
from gateway.web.api.auth import Reader, RuntimeDep
from gateway.web.api.schemas import PartnerRowOut

router = APIRouter(tags=["reports"])


@router.get("/reports/partners", response_model=list[PartnerRowOut],
            summary="Per partner and handing account: handed over, resolved, times to accept and resolve, ratings")
def partners(
    runtime: RuntimeDep, who: Reader,
    since: Annotated[date | None, Query(description="First day (UTC) of handoffs counted.")] = None,
    until: Annotated[date | None, Query(description="Last day (UTC, included).")] = None,
) -> list[PartnerRowOut]:
    with runtime.db.reading() as session:
        rows = partner_report(session, Period.from_dates(since, until), account=who.account_slug)
    return [PartnerRowOut.model_validate(row) for row in rows_to_json(rows)]
