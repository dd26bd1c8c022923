"""Acting on a ticket as its mail commands do: `#status`, `#handoff`, `#recall`, `#rate`.

Each endpoint checks with the function the mail command checks with and
applies with the function it applies with (`flows.agent_actions`,
`flows.agent_messages.typed_handoff`, `ratings`, `links`), so a refusal has the same reason code as the error
reply a mailed command would get, and the same mail leaves afterwards.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from gateway.desk import links

from gateway.flows import agent_actions
from gateway.core.api_tokens import Caller
from gateway.flows.agent_messages import typed_handoff
from gateway.flows.handoff import CREATED
from gateway.flows.ratings import link_to_rate
from gateway.desk.views import ticket_summary
from gateway.web.api.agents import acting_agent, address_of
from gateway.web.api.auth import Writer, own_ticket
from gateway.web.api.errors import ERROR_RESPONSES
from gateway.web.api.messages import CHANNEL
from gateway.web.api.schemas import Status, TicketSummary, Written
from gateway.web.api.tickets import Ref
from gateway.web.api.writes import IdempotencyKey, run_write
from storage.models import OutboxItem, Ticket

router = APIRouter(tags=["actions"])


class Acting(BaseModel):
    agent: str | None = Field(default=None, max_length=320, description="The agent acting (email); default the account's first.")


class StatusIn(Acting):
    status: Status


class HandoffIn(Acting):
    partner: str = Field(min_length=1, max_length=320, description="A partner's slug (or an outside address, where allowed).")
    note: str = Field(default="", max_length=100_000, description="What the partner should know.")


class RecallIn(Acting):
    children: list[str] = Field(default_factory=list, max_length=50, description="Child refs; default every open handoff.")


class RatingIn(Acting):
    rating: int = Field(ge=1, le=5)
    comment: str | None = Field(default=None, max_length=2000)


@router.post("/tickets/{ref}/status", response_model=Written, responses=ERROR_RESPONSES,
             summary="Change the status (as `#status`), propagated along the chain")
def set_status(ref: Ref, body: StatusIn, request: Request, who: Writer, key: IdempotencyKey = None):
    def apply(session: Session) -> tuple[int, Written, list[OutboxItem]]:
        ticket, by = _acting_on(session, who, ref, body)
        target = agent_actions.check_status(ticket, body.status)
        queued = agent_actions.set_status(session, request.app.state.runtime, ticket, target, by, hops=0)
        return 200, _written(session, ticket, queued), queued
    return run_write(request, who, key, body.model_dump(), apply)


@router.post("/tickets/{ref}/handoff", response_model=Written, responses={**ERROR_RESPONSES, 201: {"model": Written}},
             summary="Hand the ticket to a partner (as `#handoff`): 201 with the child, 200 when it was there already")
def hand_off(ref: Ref, body: HandoffIn, request: Request, who: Writer, key: IdempotencyKey = None):
    def apply(session: Session) -> tuple[int, Written, list[OutboxItem]]:
        parent = own_ticket(session, who, ref)
        agent = acting_agent(session, who, body.agent)
        result = typed_handoff(session, request.app.state.runtime, parent, address_of(agent), body.partner, body.note,
                               CHANNEL)
        written = _written(session, parent, result.outbox)
        written.child = result.link.child.ref
        return (201 if result.outcome == CREATED else 200), written, result.outbox
    return run_write(request, who, key, body.model_dump(), apply)


@router.post("/tickets/{ref}/recall", response_model=Written, responses=ERROR_RESPONSES,
             summary="Take handed-off work back (as `#recall`): the children are cancelled and their partners told")
def recall(ref: Ref, body: RecallIn, request: Request, who: Writer, key: IdempotencyKey = None):
    def apply(session: Session) -> tuple[int, Written, list[OutboxItem]]:
        ticket, by = _acting_on(session, who, ref, body)
        recalled = agent_actions.links_to_recall(session, ticket, body.children)
        queued = agent_actions.recall(session, request.app.state.runtime, recalled, by, hops=0)
        return 200, _written(session, ticket, queued), queued
    return run_write(request, who, key, body.model_dump(), apply)


@router.post("/tickets/{ref}/rating", response_model=Written, responses=ERROR_RESPONSES,
             summary="Rate the partner's work on the newest resolved handoff (as `#rate`)")
def rate(ref: Ref, body: RatingIn, request: Request, who: Writer, key: IdempotencyKey = None):
    def apply(session: Session) -> tuple[int, Written, list[OutboxItem]]:
        ticket, by = _acting_on(session, who, ref, body)
        links.rate(session, link_to_rate(session, ticket), body.rating, body.comment, actor=by)
        return 200, _written(session, ticket, []), []
    return run_write(request, who, key, body.model_dump(), apply)


def _acting_on(session: Session, who: Caller, ref: str, body: Acting) -> tuple[Ticket, str | None]:
    ticket = own_ticket(session, who, ref)
    return ticket, acting_agent(session, who, body.agent).email


def _written(session: Session, ticket: Ticket, queued: list[OutboxItem]) -> Written:
    return Written(ticket=TicketSummary.model_validate(ticket_summary(session, ticket)), outbound=len(queued))
