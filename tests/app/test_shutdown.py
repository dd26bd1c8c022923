"""A stop that hangs is bounded: the process ends and says where it was stuck."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

HUNG_CLEANUP = """
import threading, time
from gateway.app import serve
threading.Timer(0.3, lambda: print("ready", flush=True)).start()
serve.wait_for_stop_signal()
print("stopping", flush=True)
time.sleep(60)  # a cleanup that never finishes
"""


def _start(code: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def test_a_shutdown_past_its_grace_time_exits_with_every_threads_stack() -> None:
    child = _start("import time\nfrom gateway.app.process import bound_shutdown\nbound_shutdown(0.5)\n"
                   "def stuck_in_cleanup():\n    time.sleep(60)\nstuck_in_cleanup()\n")
    started = time.monotonic()
    _, err = child.communicate(timeout=30)
    assert child.returncode == 1 and time.monotonic() - started < 20
    assert "Timeout" in err and "stuck_in_cleanup" in err


def test_a_second_signal_stops_at_once() -> None:
    child = _start(HUNG_CLEANUP)
    try:
        assert child.stdout.readline().strip() == "ready"
        child.send_signal(signal.SIGTERM)
        assert child.stdout.readline().strip() == "stopping"
        child.send_signal(signal.SIGTERM)
        _, err = child.communicate(timeout=20)
    finally:
        child.kill()
    assert child.returncode == 1
    assert "received SIGTERM again: stopping now" in err
    assert "most recent call first" in err
