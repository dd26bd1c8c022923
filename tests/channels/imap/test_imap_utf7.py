"""Folder names in IMAP's modified UTF-7 (RFC 3501 §5.1.3); the examples are the RFC's and real clients'."""

from __future__ import annotations

import pytest

from gateway.channels.imap.utf7 import encode_folder


@pytest.mark.parametrize(("name", "wire"), [
    ("INBOX", "INBOX"),
    ("Sent Items", "Sent Items"),
    ("R&D", "R&-D"),
    ("~peter/mail/台北/日本語", "~peter/mail/&U,BTFw-/&ZeVnLIqe-"),  # RFC 3501 §5.1.3
    ("Отправленные", "&BB4EQgQ,BEAEMAQyBDsENQQ9BD0ESwQ1-"),
    ("Gelöschte Elemente", "Gel&APY-schte Elemente"),
    ("😀", "&2D3eAA-"),  # outside the BMP: a UTF-16 surrogate pair
])
def test_encode_folder(name: str, wire: str) -> None:
    assert encode_folder(name) == wire
