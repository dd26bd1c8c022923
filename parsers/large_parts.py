"""Keep huge encoded bodies out of the MIME parser.

Python's feed parser splits a body into one string per line and joins them
again, which costs several times the size of a big attachment.  Before
parsing, long runs of base64-looking lines are cut out of the raw bytes and
replaced by a short placeholder line; the part that ends up holding the
placeholder is then decoded straight from the raw bytes in slices, hashing as
it goes, so a 50 MB attachment costs about its decoded size at most (and
nothing when it is over the size limit).
"""

from __future__ import annotations

import binascii
import hashlib
import io
import re
from dataclasses import dataclass

# Raw messages below this size are parsed as they are: lifting only pays off
# for big bodies, and small mail must stay on the fastest path.
LIFT_FROM_BYTES = 2 * 1024 * 1024
_MIN_RUN = 256 * 1024
# One character class, no groups: the regex engine then scans in constant
# memory (a repeated group would keep state per line).
_RUN = re.compile(rb"[A-Za-z0-9+/=\r\n]{%d,}" % _MIN_RUN)
_TOKEN = re.compile(rb"RELAYDESKLIFTED([0-9]{8})")
_SLICE = 4 * 1024 * 1024  # raw bytes decoded per step, cut back to a line end


@dataclass(frozen=True)
class Lifted:
    """Where a lifted run lives in the original raw bytes."""

    start: int
    end: int


@dataclass(frozen=True)
class Streamed:
    """A decoded body: size and sha256 always, bytes only when kept."""

    size: int
    sha256: str
    content: bytes | None


def lift(raw: bytes) -> tuple[bytes, dict[str, Lifted]]:
    """Raw bytes with long base64 runs replaced by placeholder lines."""
    if len(raw) < LIFT_FROM_BYTES:
        return raw, {}
    pieces: list[bytes] = []
    lifted: dict[str, Lifted] = {}
    position = 0
    for match in _RUN.finditer(raw):
        start, end = _whole_lines(raw, match.start(), match.end())
        if end - start < _MIN_RUN:
            continue
        token = b"RELAYDESKLIFTED%08d" % len(lifted)
        newline = b"\r\n" if raw[end - 2:end] == b"\r\n" else b"\n"
        pieces += [raw[position:start], token, newline]
        lifted[token.decode("ascii")] = Lifted(start, end)
        position = end
    if not lifted:
        return raw, {}
    pieces.append(raw[position:])
    return b"".join(pieces), lifted


def _whole_lines(raw: bytes, start: int, end: int) -> tuple[int, int]:
    """Shrink a match to whole body lines: after the header/body blank line, up to the last newline."""
    if start > 0 and raw[start - 1:start] != b"\n":
        newline = raw.find(b"\n", start, end)
        start = newline + 1 if newline >= 0 else end
    while start < end and raw[start:start + 1] in (b"\r", b"\n"):
        start += 1
    last = raw.rfind(b"\n", start, end)
    return start, (last + 1 if last >= 0 else start)


def placeholder_of(payload: str, lifted: dict[str, Lifted]) -> Lifted | None:
    """The lifted run when a part's whole payload is one placeholder."""
    if not lifted or len(payload) > 40:
        return None
    return lifted.get(payload.strip())


def restore(payload: str, raw: bytes, lifted: dict[str, Lifted]) -> str:
    """Payload text with any placeholders put back (a run that was only part of a body)."""
    if not lifted or "RELAYDESKLIFTED" not in payload:
        return payload

    def original(match: re.Match[str]) -> str:
        run = lifted.get(match.group(0))
        return raw[run.start:run.end].decode("ascii") if run else match.group(0)

    return re.sub(_TOKEN.pattern.decode("ascii"), original, payload)


def stream_base64(raw: bytes, run: Lifted, keep_up_to: int) -> Streamed:
    """Decode a base64 run slice by slice; keep the bytes only up to `keep_up_to`."""
    digest = hashlib.sha256()
    kept: io.BytesIO | None = io.BytesIO()
    size = 0
    carry = b""
    position = run.start
    view = memoryview(raw)
    while position < run.end:
        stop = min(run.end, position + _SLICE)
        if stop < run.end:
            newline = raw.rfind(b"\n", position, stop)
            stop = newline + 1 if newline > position else stop
        alphabet = carry + bytes(view[position:stop]).translate(None, b"\r\n\t ")
        usable = len(alphabet) - len(alphabet) % 4 if stop < run.end else len(alphabet)
        carry = alphabet[usable:]
        chunk = _b64(alphabet[:usable])
        digest.update(chunk)
        size += len(chunk)
        if kept is not None:
            if size <= keep_up_to:
                kept.write(chunk)
            else:
                kept = None  # over the limit: stop holding bytes, keep hashing
        position = stop
    return Streamed(size, digest.hexdigest(), kept.getvalue() if kept is not None else None)


def stream_raw(raw: bytes, run: Lifted, keep_up_to: int, quoted_printable: bool = False) -> Streamed:
    """A lifted run that was not base64-encoded: its bytes (QP-decoded if so labelled).

    The line break before the next boundary belongs to the boundary (RFC 2046).
    """
    end = run.end - (2 if raw[run.end - 2:run.end] == b"\r\n" else 1)
    data = raw[run.start:end]
    if quoted_printable:
        data = binascii.a2b_qp(data)
    return Streamed(len(data), hashlib.sha256(data).hexdigest(), data if len(data) <= keep_up_to else None)


def _b64(data: bytes) -> bytes:
    """Lenient base64: stray padding in the middle or a short tail must not lose the rest."""
    try:
        return binascii.a2b_base64(data)
    except binascii.Error:
        cleaned = data.replace(b"=", b"")
        cleaned = cleaned[: len(cleaned) - len(cleaned) % 4] if len(cleaned) % 4 == 1 else cleaned
        try:
            return binascii.a2b_base64(cleaned + b"=" * (-len(cleaned) % 4))
        except binascii.Error:
            return b""
