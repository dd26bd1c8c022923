"""Every error of the API is `{"error": {"code", "message"}}`, validation errors included.

Domain refusals keep their own words: a Rejection (the reason a mail command
is refused, e.g. `bad_status`, `no_handoff`) becomes a 409 with that reason
as its code, so the API and mail commands refuse the same things the same
way.  422 is kept for requests the document itself rules out.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from gateway.desk.links import LinkTransitionError
from gateway.flows.rejections import Rejection
from gateway.desk.tickets import InvalidTransition

log = logging.getLogger(__name__)


class ErrorDetail(BaseModel):
    code: str
    message: str


class ErrorBody(BaseModel):
    error: ErrorDetail


class ApiError(Exception):
    """An answer other than success, with its HTTP status, a stable code and words for people."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def not_found(what: str) -> ApiError:
    """Also the answer for another account's objects: their existence is not told."""
    return ApiError(404, "not_found", f"no {what}")


def error_response(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status, headers=headers)


# Documented on every operation, so the OpenAPI document describes every answer the API gives.
_DESCRIPTIONS = {
    400: "Malformed request", 401: "Missing, unknown or revoked token", 403: "A read token tried to write",
    404: "No such object in the token's account",
    409: "Refused as the mail command would be (code: its reason), or an Idempotency-Key reused for another request",
    413: "Files too large", 422: "The request does not match this document", 500: "Unexpected failure",
}
ERROR_RESPONSES: dict[int | str, dict] = {
    status: {"model": ErrorBody, "description": text} for status, text in _DESCRIPTIONS.items()
}


def install_error_handlers(app: FastAPI) -> None:
    """Turn every exception the API can meet into the one error shape."""

    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
        return error_response(exc.status, exc.code, exc.message, headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = [f"{'.'.join(str(p) for p in e.get('loc', ()))}: {e.get('msg', '')}" for e in exc.errors()]
        return error_response(422, "invalid_request", "; ".join(problems) or "invalid request")

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        return error_response(exc.status_code, code, str(exc.detail))

    @app.exception_handler(Rejection)
    async def _rejected(request: Request, exc: Rejection) -> JSONResponse:
        return error_response(409, exc.reason, exc.reply_text())

    @app.exception_handler(InvalidTransition)
    @app.exception_handler(LinkTransitionError)
    async def _conflict(request: Request, exc: Exception) -> JSONResponse:
        return error_response(409, "conflict", str(exc))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("API %s %s failed", request.method, request.url.path)
        return error_response(500, "internal", "unexpected failure; the server log has the details")
