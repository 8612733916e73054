"""Polling a condition in tests (not a timing assertion: the deadline only stops a hung test)."""

from __future__ import annotations

import time


def wait_for(condition, what: str, deadline: float = 120.0):
    """The first truthy value `condition()` returns, polled every 0.05 s; AssertionError after `deadline` s."""
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"gave up waiting for {what}")
