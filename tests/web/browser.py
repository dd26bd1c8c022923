"""Debian's Chromium driven by Playwright, for the browser tests (no browser is ever downloaded)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.services import unavailable

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
VIEWPORT = {"width": 1360, "height": 860}


@dataclass
class Screenshots:
    """Saves full-page PNGs under `folder`."""

    folder: Path

    def take(self, page, name: str) -> None:  # type: ignore[no-untyped-def]
        self.folder.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(self.folder / f"{name}.png"), full_page=True)


class Browser:
    """One Chromium; each `page()` is a fresh context, as a separate person's browser."""

    def __init__(self, chromium) -> None:  # type: ignore[no-untyped-def]
        self._chromium = chromium

    def page(self):  # type: ignore[no-untyped-def]
        context = self._chromium.new_context(viewport=VIEWPORT, device_scale_factor=1)
        context.set_default_timeout(20_000)
        return context.new_page()

    @staticmethod
    def screenshots(folder: Path) -> Screenshots:
        return Screenshots(folder)


@contextmanager
def launch() -> Iterator[Browser]:
    """Chromium from /usr/bin, or the test skips (fails under CI) naming what is missing."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable("playwright is not installed (pip install -e '.[test]')")
    if not Path(CHROMIUM).exists() and shutil.which("chromium") is None:
        unavailable(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            yield Browser(chromium)
        finally:
            chromium.close()
