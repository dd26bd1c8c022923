"""An HTTP client of the web desk as a browser uses it: cookies kept, form tokens read from the pages."""

from __future__ import annotations

import re
from contextlib import ExitStack
from dataclasses import dataclass

import httpx

from gateway.core.config import Config
from gateway.core.runtime import Runtime
from gateway.web.auth import sign_in_token
from gateway.web.server import start_web_desk

_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def form_token(page: httpx.Response) -> str:
    found = _CSRF.search(page.text)
    assert found is not None, f"no form token on {page.url}"
    return found.group(1)


@dataclass
class Desk:
    """A client of one running web desk."""

    base: str
    client: httpx.Client

    def get(self, path: str) -> httpx.Response:
        return self.client.get(path)

    def post(self, path: str, data: dict[str, str] | None = None, *, token: str | None = None,
             origin: str | None = None) -> httpx.Response:
        """A form post from the desk's own pages (its Origin and the session's form token) unless told otherwise."""
        form = dict(data or {})
        form.setdefault("csrf", token if token is not None else self.token())
        return self.client.post(path, data=form, headers={"Origin": origin or self.base})

    def token(self) -> str:
        return form_token(self.client.get("/sign-in", follow_redirects=True))

    def sign_in(self, config: Config, email: str) -> httpx.Response:
        """Open a fresh sign-in link for `email` and press its button; returns the answer to the press."""
        link = f"/sign-in/{sign_in_token(config, email)}"
        return self.post(link, token=form_token(self.client.get(link)))


def start_desk(stack: ExitStack, runtime: Runtime) -> str:
    """The desk of `runtime` on a free port, stopped with `stack`; its base URL."""
    return start_web_desk(stack, runtime).rpartition(" ")[2]


def client(stack: ExitStack, base: str) -> Desk:
    return Desk(base, stack.enter_context(httpx.Client(base_url=base, follow_redirects=False, timeout=30)))
