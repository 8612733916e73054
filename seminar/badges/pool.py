"""The process pool that renders badges: forkserver workers that die with the process that started them.

Workers come from multiprocessing's forkserver, so they are not children of the pool's owner: when the
owner is killed outright (SIGKILL, the OOM killer), nothing tells them, and they would wait for work
forever. So each worker holds the read end of a "lifeline" pipe whose only write end stays in the owner; a
watchdog thread in the worker reads it, gets end-of-file the moment the owner is gone (however it died),
and ends the worker. The forkserver then stops by itself: it runs until every process holding its
"alive" pipe (the owner and the workers it forked) has exited, and multiprocessing's resource tracker
follows it.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager, suppress
from multiprocessing.connection import Connection


@contextmanager
def process_pool(workers: int, *, preload: list[str], initializer: Callable[[], None]
                 ) -> Iterator[ProcessPoolExecutor]:
    """A pool of `workers` forkserver processes, each running `initializer` first; `preload` names the
    modules the forkserver imports once, so that workers start with them loaded (and with no inherited
    threads or database connections). The workers end with the pool, or with this process if it dies."""
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(preload)
    lifeline, keep_alive = context.Pipe(duplex=False)
    try:
        with ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=_start_worker,
                                 initargs=(lifeline, initializer)) as pool:
            yield pool
    finally:
        keep_alive.close()
        lifeline.close()


def _start_worker(lifeline: Connection, initializer: Callable[[], None]) -> None:
    threading.Thread(target=_exit_with_owner, args=(lifeline,), name="lifeline", daemon=True).start()
    initializer()


def _exit_with_owner(lifeline: Connection) -> None:
    """Blocks until the owner's end of the lifeline closes (nothing is ever sent), then ends this worker."""
    with suppress(EOFError, OSError):
        lifeline.recv_bytes()
    os._exit(1)
