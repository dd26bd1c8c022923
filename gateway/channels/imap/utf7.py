"""IMAP folder names in modified UTF-7 (RFC 3501 §5.1.3), as every IMAP server expects them.

"Отправленные" (a Russian client's Sent folder) goes over the wire as
"&BB4EQgQ,BEAEMAQyBDsENQQ9BD0ESwQ1-".  Printable ASCII stands for itself,
"&" is "&-", anything else is UTF-16 in base64 with "," for "/" between
"&" and "-".
"""

from __future__ import annotations

import base64


def encode_folder(name: str) -> str:
    out: list[str] = []
    pending: list[str] = []

    def flush() -> None:
        if pending:
            data = "".join(pending).encode("utf-16-be")
            out.append("&" + base64.b64encode(data).decode().rstrip("=").replace("/", ",") + "-")
            pending.clear()

    for char in name:
        if " " <= char <= "~":
            flush()
            out.append("&-" if char == "&" else char)
        else:
            pending.append(char)
    flush()
    return "".join(out)


def folder_argument(name: str) -> str:
    """The folder as a quoted command argument (names may hold spaces and quotes)."""
    return '"' + encode_folder(name).replace("\\", "\\\\").replace('"', '\\"') + '"'
