"""Benchmarks: `python -m bench.<area>`; each module exposes `run() -> list[dict]`."""
