"""`relaydesk web` alone (the scale-out process) and `relaydesk web-link`: a printed link signs in there."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx

from tests.e2e.harness import free_port, wait_until
from tests.e2e.processes import REPO, GatewayProcess, write_config
from tests.web.desk_client import form_token


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def test_a_printed_link_signs_in_to_a_separate_web_process(tmp_path: Path) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    config = write_config(tmp_path / "relaydesk.toml", tmp_path / "data", free_port(), free_port(),
                          web={"listen": f"127.0.0.1:{port}"})
    cli = [sys.executable, "-m", "gateway.cli.main"]
    refused = subprocess.run([*cli, "web-link", "mallory@evil.example", "--config", str(config)],
                             cwd=REPO, capture_output=True, text=True, timeout=60)
    assert refused.returncode == 1 and "no agent" in refused.stderr
    printed = subprocess.run([*cli, "web-link", "Dana@Vendor.example", "--config", str(config)],
                             cwd=REPO, capture_output=True, text=True, timeout=60, check=True)
    link = printed.stdout.strip()
    assert link.startswith(f"{base}/sign-in/"), "without base_url the link points at web.listen"
    anywhere = write_config(tmp_path / "anywhere.toml", tmp_path / "data", free_port(), free_port(),
                            web={"listen": f"0.0.0.0:{port}"})
    nowhere = subprocess.run([*cli, "web-link", "dana@vendor.example", "--config", str(anywhere)],
                             cwd=REPO, capture_output=True, text=True, timeout=60)
    assert nowhere.returncode == 1 and "set web.base_url" in nowhere.stderr, "0.0.0.0 is no address for a link"

    web = GatewayProcess(config, "web", name="web").start()
    try:
        wait_until(lambda: _answers(f"{base}/sign-in"), 30, f"relaydesk web on {base}\n{web.log_tail()}")
        assert f"web desk on {base}" in web.log_tail()
        with httpx.Client(base_url=base, timeout=10) as browser:
            path = link.removeprefix(base)
            signed = browser.post(path, data={"csrf": form_token(browser.get(path))}, headers={"Origin": base})
            assert signed.status_code == 303
            chains = browser.get("/")
            assert chains.status_code == 200 and "Chains" in chains.text
    finally:
        assert web.stop() == 0
