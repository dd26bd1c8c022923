"""Partner fingerprints: service-desk notifications thread by the partner's own id."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from gateway.core.runtime import Runtime
from tests.pipeline.mail import config_with, deliver, mail, ticket


def test_servicenow_incident_opens_one_ticket_and_threads_its_updates(runtime) -> None:
    headers = {"X-ServiceNow-Generated": "true"}
    desk = "BigCorp IT <servicedesk@bigcorp.example>"
    deliver(runtime, mail(sender=desk, subject="Incident INC0012345 assigned to Vendor", headers=headers))
    deliver(runtime, mail(sender=desk, subject="INC0012345 updated: waiting for parts", headers=headers))
    vnd1 = ticket(runtime, "VND-1")
    assert vnd1.external_id == "servicenow:INC0012345" and len(vnd1.messages) == 2


def test_incident_number_without_the_header_is_just_a_new_ticket(runtime) -> None:
    deliver(runtime, mail(subject="About INC0012345"))
    deliver(runtime, mail(subject="About INC0012345 again"))
    assert ticket(runtime, "VND-1").external_id is None
    assert ticket(runtime, "VND-2").subject == "About INC0012345 again"


def test_jira_issue_key_threads(runtime) -> None:
    headers = {"X-JIRA-FingerPrint": "4f2a"}
    sender = "Jira <jira@bigcorp.example>"
    deliver(runtime, mail(sender=sender, subject="[JIRA] (OPS-12) Printer fleet outage", headers=headers))
    deliver(runtime, mail(sender=sender, subject="[JIRA] (OPS-12) Printer fleet outage - comment", headers=headers))
    deliver(runtime, mail(sender=sender, subject="[JIRA] (OPS-13) Other issue", headers=headers))
    assert ticket(runtime, "VND-1").external_id == "jira:OPS-12" and len(ticket(runtime, "VND-1").messages) == 2
    assert ticket(runtime, "VND-2").external_id == "jira:OPS-13"


@pytest.fixture
def profiled_runtime(tmp_path: Path) -> Iterator[Runtime]:
    profile = {"name": "acme", "header": "X-Acme-Desk", "header_pattern": "^yes$", "id_pattern": r"Case #(\d+)"}
    rt = Runtime.open(config_with(tmp_path, fingerprints=[profile]))
    yield rt
    rt.close()


def test_configured_profile_threads_by_header_and_id(profiled_runtime) -> None:
    sender = "desk@acme.example"
    deliver(profiled_runtime, mail(sender=sender, subject="Case #881 opened", headers={"X-Acme-Desk": "yes"}))
    deliver(profiled_runtime, mail(sender=sender, subject="Case #881 closed", headers={"X-Acme-Desk": "yes"}))
    deliver(profiled_runtime, mail(sender=sender, subject="Case #881 closed", headers={"X-Acme-Desk": "no"}))
    vnd1 = ticket(profiled_runtime, "VND-1")
    assert vnd1.external_id == "acme:881" and len(vnd1.messages) == 2
    assert ticket(profiled_runtime, "VND-2").external_id is None
