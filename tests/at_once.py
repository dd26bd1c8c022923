"""Run calls in threads released together: races between workers, made likely."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any


def run_at_once(call: Callable[..., Any], args: Sequence[tuple[Any, ...]], timeout: float = 60.0) -> list[Any]:
    """`call(*a)` for each `a` in its own thread, all starting at one barrier; their results, in order.

    An exception in a thread is raised here, so a race that crashes a worker fails the test.
    """
    start = threading.Barrier(len(args), timeout=timeout)
    results: list[Any] = [None] * len(args)
    errors: list[BaseException] = []

    def run(index: int, arguments: tuple[Any, ...]) -> None:
        try:
            start.wait()
            results[index] = call(*arguments)
        except BaseException as exc:  # reported to the test below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i, a)) for i, a in enumerate(args)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)
    if errors:
        raise errors[0]
    return results
