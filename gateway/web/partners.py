"""The Partners screen (`/partners`): each partner's figures on this account's handoffs, and its CSV."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from gateway.desk.reports import rows_to_csv
from gateway.web.auth import Viewer, viewer_of
from gateway.web.charts import stage_chart
from gateway.web.partner_figures import PERIODS, handed_rows, partner_figures, period_of
from gateway.web.render import page
from gateway.web.requests import reading
from gateway.web.ticket_view import not_found

router = APIRouter()


def _days(request: Request) -> tuple[str, int | None]:
    chosen = request.query_params.get("period", "90")
    chosen = chosen if chosen in PERIODS else "90"
    return chosen, PERIODS[chosen]


def _agent(request: Request, session: Session) -> Viewer:
    """The signed-in agent; an operator who is no agent has no partners (404)."""
    viewer = viewer_of(request, session)
    if viewer.account is None:
        raise not_found()
    return viewer


@router.get("/partners", response_class=HTMLResponse)
def partners(request: Request) -> Response:
    chosen, days = _days(request)
    with reading(request) as session:
        viewer = _agent(request, session)
        figures = partner_figures(session, viewer.account, period_of(days))
        charts = {f.row.partner: stage_chart(f.weeks, f"Stage times of {f.row.partner_name} by week") for f in figures}
        return page(request, "partners.html", viewer=viewer, figures=figures, charts=charts, period=chosen,
                    periods=PERIODS, screen="partners")


@router.get("/partners.csv")
def partners_csv(request: Request) -> Response:
    chosen, days = _days(request)
    with reading(request) as session:
        rows = handed_rows(session, _agent(request, session).account, period_of(days))
    return Response(rows_to_csv(rows), media_type="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="partners-{chosen}.csv"'})
