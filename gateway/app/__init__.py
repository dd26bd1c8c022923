"""Wiring: the task queue and its actors, `serve` and `worker`.  Everything is put together here."""
