"""The API's Swagger UI at /api/v1/docs works with no way out of the network: its assets come from the desk."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import httpx
import pytest

from gateway.core.runtime import Runtime
from gateway.web.app import SECURITY_HEADERS
from tests.conftest import demo_config
from tests.web.browser import launch
from tests.web.desk_client import start_desk

DOCS = "/api/v1/docs"
_REFERENCES = re.compile(r'(?:src|href)="([^"]+)"')


@pytest.fixture(scope="module")
def desk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The desk of the demo world on SQLite, on a free port; its base URL."""
    runtime = Runtime.open(demo_config(tmp_path_factory.mktemp("docs")))
    with ExitStack() as stack:
        stack.callback(runtime.close)
        yield start_desk(stack, runtime)


def test_the_docs_page_names_no_other_host_and_its_assets_are_served(desk: str) -> None:
    with httpx.Client(base_url=desk, timeout=30) as client:
        page = client.get(DOCS)
        assert page.status_code == 200
        assert not re.search(r"https?://", page.text), "no absolute URL: nothing is loaded from elsewhere"
        references = _REFERENCES.findall(page.text)
        assert {Path(urlsplit(ref).path).suffix for ref in references} >= {".js", ".css"}
        for ref in references:
            asset = client.get(urljoin(page.url.path, ref))
            assert asset.status_code == 200 and asset.content, ref
            assert asset.headers["x-content-type-options"] == "nosniff", "the desk's headers cover the assets too"
        for name, value in SECURITY_HEADERS.items():
            assert page.headers[name] == value


def test_swagger_ui_lists_the_operations_with_the_network_unreachable(desk: str) -> None:
    refused: list[str] = []

    def only_the_desk(route) -> None:  # type: ignore[no-untyped-def]
        if route.request.url.startswith(f"{desk}/"):
            route.continue_()
        else:
            refused.append(route.request.url)
            route.abort("internetdisconnected")

    document = httpx.get(f"{desk}/api/v1/openapi.json", timeout=30).json()
    operations = {(method.upper(), path) for path, item in document["paths"].items() for method in item}
    with launch() as browser:
        page = browser.page()
        page.route("**/*", only_the_desk)
        page.goto(f"{desk}{DOCS}")
        page.wait_for_selector(".opblock")
        blocks = page.locator(".opblock")
        shown = {(block.locator(".opblock-summary-method").inner_text(),
                  block.locator(".opblock-summary-path").inner_text().replace("\u200b", ""))  # its break hints
                 for block in blocks.all()}
    assert shown == operations and len(operations) > 10
    assert refused == []
