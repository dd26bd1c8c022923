"""Sign-in by a mailed one-time link, and sign-out.

Asking for a link answers the same whether or not the address may sign in,
so the form tells nobody who works where.  Opening the link shows a button
rather than signing in at once: mail scanners that fetch every link in a
mail would otherwise spend it before its owner clicks.  The mailed link
points where the config says the desk is (`WebConfig.sign_in_base`), never
at the Host the form was posted to.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from gateway.outbound.account_mail import queue_account_mail
from gateway.core.runtime import Runtime
from gateway.web.auth import (
    WebSession,
    agent_account,
    may_sign_in,
    read_session,
    redeem_sign_in_token,
    sign_in_token,
    signed_in,
    write_session,
)
from gateway.web.csrf import checked_form
from gateway.web.render import page
from gateway.web.requests import client_key, deliver, runtime_of, transaction
from storage.models import Account, OutboxItem, utcnow
from storage.repositories import outbox_count_since

log = logging.getLogger("relaydesk")
router = APIRouter()
SIGN_IN_KIND = "sign_in"
NO_ADDRESS = ("Sign-in links cannot be mailed from this desk yet: its operator has to set [web] base_url "
              "to the address the desk is reached at.")


def sign_in_url(base: str, token: str) -> str:
    """The link that opens the sign-in button, under `base` (`WebConfig.sign_in_base`)."""
    return f"{base}/sign-in/{token}"


def queue_sign_in_mail(session: Session, runtime: Runtime, email: str, url: str) -> OutboxItem:
    """The sign-in mail, from the agent's own account (an operator's: the first hosted account)."""
    found = agent_account(session, email)
    account = found[1] if found else session.scalar(
        select(Account).where(Account.kind == "hosted").order_by(Account.id).limit(1))
    minutes = runtime.config.web.sign_in_link_minutes
    text = (f"Hello,\n\nopen this link to sign in to the {account.name} desk:\n\n{url}\n\n"
            f"It works once, within {minutes} minutes. If you did not ask for it, ignore this mail.")
    return queue_account_mail(session, runtime, account, found[0].name if found else "", email,
                              kind=SIGN_IN_KIND, subject="Your sign-in link", text=text)


@router.get("/sign-in", response_class=HTMLResponse)
def sign_in_form(request: Request) -> Response:
    if read_session(request).email:
        return RedirectResponse("/", status_code=303)
    return page(request, "sign_in.html")


@router.post("/sign-in", response_class=HTMLResponse)
def ask_for_link(request: Request, form: FormData = Depends(checked_form)) -> Response:
    runtime = runtime_of(request)
    config = runtime.config
    email = str(form.get("email") or "").strip().lower()
    if "@" not in email or len(email) > 320:
        return page(request, "sign_in.html", status_code=400, error="Enter the address you work from.")
    if not request.app.state.sign_in_limit.allow(client_key(request)):
        return page(request, "sign_in.html", status_code=429, error="Too many requests from here; try again later.")
    base = config.web.sign_in_base
    if base is None:  # the same answer for every address, so it tells nobody who works here
        log.warning("web: no sign-in link mailed: %s", config.web.no_link_address())
        return page(request, "sign_in.html", status_code=503, error=NO_ADDRESS)
    queued: list[OutboxItem] = []
    with transaction(request) as session:
        hour_ago = utcnow() - timedelta(hours=1)
        if (may_sign_in(session, config, email)
                and outbox_count_since(session, email, SIGN_IN_KIND, hour_ago) < config.web.sign_in_per_address_per_hour):
            url = sign_in_url(base, sign_in_token(config, email))
            queued.append(queue_sign_in_mail(session, runtime, email, url))
    deliver(queued)
    return page(request, "sign_in_sent.html", email=email)


@router.get("/sign-in/{token}", response_class=HTMLResponse)
def confirm_link(request: Request, token: str) -> Response:
    return page(request, "sign_in_confirm.html", token=token)


@router.post("/sign-in/{token}", response_class=HTMLResponse)
def use_link(request: Request, token: str, form: FormData = Depends(checked_form)) -> Response:
    config = runtime_of(request).config
    with transaction(request) as session:
        email = redeem_sign_in_token(session, config, token)
        allowed = email is not None and may_sign_in(session, config, email)
    if not allowed:
        return page(request, "sign_in.html", status_code=403,
                    error="This sign-in link is not valid: it expired, was used already, or was not made here. "
                          "Ask for a new one.")
    response = RedirectResponse("/", status_code=303)
    write_session(response, config, signed_in(email))
    return response


@router.post("/sign-out")
def sign_out(request: Request, form: FormData = Depends(checked_form)) -> Response:
    response = RedirectResponse("/sign-in", status_code=303)
    write_session(response, runtime_of(request).config, WebSession.anonymous())
    return response
