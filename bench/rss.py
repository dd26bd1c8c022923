"""Memory over a long run: does the embedded installation's resident set stay flat?

A `relaydesk serve` on the embedded default (SQLite, in-process broker,
its pipeline child) takes N customer mails over SMTP in chunks (the mix of
bench/e2e.py: new tickets, replies, forwards to a partner), every outbound
mail caught at a sink.  After each chunk the run waits until every inbox and
outbox row is applied and sent, then reads the resident set (VmRSS) of the
serve and its children, so a backlog never counts as growth.  The baseline
is the sample after the first chunk (caches and pools warm); the figures are
the last and the highest sample against it.  Prints JSON.

    python bench/rss.py [--mails 100000] [--chunk 5000]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.e2e import CLIENTS, installation, settle  # noqa: E402  (after the path tweak)
from bench.e2e_parts import TimingSink, mail_mix, process_tree, rss_mb, send_all  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mails", type=int, default=100_000)
    parser.add_argument("--chunk", type=int, default=5_000)
    args = parser.parse_args()
    samples: list[dict[str, float]] = []
    started = time.perf_counter()
    with TimingSink() as sink, installation("embedded", sink) as (port, processes, db_url):
        done = 0
        for run in range(1, args.mails // args.chunk + 1):
            sent = send_all(port, mail_mix(args.chunk, run=run), CLIENTS)
            if sent.errors:
                raise RuntimeError(f"SMTP clients failed: {sent.errors[:3]}")
            done += args.chunk
            settle(db_url, done, processes)
            pids = [pid for p in processes for pid in process_tree(p.pid)]
            samples.append({"mails": done, "rss_mb": rss_mb(pids), "processes": len(pids),
                            "elapsed_s": round(time.perf_counter() - started, 1)})
            print(f"after {done} mails: {samples[-1]}", file=sys.stderr, flush=True)
    base = samples[0]["rss_mb"]
    result = {
        "benchmark": "rss", "mails": done, "chunk": args.chunk, "samples": samples,
        "baseline_mb": base, "last_mb": samples[-1]["rss_mb"], "max_mb": max(s["rss_mb"] for s in samples),
        "last_over_baseline": round(samples[-1]["rss_mb"] / base, 3),
        "max_over_baseline": round(max(s["rss_mb"] for s in samples) / base, 3),
        "target": "last and max within 1.10 of the baseline (flat within 10 %)",
    }
    json.dump(result, sys.stdout, indent=2)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
