"""Parse benchmark: parse_message against email_reply_parser, same run, same mails.

Every raw mail or bare body in ../shared/corpus is parsed by
`parsers.parse_message` (bytes in: MIME, charsets, headers, classification,
reply splitting) and, as the baseline, its plain text is given to
`email_reply_parser.EmailReplyParser.parse_reply` (text in: reply splitting
only).  Each message is timed several times and its fastest run kept, which
filters out scheduler noise; the figure is the median over messages.

Memory: peak traced allocation (tracemalloc) while parsing a generated mail
with a 50 MB attachment, with a part limit high enough that the attachment's
bytes are kept (the worst case), and with the default limit.

    python bench/parse.py [--repeat 3]

Prints JSON: median_ms, baseline_median_ms, ratio, peak_bytes_50mb,
peak_ratio, plus the message count, the over-limit peak, and
split_reply_median_ms: our reply splitting alone on the baseline's text, the
like-for-like part of the comparison (the rest of median_ms is MIME,
charsets, headers, forwards and classification, which the baseline skips).
`ratio` is the figure the target names: the baseline is handed the plain
text already taken out of the mail, untimed.  For reference only,
baseline_from_bytes_median_ms / ratio_from_bytes time the baseline from the
same raw bytes parse_message gets (the stdlib's MIME parse to reach the
text, then the reply parser).  stdlib_floor_median_ms / floor_ratio time
the least any parse from bytes does before reply splitting: the stdlib's
fastest policy (compat32) reading the MIME tree, decoding the text parts and
reading From/To/Cc and Date, as a multiple of the baseline.
"""

from __future__ import annotations

import argparse
import base64
import email
import email.parser
import email.policy
import email.utils
import json
import os
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CORPUS = REPO.parent / "shared" / "corpus"
sys.path.insert(0, str(REPO))

from email_reply_parser import EmailReplyParser  # noqa: E402  (after the path tweak)

from parsers import ParseOptions, parse_message  # noqa: E402
from parsers.reply import split_reply  # noqa: E402

_NOT_MAIL = (".json", ".md", ".py", ".cs", ".rb")
# Folders of expected outputs (email_reply_trimmer), not inputs.
_EXPECTED_OUTPUTS = {"trimmed", "elided", "embedded", "before", "matchers"}
ATTACHMENT_BYTES = 50 * 1024 * 1024


def corpus_files(root: Path) -> list[Path]:
    """Every file of the corpus that is a mail or a body (no docs, licences, expectations)."""
    return sorted(
        path for path in root.rglob("*")
        if path.is_file() and not path.name.startswith(("LICENSE", "NOTICE", "README", "."))
        and path.suffix.lower() not in _NOT_MAIL and not _EXPECTED_OUTPUTS & set(path.relative_to(root).parts)
    )


def plain_text(raw: bytes) -> str:
    """What a text-only reply parser would be given: the plain body, or the file as text."""
    try:
        message = email.message_from_bytes(raw, policy=email.policy.default)
        if message.defects or not message.keys():
            raise ValueError("not a mail")
        body = message.get_body(preferencelist=("plain", "html"))
        if body is not None:
            return body.get_content()
    except Exception:  # a bare body or a mail the stdlib cannot read: use the bytes as text
        pass
    return raw.decode("utf-8", errors="replace")


_COMPAT32 = email.parser.BytesParser(policy=email.policy.compat32)


def stdlib_floor(raw: bytes) -> None:
    """The stdlib's cheapest reading of what any mail parser must read: MIME tree, text parts, addresses, date."""
    message = _COMPAT32.parsebytes(raw)
    email.utils.getaddresses([*message.get_all("from", []), *message.get_all("to", []), *message.get_all("cc", [])])
    date = message.get("date")
    if date:
        try:
            email.utils.parsedate_to_datetime(date)
        except (TypeError, ValueError):
            pass
    for part in message.walk():
        if part.get_content_maintype() == "text":
            part.get_payload(decode=True)


