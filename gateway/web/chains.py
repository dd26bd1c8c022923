"""The Chains screen (`/`): the account's open work as chains, with filters, search and paging."""

from __future__ import annotations

from datetime import datetime, timezone

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from gateway.core.accounts import settings_for
from gateway.web.auth import viewer_of
from gateway.web.chain_rows import STATUS_FILTERS, ChainFilters, chain_page
from gateway.web.render import page
from gateway.web.requests import reading, runtime_of

router = APIRouter()


def _filters(request: Request) -> ChainFilters:
    params = request.query_params
    status = params.get("status", "open work")
    page_number = params.get("page", "1")
    return ChainFilters(
        status=status if status in STATUS_FILTERS else "open work",
        partner=params.get("partner", "").strip().lower(),
        waiting=params.get("waiting", "") if params.get("waiting") in ("us", "partner") else "",
        q=params.get("q", "")[:200],
        overdue=params.get("overdue") == "1",
        page=int(page_number) if page_number.isdigit() else 1,
    )


@router.get("/", response_class=HTMLResponse)
def chains(request: Request) -> Response:
    filters = _filters(request)
    config = runtime_of(request).config
    with reading(request) as session:
        viewer = viewer_of(request, session)
        if viewer.account is None:  # an operator who is no agent has no chains of their own
            return RedirectResponse("/ops", status_code=303)
        partners = [config.account(slug) for slug in settings_for(config, viewer.account).partners]
        return page(request, "chains.html", viewer=viewer, filters=filters, statuses=STATUS_FILTERS,
                    partners=partners, result=chain_page(session, viewer.account, filters, datetime.now(timezone.utc)), screen="chains")
