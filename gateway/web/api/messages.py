"""Posting on a ticket: an agent's public reply or internal note, with files (JSON + base64, or multipart).

A public reply goes out exactly as an agent's mailed reply does: stored,
timed as the first response, relayed to the requester side and mirrored
along the chain by the same functions (`flows.agent_messages`, shared with
the desk, the team chat and the pipeline), so the mail
carries the same threading headers, reply token and chain line, and its
outbox rows commit with the message.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from typing import Annotated, Literal

from fastapi import APIRouter, File, Form, Request, UploadFile
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from gateway.core.api_tokens import Caller
from gateway.flows.agent_messages import post_agent_message
from gateway.core.runtime import Runtime
from gateway.desk.views import ticket_summary
from gateway.web.api.agents import acting_agent, address_of
from gateway.web.api.auth import Writer, own_ticket
from gateway.web.api.errors import ERROR_RESPONSES, ApiError
from gateway.web.api.schemas import TicketSummary, Written
from gateway.web.api.tickets import Ref
from gateway.web.api.writes import IdempotencyKey, run_write
from parsers.message import Attachment as ParsedAttachment
from storage.models import OutboxItem

router = APIRouter(tags=["messages"])
CHANNEL = "api"
Visibility = Literal["public", "internal"]
BASE64 = r"^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$"


class FileIn(BaseModel):
    filename: str = Field(min_length=1, max_length=255)
    content_type: str = Field(default="application/octet-stream", max_length=200)
    content_base64: str = Field(pattern=BASE64, description="The file's bytes, base64-encoded (standard alphabet, padded).")


class MessageIn(BaseModel):
    text: str = Field(min_length=1, max_length=100_000)
    visibility: Visibility = Field(default="public", description="public: a reply the other side gets; internal: a note.")
    agent: str | None = Field(default=None, max_length=320, description="The agent writing (email); default the account's first.")
    files: list[FileIn] = Field(default_factory=list, max_length=20)


@router.post("/tickets/{ref}/messages", status_code=201, response_model=Written, responses=ERROR_RESPONSES,
             summary="Post a public reply or an internal note (files as base64)")
def post_message(ref: Ref, body: MessageIn, request: Request, who: Writer, key: IdempotencyKey = None):
    files = [(f.filename, f.content_type, _decoded(f.content_base64)) for f in body.files]
    payload = {**body.model_dump(exclude={"files"}), "files": [_digest(f) for f in files]}
    return run_write(request, who, key, payload,
                     lambda session: _post(session, request.app.state.runtime, who, ref, body.text, body.visibility,
                                           body.agent, files))


@router.post("/tickets/{ref}/messages/upload", status_code=201, response_model=Written, responses=ERROR_RESPONSES,
             summary="Post a public reply or an internal note (files as multipart/form-data)")
async def upload_message(
    ref: Ref, request: Request, who: Writer,
    text: Annotated[str, Form(min_length=1, max_length=100_000)],
    visibility: Annotated[Visibility, Form()] = "public",
    agent: Annotated[str | None, Form(max_length=320)] = None,
    files: Annotated[list[UploadFile], File(description="Files to attach.")] = [],  # noqa: B006 (FastAPI copies it)
    key: IdempotencyKey = None,
):
    read = [(f.filename or "file", f.content_type or "application/octet-stream", await f.read()) for f in files]
    payload = {"text": text, "visibility": visibility, "agent": agent, "files": [_digest(f) for f in read]}
    runtime = request.app.state.runtime
    return await run_in_threadpool(run_write, request, who, key, payload,
                                   lambda session: _post(session, runtime, who, ref, text, visibility, agent, read))


def _post(session: Session, runtime: Runtime, who: Caller, ref: str, text: str, visibility: str,
          agent_email: str | None, files: list[tuple[str, str, bytes]]) -> tuple[int, Written, list[OutboxItem]]:
    ticket = own_ticket(session, who, ref)
    agent = acting_agent(session, who, agent_email)
    if sum(len(data) for _, _, data in files) > runtime.config.smtp.max_message_bytes:
        raise ApiError(413, "too_large", f"files over {runtime.config.smtp.max_message_bytes} bytes in all")
    message, queued = post_agent_message(session, runtime, ticket, address_of(agent), text, visibility=visibility,
                                         channel=CHANNEL, agent_id=agent.id, files=[_part(*f) for f in files])
    summary = TicketSummary.model_validate(ticket_summary(session, ticket))
    return 201, Written(ticket=summary, message_id=message.id, outbound=len(queued)), queued


def _part(filename: str, content_type: str, data: bytes) -> ParsedAttachment:
    return ParsedAttachment(filename=filename[:255], content_type=content_type, size=len(data),
                            sha256=hashlib.sha256(data).hexdigest(), content=data)


def _decoded(text: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise ApiError(422, "invalid_request", "files.content_base64 is not valid base64") from None


def _digest(file: tuple[str, str, bytes]) -> list[str]:
    return [file[0], file[1], hashlib.sha256(file[2]).hexdigest()]
