"""The Operator screen (`/ops`): parked mail with a replay button, failed deliveries, channel activity.

Only the addresses in `[web] operators` see it; anyone else gets 404.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import FormData

from gateway.pipeline.runner import requeue_parked
from gateway.app.tasks import enqueue_inbox
from gateway.web.auth import Viewer, viewer_of
from gateway.web.csrf import checked_form
from gateway.web.ops_figures import ops_screen
from gateway.web.render import page
from gateway.web.requests import reading, runtime_of, see_other
from gateway.web.ticket_view import not_found

router = APIRouter()


def _operator(request: Request) -> Viewer:
    with reading(request) as session:
        viewer = viewer_of(request, session)
    if not viewer.operator:
        raise not_found()
    return viewer


@router.get("/ops", response_class=HTMLResponse)
def ops(request: Request) -> Response:
    viewer = _operator(request)
    with reading(request) as session:
        return page(request, "ops.html", viewer=viewer, data=ops_screen(session, runtime_of(request).config),
                    screen="ops")


@router.post("/ops/replay/{inbox_id}")
def replay(request: Request, inbox_id: int, form: FormData = Depends(checked_form)) -> Response:
    _operator(request)
    if not requeue_parked(runtime_of(request), inbox_id):
        return see_other("/ops", error=f"Inbox item {inbox_id} is not parked.")
    enqueue_inbox(inbox_id)
    return see_other("/ops", done=f"Inbox item {inbox_id} is queued again.")
