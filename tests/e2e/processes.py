"""Run `relaydesk serve` / `relaydesk worker` as real processes for end-to-end tests.

Each process writes its log to a file next to the config, so a failing test
can show what the gateway said (`GatewayProcess.log_tail()`).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from gateway.core.config import load_config
from gateway.core.runtime import Runtime
from tests.conftest import demo_config_text
from tests.e2e.harness import announced_smtp, free_port, log_size

__all__ = ["GatewayProcess", "add_imap_mailbox", "free_port", "serving", "write_config"]

REPO = Path(__file__).resolve().parents[2]


def write_config(
    path: Path, data_dir: Path, smtp_port: int, sink_port: int, **sections: dict[str, Any]
) -> Path:
    """The demo world as a TOML file, with `section={key: value}` overriding or adding keys."""
    lines: list[str] = []
    current = ""
    for line in demo_config_text(data_dir, smtp_port, sink_port).splitlines():
        stripped = line.strip()
        if stripped.startswith("[") and not stripped.startswith("[["):
            current = stripped.strip("[]")
            lines.append(line)
            lines.extend(f"{key} = {_toml_value(value)}" for key, value in sections.get(current, {}).items())
            continue
        if stripped.startswith("[["):
            current = ""
        key = stripped.split("=", 1)[0].strip() if "=" in stripped and not stripped.startswith("#") else None
        if key is not None and key in sections.get(current, {}):
            continue
        lines.append(line)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def add_imap_mailbox(path: Path, host: str, port: int, user: str, password: str, **keys: Any) -> None:
    """Append an [[imap]] table (plain IMAP on `host:port`) with any further `keys` to the config at `path`."""
    lines = [f"{key} = {_toml_value(value)}" for key, value in {
        "account": "vendor", "host": host, "port": port, "security": "none", "user": user, "password": password,
        **keys}.items()]
    with path.open("a", encoding="utf-8") as config:
        config.write("\n[[imap]]\n" + "\n".join(lines) + "\n")


def _toml_value(value: Any) -> str:
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {_toml_value(v)}" for k, v in value.items()) + " }"
    return json.dumps(value)  # strings, numbers and booleans are spelled the same in TOML


class GatewayProcess:
    """One `relaydesk <command>` subprocess."""

    def __init__(self, config: Path, *args: str, name: str) -> None:
        self.argv = [sys.executable, "-m", "gateway.cli.main", *args, "--config", str(config)]
        self.log_path = config.parent / f"{name}.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> "GatewayProcess":
        self._log_offset = log_size(self.log_path)
        log = open(self.log_path, "ab")
        try:
            self.process = subprocess.Popen(self.argv, cwd=REPO, stdout=log, stderr=subprocess.STDOUT, env=os.environ.copy())
        finally:
            log.close()
        return self

    def wait_smtp(self, port: int, timeout: float = 30.0) -> None:
        """Block until this `serve` says it listens on `port`; fail with the log if it died."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                raise AssertionError(f"{self.argv[3]} exited with {self.process.returncode}\n{self.log_tail()}")
            if announced_smtp(self.log_path, self._log_offset, port):
                return
            time.sleep(0.05)
        raise AssertionError(f"SMTP on {port} not ready after {timeout}s\n{self.log_tail()}")

    def kill(self) -> None:
        """SIGKILL: no shutdown code runs, as in a power cut or the OOM killer."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait()

    def stop(self, timeout: float = 30.0) -> int | None:
        """SIGTERM and wait; SIGKILL if it does not stop in time."""
        if self.process is None:
            return None
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill()
        return self.process.returncode

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except FileNotFoundError:
            return "(no log)"


@contextmanager
def serving(config_path: Path, port: int) -> Iterator[tuple[GatewayProcess, Runtime]]:
    """`relaydesk serve` on `config_path` (ready on SMTP `port`) and a Runtime on its database to look at it;
    a failure shows the end of the server's log."""
    serve = GatewayProcess(config_path, "serve", name="serve")
    runtime = Runtime.open(load_config(config_path))
    try:
        serve.start().wait_smtp(port)
        yield serve, runtime
    except BaseException:
        print(serve.log_tail(80))
        raise
    finally:
        runtime.close()
        serve.stop()
