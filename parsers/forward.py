"""Forward detection: the forwarder's note and the recovered original."""

from __future__ import annotations

from parsers.message import Forward


def detect_forward(subject: str, text: str) -> Forward | None:
    """Return the forward found in `text`, or None when it is not a forward."""
    return None
