"""The OpenAPI document holds: every operation, fuzzed by schemathesis over HTTP, never answers 5xx and
always answers as the document says (status, content type, headers, body schema)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from gateway.core.runtime import Runtime
from tests.smtp_sink import SmtpSink
from tests.web.conftest import open_ticket
from tests.web.live import LiveApi, web_config

OPERATIONS = [
    ("GET", "/tickets"), ("GET", "/tickets/{ref}"), ("GET", "/tickets/{ref}/chain"),
    ("POST", "/tickets/{ref}/messages"), ("POST", "/tickets/{ref}/messages/upload"),
    ("POST", "/tickets/{ref}/status"), ("POST", "/tickets/{ref}/handoff"), ("POST", "/tickets/{ref}/recall"),
    ("POST", "/tickets/{ref}/rating"), ("GET", "/reports/partners"), ("GET", "/inbox"), ("GET", "/events"),
    ("GET", "/health"),
]


@pytest.fixture
def fuzzed(tmp_path: Path, sink: SmtpSink) -> Iterator[tuple[LiveApi, str]]:
    """A live API with tickets to find (VND-1 handed to PTN-1) and a write token of vendor."""
    runtime = Runtime.open(web_config(tmp_path, None, sink.port))
    try:
        with LiveApi(runtime) as live:
            open_ticket(live)
            token = live.token("vendor")
            assert live.client(token).post("/api/v1/tickets/VND-1/handoff", json={"partner": "partner"}).status_code == 201
            yield live, token
    finally:
        runtime.close()


@pytest.fixture
def api_schema(fuzzed: tuple[LiveApi, str]) -> schemathesis.BaseSchema:
    live, _ = fuzzed
    return schemathesis.openapi.from_url(f"{live.base_url}/api/v1/openapi.json")


def test_the_document_lists_every_operation(fuzzed: tuple[LiveApi, str]) -> None:
    live, _ = fuzzed
    document = live.client().get("/api/v1/openapi.json").json()
    operations = {(method.upper(), path) for path, item in document["paths"].items() for method in item}
    assert operations == set(OPERATIONS)


@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=[f"{m} {p}" for m, p in OPERATIONS])
def test_every_operation_answers_as_documented(method: str, path: str, api_schema: schemathesis.BaseSchema,
                                               fuzzed: tuple[LiveApi, str]) -> None:
    """schemathesis' Python API (its pytest plugin does not run under this pytest), one operation per test."""
    live, token = fuzzed
    operation = api_schema[path][method]

    @given(case=operation.as_strategy())
    @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    def answers_as_documented(case: schemathesis.Case) -> None:
        if case.path_parameters and case.path_parameters.get("ref", "").endswith("-1"):
            case.path_parameters["ref"] = "VND-1"  # also act on a real ticket, not only on missing ones
        case.call_and_validate(base_url=f"{live.base_url}/api/v1", headers={"Authorization": f"Bearer {token}"})

    answers_as_documented()
