"""The Partners page in Chromium at common widths: its figure boxes wrap inside their card, nothing overflows."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest
from sqlalchemy import select

from gateway.core.runtime import Runtime
from gateway.web.auth import sign_in_token
from storage.deadline_models import Deadline
from storage.models import Link
from tests.conftest import demo_config
from tests.flows.world import customer_writes, dana_forwards_to_partner
from tests.web.browser import launch
from tests.web.desk_client import start_desk

WIDTHS = (1024, 1360, 1920)

# How far the document scrolls sideways, and how far each figure box reaches past its card's padding (CSS pixels).
_OVERFLOW = """() => ({
    page: document.documentElement.scrollWidth - document.documentElement.clientWidth,
    boxes: [...document.querySelectorAll('.figure')].map(box => {
        const card = box.closest('.card'), style = getComputedStyle(card);
        const outer = card.getBoundingClientRect(), inner = box.getBoundingClientRect();
        return Math.max(outer.left + parseFloat(style.paddingLeft) - inner.left,
                        inner.right - (outer.right - parseFloat(style.paddingRight)));
    }),
})"""


@pytest.fixture
def desk(tmp_path: Path) -> Iterator[tuple[str, str]]:
    """The desk with VND-1 handed to Partner GmbH under terms (all six figures shown); its URL, dana's sign-in link."""
    runtime = Runtime.open(demo_config(tmp_path))
    with ExitStack() as stack:
        stack.callback(runtime.close)
        base = start_desk(stack, runtime)
        customer_writes(runtime)
        dana_forwards_to_partner(runtime)
        with runtime.db.transaction() as session:
            link = session.scalar(select(Link))
            for kind, state in (("accept", "breached"), ("resolve", "stopped")):
                session.add(Deadline(link_id=link.id, kind=kind, state=state, allowed_seconds=3600.0,
                                     spent_seconds=3600.0, terms={}))
        yield base, f"{base}/sign-in/{sign_in_token(runtime.config, 'dana@vendor.example')}"


def test_no_figure_box_overflows_at_common_widths(desk: tuple[str, str]) -> None:
    base, sign_in_link = desk
    with launch() as browser:
        page = browser.page()
        page.goto(sign_in_link)
        page.click("#continue")
        page.wait_for_url(f"{base}/")
        measured = {}
        for width in WIDTHS:
            page.set_viewport_size({"width": width, "height": 900})
            page.goto(f"{base}/partners")
            assert page.locator(".figure").count() == 6
            measured[width] = page.evaluate(_OVERFLOW)
    overflowing = {width: m for width, m in measured.items() if m["page"] > 0 or max(m["boxes"]) > 0.5}
    assert overflowing == {}