def fastest(call, repeat: int) -> float:
    """Fastest of `repeat` runs, in seconds."""
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        best = min(best, time.perf_counter() - started)
    return best


def timings(raws: list[bytes], repeat: int) -> dict[str, list[float]]:
    """Per-message seconds: whole parse, baseline, baseline from the bytes, our reply splitting alone, stdlib floor.

    Interleaved per message so all share the machine's conditions.
    """
    texts = [plain_text(raw) for raw in raws]
    times: dict[str, list[float]] = {"ours": [], "theirs": [], "theirs_from_bytes": [], "ours_split": [],
                                     "stdlib_floor": []}
    for raw, text in zip(raws, texts):
        times["ours"].append(fastest(lambda: parse_message(raw), repeat))
        times["theirs"].append(fastest(lambda: EmailReplyParser.parse_reply(text), repeat))
        times["theirs_from_bytes"].append(fastest(lambda: EmailReplyParser.parse_reply(plain_text(raw)), repeat))
        times["ours_split"].append(fastest(lambda: split_reply(text), repeat))
        times["stdlib_floor"].append(fastest(lambda: stdlib_floor(raw), repeat))
    return times


def big_mail(size: int) -> bytes:
    """A plain mail with one base64 attachment of `size` random bytes, CRLF lines."""
    payload = base64.encodebytes(os.urandom(size)).replace(b"\n", b"\r\n")
    return (
        b"From: Customer <customer@shop.example>\r\nTo: support@vendor.example\r\nSubject: logs\r\n"
        b"Date: Tue, 10 Mar 2026 10:00:00 +0000\r\nMessage-ID: <big@shop.example>\r\nMIME-Version: 1.0\r\n"
        b"Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n--b1\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
        b"Logs attached.\r\n--b1\r\nContent-Type: application/octet-stream\r\n"
        b"Content-Disposition: attachment; filename=\"logs.bin\"\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        + payload + b"--b1--\r\n"
    )


def peak_bytes(raw: bytes, options: ParseOptions) -> int:
    """Peak traced allocation while parsing `raw` (the input itself is not counted)."""
    tracemalloc.start()
    try:
        parsed = parse_message(raw, options)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert parsed.attachments and parsed.attachments[0].size == ATTACHMENT_BYTES
    return peak


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=3, help="runs per message; the fastest counts")
    args = parser.parse_args(argv)

    raws = [path.read_bytes() for path in corpus_files(CORPUS)]
    times = timings(raws, args.repeat)
    median_ms = statistics.median(times["ours"]) * 1000
    baseline_ms = statistics.median(times["theirs"]) * 1000
    from_bytes_ms = statistics.median(times["theirs_from_bytes"]) * 1000
    floor_ms = statistics.median(times["stdlib_floor"]) * 1000

    raw = big_mail(ATTACHMENT_BYTES)
    kept = peak_bytes(raw, ParseOptions(max_part_bytes=2 * ATTACHMENT_BYTES))
    over_limit = peak_bytes(raw, ParseOptions())
    print(json.dumps({
        "messages": len(raws),
        "median_ms": round(median_ms, 3),
        "baseline_median_ms": round(baseline_ms, 3),
        "ratio": round(median_ms / baseline_ms, 2) if baseline_ms else None,
        "peak_bytes_50mb": kept,
        "peak_ratio": round(kept / ATTACHMENT_BYTES, 2),
        "peak_bytes_50mb_over_limit": over_limit,
        "split_reply_median_ms": round(statistics.median(times["ours_split"]) * 1000, 3),
        "baseline_from_bytes_median_ms": round(from_bytes_ms, 3),
        "ratio_from_bytes": round(median_ms / from_bytes_ms, 2) if from_bytes_ms else None,
        "stdlib_floor_median_ms": round(floor_ms, 3),
        "floor_ratio": round(floor_ms / baseline_ms, 2) if baseline_ms else None,
    }, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
