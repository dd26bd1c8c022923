"""Corpus adapters for bench/corpus.py: one module per corpus folder.

Each module defines `NAME` (the folder under ../shared/corpus) and
`run(corpus_dir: Path) -> list[CaseResult]`.
"""
