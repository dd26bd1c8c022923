"""Corpus benchmark: relaydesk's parsers against third-party test corpora.

Every module in bench/corpora/ adapts one folder of ../shared/corpus (its
README says what the files mean) into cases; the reply libraries run on the
same cases in the same run.  Prints JSON: per corpus the number of cases,
how many we pass, our accuracy and each library's, then the overall figure.

    python bench/corpus.py [--failures] [--corpus NAME ...]
"""

from __future__ import annotations

import argparse
import importlib
import json
import pkgutil
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CORPUS_ROOT = REPO.parent / "shared" / "corpus"
sys.path.insert(0, str(REPO))

from bench.corpora.base import LIBRARIES, CaseResult  # noqa: E402  (needs the repo on sys.path)


def discover() -> list:
    """Every corpus module (those with NAME and run), sorted by name."""
    import bench.corpora as package

    modules = []
    for info in pkgutil.iter_modules(package.__path__):
        module = importlib.import_module(f"bench.corpora.{info.name}")
        if hasattr(module, "NAME") and hasattr(module, "run"):
            modules.append(module)
    return sorted(modules, key=lambda m: m.NAME)


def summarise(results: list[CaseResult]) -> dict:
    """Counts and accuracies for us and each library (None cases excluded for a library)."""
    passed = sum(r.ours for r in results)
    libs = {}
    for name in LIBRARIES:
        judged = [r.libs.get(name) for r in results if r.libs.get(name) is not None]
        libs[name] = {
            "cases": len(judged),
            "passed": sum(judged),
            "accuracy": _ratio(sum(judged), len(judged)),
        }
    return {"cases": len(results), "passed": passed, "accuracy": _ratio(passed, len(results)), "libs": libs}


def _ratio(passed: int, cases: int) -> float | None:
    return round(passed / cases, 4) if cases else None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--failures", action="store_true", help="print our failing cases with a short diff (stderr)")
    parser.add_argument("--corpus", action="append", help="only this corpus (repeatable)")
    parser.add_argument("--root", type=Path, default=CORPUS_ROOT, help="folder holding the corpus folders")
    args = parser.parse_args(argv)

    report: dict = {}
    everything: list[CaseResult] = []
    for module in discover():
        folder = args.root / module.NAME
        if (args.corpus and module.NAME not in args.corpus) or not folder.is_dir():
            continue
        started = time.perf_counter()
        results = module.run(folder)
        report[module.NAME] = summarise(results) | {"seconds": round(time.perf_counter() - started, 2)}
        everything.extend(results)
        if args.failures:
            for result in results:
                if not result.ours:
                    print(f"FAIL {module.NAME}: {result.case}\n  {result.detail}", file=sys.stderr)
    report["overall"] = summarise(everything)
    print(json.dumps(report, indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
